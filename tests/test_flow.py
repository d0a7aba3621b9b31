"""The nightly flow under prefect_test_harness, and its tasks' logic through `.fn()`."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qa-prefect-"))

from prefect.testing.utilities import prefect_test_harness

from flows.nightly_qa import discover_batch, judge_chunk, nightly_qa, plan_chunks, publish
from qa_pipeline.batch.hooks import load_hook
from qa_pipeline.batch.run import run_batch
from qa_pipeline.errors import InputDirError, OptionsError
from qa_pipeline.ingest.recordings import RecordingCall
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.tasks import list_tasks
from qa_pipeline.verdict.digest import digest, markdown, merge
from qa_pipeline.verdict.serialize import read_results, to_json
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"
DAY = "2026-11-20"


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def input_root(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLES, tmp_path / "calls" / DAY)
    (tmp_path / "calls" / DAY / "broken.json").write_text("{", encoding="utf-8")
    return tmp_path / "calls"


def test_discover_needs_the_day_folder(input_root: Path) -> None:
    assert len(discover_batch.fn(str(input_root), DAY)) == 11
    with pytest.raises(InputDirError, match="2026-11-21"):
        discover_batch.fn(str(input_root), "2026-11-21")


def test_judge_chunk_is_the_run_code_path(input_root: Path, tmp_path: Path) -> None:
    paths = discover_batch.fn(str(input_root), DAY)
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    first = judge_chunk.fn(paths, str(tmp_path / "c.jsonl"), None, db, None)
    again = judge_chunk.fn(paths, str(tmp_path / "d.jsonl"), None, db, None)
    assert (first.calls, first.failed) == (11, 1)
    assert (tmp_path / "c.jsonl").read_text(encoding="utf-8") == (tmp_path / "d.jsonl").read_text(
        encoding="utf-8"
    )
    assert again.outcomes == first.outcomes
    assert first.digest == digest(tmp_path / "c.jsonl")  # what the flow gets, no second read


def _artifact(key: str) -> str:
    """The latest artifact's data. Every filter is given: Prefect 3.8's `Artifact.get` sends
    null flow-run and task-run filters, which its own server refuses (HTTP 422)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterKey,
        FlowRunFilter,
        TaskRunFilter,
    )
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        (artifact,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(), task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.UPDATED_DESC, limit=1, offset=0,
        )  # fmt: skip
    return str(artifact.data)


