"""The nightly flow on a real Dask cluster (two worker processes started here, one holding the
`asr` resource) against PostgreSQL, compared row for row with the sequential run of the same
batch: transcripts, bad files and recordings heard by a random-weight Whisper. A worker killed
mid-chunk costs nothing; the `asr` concurrency limit holds across workers; each worker loads
the model once."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qa-prefect-"))
# The workers inherit the environment when the cluster starts: where the drills' files are.
os.environ["QA_PIPELINE_DRILLS"] = tempfile.mkdtemp(prefix="qa-dask-drills-")

from distributed import Client
from prefect.testing.utilities import prefect_test_harness

from flows.dask_runner import runner
from flows.nightly_qa import nightly_qa
from qa_pipeline.asr.whisper import models_loaded
from qa_pipeline.ingest.call_file import load_call
from testing import audio_synth as synth
from testing.dask_cluster import local_cluster
from testing.pg_schema import stored_rows
from testing.random_model import build_random_whisper
from tests.conftest import ROOT, postgres_schema, require_tool

DRILLS = Path(os.environ["QA_PIPELINE_DRILLS"])
pytestmark = pytest.mark.slow  # a Prefect server, a Dask cluster, synthesised recordings
SAMPLES = ROOT / "samples" / "calls"
DAY = "2026-11-20"
CHUNK = 2  # 3 recordings and 14 transcript files: 2 + 7 chunks
ASR = "asr"


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="module")
def cluster() -> Iterator[Client]:
    """Two single-thread worker processes under nannies (a killed one is restarted): "hear"
    holds one `asr` unit, "judge" none. Small: 1 GiB each, no dashboard."""
    options: dict[str, Any] = {"nthreads": 1, "memory_limit": "1GiB", "dashboard": False}
    workers = {"hear": options | {"resources": {ASR: 1}}, "judge": options}
    with local_cluster(workers) as client:
        yield client


def _sidecar(path: Path, sample: str, call_id: str) -> None:
    """The sample's metadata without its transcript: the recording is to be heard."""
    data = json.loads((SAMPLES / f"{sample}.json").read_text(encoding="utf-8"))
    for key in ("segments", "hangup_by", "duration_s"):
        data.pop(key)
    path.write_text(json.dumps(data | {"call_id": call_id}, ensure_ascii=False), "utf-8")


@pytest.fixture(scope="module")
def input_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The samples, four bad files and three recordings (one of them not audio)."""
    require_tool(synth.espeak_available(), "espeak-ng")
    root = tmp_path_factory.mktemp("calls")
    day = root / DAY
    shutil.copytree(SAMPLES, day)
    (day / "broken.json").write_text("{", encoding="utf-8")
    (day / "empty.json").write_bytes(b"")
    (day / "latin1.json").write_bytes('{"call_id": "é"}'.encode("latin-1"))
    stray = json.loads((SAMPLES / "en-s-001.json").read_text(encoding="utf-8"))
    stray |= {"call_id": "stray", "campaign": "no-such-campaign"}
    (day / "stray.json").write_text(json.dumps(stray), encoding="utf-8")
    for sample, call_id in (("en-s-002", "rec-en"), ("zh-s-006", "rec-zh")):
        call = load_call(SAMPLES / f"{sample}.json")
        call = dataclasses.replace(call, segments=call.segments[:4])
        synth.synthesize_call(call, day / f"{call_id}.wav")
        _sidecar(day / f"{call_id}.json", sample, call_id)
    (day / "rec-noise.wav").write_bytes(np.random.default_rng(1).bytes(40_000))
    _sidecar(day / "rec-noise.json", "en-s-002", "rec-noise")
    return root


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(build_random_whisper(tmp_path_factory.mktemp("whisper") / "test-tiny", "test-tiny"))


def _run(flow: Any, input_root: Path, db: str, out: Path, model: str, **options: Any) -> Any:
    return flow(
        str(input_root), DAY, None, db, str(out), chunk_size=CHUNK, asr_model=model, **options
    )


@dataclasses.dataclass(frozen=True)
class Baseline:
    rows: str
    stored: dict[str, list[str]]


@pytest.fixture(scope="module")
def sequential(
    harness: None, input_root: Path, model_dir: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Baseline]:
    with postgres_schema() as db:
        result = _run(nightly_qa, input_root, db, tmp_path_factory.mktemp("seq"), model_dir)
        yield Baseline(Path(result["results"]).read_text(encoding="utf-8"), stored_rows(db))


def _on_dask(client: Client) -> Any:
    return nightly_qa.with_options(task_runner=runner(client.cluster.scheduler_address, None, None))


def _worker_pids(client: Client) -> dict[str, int]:
    """Worker name -> process id, now (a restarted worker has a new one)."""
    pids = client.run(os.getpid)
    names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
    return {names[a]: pid for a, pid in pids.items()}


def _spans() -> list[tuple[int, float, float]]:
    path = DRILLS / "spans"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return [(int(p), float(a), float(b)) for p, a, b in (line.split() for line in lines)]


def _task_runs(flow_run_id: str) -> list[tuple[str, str]]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [(run.name, run.state_type.value if run.state_type else "") for run in runs]


def _flow_logs(flow_run_id: str, page: int = 200) -> list[str]:
    """Every log line of the flow run, page by page (the API answers one page at a time)."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    wanted = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    messages: list[str] = []
    with get_client(sync_client=True) as client:
        while batch := client.read_logs(wanted, limit=page, offset=len(messages)):
            messages += [log.message for log in batch]
    return messages


