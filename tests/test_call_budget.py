"""A time budget per call (issue 15): a call stuck anywhere in judging, even inside C code, is
stopped and becomes a failed row naming its file, the budget and the step it was in; the calls
after it are judged; judging in the worker gives the same rows as judging in-process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from qa_pipeline.batch.run import Hook, run_batch
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.verdict.model import CallResult
from qa_pipeline.verdict.serialize import read_results
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


def _at(step: str, call_id: str, action: Callable[[], object]) -> Hook:
    """A hook that runs `action` when `call_id` reports `step` (in the judging process)."""

    def hook(name: str, artifact: object) -> None:
        call = getattr(artifact, "call", None)
        if name == step and getattr(call, "call_id", None) == call_id:
            action()

    return hook


def _rows(out: Path) -> dict[str, CallResult]:
    return {r.call_id: r for r in read_results(out / "results.jsonl")}


def test_a_call_stuck_in_a_regex_is_stopped_at_its_budget(tmp_path: Path, ruleset: Ruleset) -> None:
    backtrack = _at("context", "en-s-002", lambda: re.match(r"(a+)+$", "a" * 64 + "b"))
    run_batch(SAMPLES, tmp_path, ruleset, backtrack, understand=False, call_budget_s=1)
    rows = _rows(tmp_path)
    assert len(rows) == 10
    stopped = rows.pop("en-s-002")
    assert stopped.status == "failed" and stopped.error is not None
    assert "en-s-002.json" in stopped.error and "time budget of 1 s" in stopped.error
    assert "step 'context'" in stopped.error
    assert all(r.ok for r in rows.values())  # a fresh worker judged the calls after it


def test_a_call_that_hangs_once_is_judged_in_a_fresh_worker(
    tmp_path: Path, ruleset: Ruleset
) -> None:
    """A worker that hangs (as one forked while another thread held a lock can) costs the
    call one budget, not its verdict: the call is tried again in a fresh worker."""
    marker = tmp_path / "hung-once"

    def hang_once() -> None:
        if not marker.exists():
            marker.touch()
            time.sleep(3600)

    hang = _at("context", "en-s-003", hang_once)
    run_batch(SAMPLES, tmp_path / "out", ruleset, hang, understand=False, call_budget_s=2)
    rows = _rows(tmp_path / "out")
    assert marker.exists() and len(rows) == 10 and all(r.ok for r in rows.values())


def test_a_worker_that_dies_costs_one_call(tmp_path: Path, ruleset: Ruleset) -> None:
    die = _at("context", "zh-s-003", lambda: os.kill(os.getpid(), signal.SIGKILL))
    run_batch(SAMPLES, tmp_path, ruleset, die, understand=False, call_budget_s=30)
    rows = _rows(tmp_path)
    died = rows.pop("zh-s-003")
    assert died.error is not None and "died (exit code -9) in step 'context'" in died.error
    assert len(rows) == 9 and all(r.ok for r in rows.values())


def test_the_worker_gives_the_rows_judging_in_process_gives(
    tmp_path: Path, ruleset: Ruleset
) -> None:
    inline = run_batch(SAMPLES, tmp_path / "a", ruleset, understand=False, call_budget_s=None)
    worker = run_batch(SAMPLES, tmp_path / "b", ruleset, understand=False, call_budget_s=30)
    assert worker.results_path.read_bytes() == inline.results_path.read_bytes()


def test_the_budget_is_a_run_and_rejudge_option(tmp_path: Path) -> None:
    from qa_pipeline.cli import main

    db = f"sqlite:///{tmp_path / 'qa.db'}"
    out = str(tmp_path / "out")
    assert main(["run", str(SAMPLES), "--out", out, "--db", db, "-q", "--call-budget", "0"]) == 0
    assert main(["rejudge", "--db", db, "--call-budget", "5"]) == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "--call-budget SECONDS" in readme and "call_budget_s" in readme


@pytest.mark.slow  # a process killed mid-call, then a rerun: seconds
def test_a_killed_batch_leaves_no_lock_behind_in_its_worker(tmp_path: Path) -> None:
    """Killed while its worker is stuck in a call, a batch must not leave the worker holding
    the out folder's lock: the rerun starts at once instead of failing with E041."""
    out = tmp_path / "out"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from qa_pipeline.batch.run import run_batch\n"
        "from qa_pipeline.judging.judge import load_rules\n"
        "def hook(step, artifact):\n"
        "    if step == 'context':\n"
        "        print('stuck', flush=True)\n"
        "        time.sleep(60)\n"
        f"run_batch(Path({str(SAMPLES)!r}), Path({str(out)!r}), load_rules(), hook,"
        " understand=False, call_budget_s=120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=ROOT)
    assert process.stdout is not None and process.stdout.readline().strip() == b"stuck"
    process.kill()
    process.wait()
    summary = run_batch(SAMPLES, out, load_rules(), understand=False, call_budget_s=None)
    assert summary.calls == 10
    workers = subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True)
    assert workers.stdout == "", "the worker outlived its batch"