@pytest.mark.slow  # the Prefect test harness starts a server
def test_nightly_flow(harness: None, input_root: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    result = nightly_qa(str(input_root), DAY, None, db, str(tmp_path / "out"), chunk_size=4)
    assert (result["calls"], result["failed"], result["chunks"]) == (11, 1, 3)
    rows = [json.loads(x) for x in Path(result["results"]).read_text(encoding="utf-8").splitlines()]
    assert len({r["call_id"] for r in rows}) == 11
    # the artifacts come from the chunks' digests, not a second read of the results
    assert "- calls: 11 (1 failed to process)" in _artifact("nightly-qa-summary")
    assert "broken" in _artifact("nightly-qa-flagged")
    # why each call was flagged, and its workbench page
    assert "/calls/zh-s-004" in _artifact("nightly-qa-flagged")
    assert "- [zh-s-004](/calls/zh-s-004): " in _artifact("nightly-qa-summary")
    again = nightly_qa(str(input_root), DAY, None, db, str(tmp_path / "out2"), chunk_size=4)
    assert Path(again["results"]).read_text(encoding="utf-8") == Path(result["results"]).read_text(
        encoding="utf-8"
    )


@pytest.mark.slow  # the Prefect test harness starts a server
def test_publish_summary(harness: None, tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    run_batch(SAMPLES, tmp_path, load_rules(ROOT / "rules"))  # zh-s-004 fails consent
    rows = [r for r in read_results(tmp_path / "results.jsonl") if r.call_id == "zh-s-004"]
    path.write_text("\n".join(to_json(r) for r in rows), encoding="utf-8")
    from prefect import flow

    @flow
    def wrapper() -> str:
        return publish(DAY, digest(path), 3)

    summary = wrapper()
    assert "explicit_consent failed on 1 sales" in summary and "0% valid" in summary


def test_chunk_digests_merge_to_the_whole(input_root: Path, tmp_path: Path) -> None:
    paths = discover_batch.fn(str(input_root), DAY)
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    parts = [
        judge_chunk.fn(paths[i : i + 4], str(tmp_path / f"c{i}.jsonl"), None, db, None).digest
        for i in range(0, len(paths), 4)
    ]
    whole = judge_chunk.fn(paths, str(tmp_path / "all.jsonl"), None, db, None).digest
    assert merge(parts) == whole and whole.calls == 11 and whole.dates
    assert merge(parts, table_rows=2).flagged == whole.flagged[:2]


def test_deployment_schedule() -> None:
    from flows.deploy import build

    deployment = build("/data/calls", db_url="sqlite:///qa.db")
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Asia/Shanghai")
    assert deployment.parameters == {"input_root": "/data/calls", "db_url": "sqlite:///qa.db"}


def test_chunks_read_runs_do_not_call_list(
    input_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --do-not-call: DATA_DIR/do-not-call.txt, as `qa-pipeline run` reads it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "do-not-call.txt").write_text("189 0713 4452  # zh-s-004's customer\n", "utf-8")
    monkeypatch.setenv("QA_PIPELINE_DATA_DIR", str(data))
    paths = discover_batch.fn(str(input_root), DAY)
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    chunk = judge_chunk.fn(paths, str(tmp_path / "c.jsonl"), None, db, None)
    tasks = {t.call_id for t in list_tasks(connect(db), "all")}
    assert "zh-s-004" not in tasks and "zh-s-003" in tasks  # another revisit is still made
    (row,) = [r for r in chunk.digest.flagged if r.call_id == "zh-s-004"]
    assert "do_not_call" in row.why


def test_flagged_calls_say_why_and_link_to_the_workbench(input_root: Path, tmp_path: Path) -> None:
    paths = discover_batch.fn(str(input_root), DAY)
    night = judge_chunk.fn(paths, str(tmp_path / "c.jsonl"), None, None, None).digest
    why = {row.call_id: row.why for row in night.flagged}
    assert why["broken"].startswith("failed: ")
    assert "explicit_consent (" in why["zh-s-004"] and "forbidden.arguing" in why["zh-s-004"]
    assert "zh-s-006" not in why  # no sale: nothing on it applies
    assert "zh-s-001" not in why  # a valid sale
    summary = markdown(DAY, night, 3, workbench_url="https://qa.example:8000/")
    assert f"- [zh-s-004](https://qa.example:8000/calls/zh-s-004): {why['zh-s-004']}" in summary


def test_one_deployment_per_name_and_the_locked_prefect() -> None:
    from flows.deploy import SERVED, build

    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    worker = [d["name"] for d in config["deployments"]]
    assert build("/data/calls").name == SERVED and SERVED not in worker
    lock = (ROOT / "requirements-dev.lock").read_text(encoding="utf-8")
    assert f"\nprefect=={config['prefect-version']} " in lock


def test_chunks_keep_recordings_apart() -> None:
    """Recordings chunk on their own, first (they may need an ASR worker and take longest)."""
    recordings = [
        RecordingCall(f"r{n}", (Path(f"r{n}.wav"),), None, (), (), None) for n in range(3)
    ]
    files = [Path(f"t{n}.json") for n in range(3)]
    mixed = [files[0], recordings[0], files[1], recordings[1], recordings[2], files[2]]
    assert plan_chunks(mixed, 2) == [recordings[:2], recordings[2:], files[:2], files[2:]]
    assert plan_chunks(files, 5) == [files] and plan_chunks([], 5) == []


def test_chunk_hook_is_named_by_text(tmp_path: Path) -> None:
    assert load_hook("testing.chunk_hooks:note_span").__name__ == "note_span"
    for name, problem in (
        ("testing.chunk_hooks", "expected package.module:function"),
        ("testing.no_such_module:f", "cannot import testing.no_such_module"),
        ("testing.chunk_hooks:nothing", "has no function nothing"),
    ):
        with pytest.raises(OptionsError, match=problem) as info:
            load_hook(name)
        assert info.value.code == "E090" and name in info.value.message
    # A bad hook fails the chunk before it judges anything.
    paths = discover_batch.fn(str(ROOT / "samples"), "calls")
    with pytest.raises(OptionsError):
        judge_chunk.fn(paths, str(tmp_path / "c.jsonl"), None, None, None, hook="nope:f")
    assert not (tmp_path / "c.jsonl").exists()


def test_local_cluster_workers_hold_the_asr_resource() -> None:
    """`--dask-local N --asr-resource asr`: every local worker may hear, else chunks with
    recordings would wait for a worker that never comes."""
    from flows.dask_runner import runner

    assert runner(None, 3, "asr").cluster_kwargs == {
        "n_workers": 3, "threads_per_worker": 1, "resources": {"asr": 1},
    }  # fmt: skip
    assert "resources" not in runner(None, 2, None).cluster_kwargs


def test_deployments_find_the_cluster_in_the_environment() -> None:
    """A deployment's run imports the flow afresh: QA_PIPELINE_DASK_ADDRESS puts it on Dask."""
    import subprocess
    import sys

    code = (
        "from flows.nightly_qa import nightly_qa as f; r = f.task_runner; "
        "print(type(r).__name__, getattr(r, 'address', None))"
    )
    for env, printed in (
        ({"QA_PIPELINE_DASK_ADDRESS": "tcp://sched:8786"}, "DaskTaskRunner tcp://sched:8786"),
        ({}, "ThreadPoolTaskRunner None"),
    ):
        base = {k: v for k, v in os.environ.items() if k != "QA_PIPELINE_DASK_ADDRESS"}
        done = subprocess.run(
            [sys.executable, "-c", code], env=base | env, cwd=ROOT, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
        assert done.stdout.strip().splitlines()[-1] == printed