def _logged(flow_run_id: str, *parts: str, wait_s: float = 30.0) -> list[str]:
    """The flow run's logs once a line holding every part is among them: a Dask worker ships
    its task's log lines to the API in the background, so they may land after the flow ends."""
    deadline = time.monotonic() + wait_s
    while True:
        logs = _flow_logs(flow_run_id)
        if any(all(part in m for part in parts) for m in logs) or time.monotonic() > deadline:
            return logs
        time.sleep(0.5)


def test_dask_run_matches_sequential(
    sequential: Baseline, cluster: Client, input_root: Path, model_dir: str, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in sequential.rows.splitlines()]
    assert len(rows) == 17 and len({r["call_id"] for r in rows}) == 17
    failed = {r["call_id"] for r in rows if r["status"] == "failed"}
    assert failed == {"broken", "empty", "latin1", "stray", "rec-noise"}
    assert {r["call_id"] for r in rows if r.get("asr")} == {"rec-en", "rec-zh"}
    with postgres_schema() as db:
        result = _run(
            _on_dask(cluster), input_root, db, tmp_path, model_dir,
            asr_resource=ASR, chunk_hook="testing.chunk_hooks:note_span",
        )  # fmt: skip
        assert Path(result["results"]).read_text(encoding="utf-8") == sequential.rows
        assert stored_rows(db) == sequential.stored
    # Both chunks that heard ran on the worker holding the resource, which loaded the model
    # once for the two (the first test on this cluster: its workers are fresh); the other
    # worker loaded none.
    pids = _worker_pids(cluster)
    spans = _spans()
    assert len(spans) == 2 and {pid for pid, _, _ in spans} == {pids["hear"]}
    names = {a: w["name"] for a, w in cluster.scheduler_info()["workers"].items()}
    assert {names[a]: n for a, n in cluster.run(models_loaded).items()} == {"hear": 1, "judge": 0}


def test_killed_worker_costs_nothing(
    sequential: Baseline, cluster: Client, input_root: Path, model_dir: str, tmp_path: Path
) -> None:
    """Transcript files go in name order, two a chunk, after the recordings' chunks 0000 and
    0001: chunk 0006 is zh-s-001 and zh-s-002. Its worker dies judging zh-s-002, once it has
    stored zh-s-001."""
    (DRILLS / "kill-at").write_text("zh-s-002", encoding="utf-8")
    before = _worker_pids(cluster)
    with postgres_schema() as db:
        state = _run(
            _on_dask(cluster), input_root, db, tmp_path, model_dir,
            asr_resource=ASR, chunk_hook="testing.chunk_hooks:kill_once", return_state=True,
        )  # fmt: skip
        assert state.is_completed()
        result = state.result()
        assert Path(result["results"]).read_text(encoding="utf-8") == sequential.rows
        assert stored_rows(db) == sequential.stored  # nothing lost, nothing twice
    assert (DRILLS / "kill-at.fired").exists()
    assert _worker_pids(cluster).items() != before.items()  # one worker is a new process
    # Dask ran the lost chunk's task run again under its id: Prefect shows 9 chunks, each
    # Completed, and the retry in the flow run's logs.
    runs = _task_runs(str(state.state_details.flow_run_id))
    assert sum(name.startswith("judge_chunk") for name, _ in runs) == 9
    assert all(kind == "COMPLETED" for _, kind in runs), runs
    logs = _logged(str(state.state_details.flow_run_id), "an earlier attempt stopped midway",
                   "chunk-0006")  # fmt: skip
    assert any("an earlier attempt stopped midway" in m and "chunk-0006" in m for m in logs), logs


def test_asr_limit_holds_across_workers(
    harness: None, cluster: Client, input_root: Path, model_dir: str, tmp_path: Path
) -> None:
    """Without the resource both workers may hear; with the `asr` limit at 1 they take turns."""
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=ASR, limit=1))
    try:
        with postgres_schema() as db:
            root = tmp_path / "calls"
            (root / DAY).mkdir(parents=True)
            for path in (input_root / DAY).glob("rec-[ez]*"):  # the two that are speech
                shutil.copy(path, root / DAY / path.name)
            flow = _on_dask(cluster)  # no resource asked: both workers may hear
            result = flow(
                str(root), DAY, None, db, str(tmp_path / "out"), chunk_size=1,
                asr_model=model_dir, chunk_hook="testing.chunk_hooks:note_span",
            )  # fmt: skip
            assert (result["calls"], result["failed"], result["chunks"]) == (2, 0, 2)
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(ASR)
    spans = sorted(_spans(), key=lambda s: s[1])
    assert len({pid for pid, _, _ in spans}) == 2  # both workers heard
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(spans)), spans
