"""The nightly flow's recordings path on a Dask cluster, heard by the real Whisper tiny.en
(`make models`): three short English stereo calls synthesised with espeak-ng, judged on two
single-thread worker processes that each hold the `asr` resource (what `--dask-local 2
--asr-resource asr` starts), against PostgreSQL. Every stored row and the results file must be
those of the same calls heard by the flow in one process, one chunk after another (greedy
decoding, no sampling: the same audio is heard the same way anywhere), and a second run on the
cluster adds nothing."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qa-prefect-"))

from distributed import Client
from prefect.testing.utilities import prefect_test_harness

from flows.dask_runner import runner
from flows.nightly_qa import nightly_qa
from qa_pipeline.asr.whisper import models_loaded
from qa_pipeline.ingest.call_file import load_call
from testing import audio_synth as synth
from testing.audio_synth import RoleVoices, SynthOptions, Voice
from testing.dask_cluster import local_cluster
from testing.pg_schema import stored_rows
from testing.real_models import TINY_EN
from tests.conftest import ROOT, postgres_schema, require_real_model, require_tool

pytestmark = pytest.mark.slow  # a Prefect server, a Dask cluster, real ASR: about a minute
SAMPLES = ROOT / "samples" / "calls"
DAY = "2026-11-20"
ASR = "asr"
# The opening of each call (its first turns): 15 to 25 s of speech, enough for a verdict.
CALLS = {"en-s-002": 6, "en-s-003": 6, "en-s-004": 6}
# The English voices Whisper hears best here (as in test_real_hearing.py).
VOICES = RoleVoices(Voice("en-us+f3", pitch=60, speed=165), Voice("en-gb", pitch=35, speed=160))


@pytest.fixture(scope="module")
def tiny_en() -> str:
    return str(require_real_model(TINY_EN))


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def input_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The day's folder: each call's opening as a stereo WAV (agent left) and its sidecar (the
    sample's metadata without its transcript: the recording is to be heard)."""
    require_tool(synth.espeak_available(), "espeak-ng")
    root = tmp_path_factory.mktemp("calls")
    day = root / DAY
    day.mkdir()
    for sample, turns in CALLS.items():
        call = load_call(SAMPLES / f"{sample}.json")
        call = dataclasses.replace(call, segments=call.segments[:turns])
        synth.synthesize_call(call, day / f"{sample}.wav", SynthOptions(voices={"en": VOICES}))
        data = json.loads((SAMPLES / f"{sample}.json").read_text(encoding="utf-8"))
        for key in ("segments", "hangup_by", "duration_s"):
            data.pop(key)
        (day / f"{sample}.json").write_text(json.dumps(data), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def cluster() -> Iterator[Client]:
    """Two single-thread worker processes under nannies, each holding one `asr` unit (as
    `--dask-local 2 --asr-resource asr`, or `dask worker --nthreads 1 --resources asr=1` twice):
    both may hear at once. No dashboard."""
    options: dict[str, Any] = {
        "nthreads": 1,
        "memory_limit": "2GiB",
        "dashboard": False,
        "resources": {ASR: 1},
    }
    with local_cluster({"asr-0": options, "asr-1": options}) as client:
        yield client


@pytest.fixture(scope="module")
def databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL schemas, one per way of running (first: without PostgreSQL the
    test skips, or fails in CI, before any server or cluster starts)."""
    with postgres_schema() as one, postgres_schema() as other:
        yield one, other


def _run(flow: Any, input_root: Path, db: str, out: Path, model: str, **options: Any) -> Any:
    """One chunk per call, so that three chunks share two workers. Every process decodes on
    one thread (`asr_threads`): left to CTranslate2, the thread count follows OMP_NUM_THREADS,
    which Dask's nannies set to 1 and this process does not, and on an AMD EPYC the words heard
    changed with it."""
    return flow(
        str(input_root), DAY, None, db, str(out), chunk_size=1, asr_model=model, asr_threads=1,
        **options,
    )  # fmt: skip


def _said(row: dict[str, Any], role: str) -> str:
    return " ".join(line["text"] for line in row["transcript"] if line["role"] == role).lower()


def test_dask_hears_real_calls_as_one_process_does(
    databases: tuple[str, str],
    input_root: Path,
    tiny_en: str,
    harness: None,
    cluster: Client,
    tmp_path: Path,
) -> None:
    sequential_db, dask_db = databases
    started = time.perf_counter()
    result = _run(nightly_qa, input_root, sequential_db, tmp_path / "seq", tiny_en)
    sequential_s = time.perf_counter() - started
    sequential = Path(result["results"]).read_text(encoding="utf-8")
    stored = stored_rows(sequential_db)
    rows = {r["call_id"]: r for r in map(json.loads, sequential.splitlines())}
    assert sorted(rows) == sorted(CALLS)
    for call_id, row in rows.items():
        assert row["status"] == "ok", (call_id, row["error"])
        assert row["asr"]["model"] == tiny_en
        # words on both channels, each side's own (roles by channel)
        agent, customer = _said(row, "agent"), _said(row, "customer")
        assert len(agent.split()) >= 10 and len(customer.split()) >= 3, (call_id, agent, customer)
        assert "northwind" in agent and "northwind" not in customer, (call_id, agent, customer)

    flow = nightly_qa.with_options(
        task_runner=runner(cluster.cluster.scheduler_address, None, None)
    )
    started = time.perf_counter()
    result = _run(flow, input_root, dask_db, tmp_path / "dask", tiny_en, asr_resource=ASR)
    dask_s = time.perf_counter() - started
    assert result["chunks"] == 3 and result["failed"] == 0
    # the same words, verdicts, findings, tasks and scorecards as in one process
    assert Path(result["results"]).read_text(encoding="utf-8") == sequential
    assert stored_rows(dask_db) == stored
    loads = cluster.run(models_loaded)
    peak = cluster.run(resource.getrusage, resource.RUSAGE_SELF)  # ru_maxrss: KiB
    # Run again: each recording is found stored (its fingerprint, the rules and model
    # version) and reused, so nothing is stored twice and the results are the same.
    started = time.perf_counter()
    again = _run(flow, input_root, dask_db, tmp_path / "again", tiny_en, asr_resource=ASR)
    again_s = time.perf_counter() - started
    assert Path(again["results"]).read_text(encoding="utf-8") == sequential
    assert stored_rows(dask_db) == stored
    # each worker that heard loaded the model once, whatever it heard after (one worker may
    # have taken all three chunks while the other was still starting)
    assert sorted(loads.values()) in ([1, 1], [0, 1]), loads
    assert cluster.run(models_loaded) == loads  # the re-run loaded nothing more
    mib = sorted(usage.ru_maxrss // 1024 for usage in peak.values())
    print(
        f"\nsequential {sequential_s:.1f} s, 2 Dask workers {dask_s:.1f} s (again {again_s:.1f} s)"
    )
    print(f"workers' peak RSS {mib} MiB, models loaded {sorted(loads.values())}")
