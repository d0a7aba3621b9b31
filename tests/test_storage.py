"""The database, on SQLite and PostgreSQL: idempotent runs, re-judging stored transcripts,
findings, failed calls, a run killed midway, two runs at once, and scorecard rebuilds at once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qa_pipeline.batch.run import judging_version, rejudge, run_batch, touched_dates
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.locks import SCORECARDS, hold_for_transaction
from qa_pipeline.storage.repository import Store, stored_calls
from qa_pipeline.storage.tables import CallRow, FindingRow, ScorecardRow, TaskRow, VerdictRow
from qa_pipeline.verdict.model import Criterion
from qa_pipeline.verdict.serialize import read_results
from testing.synthetic import replicate
from tests.conftest import ROOT, changed_rules

SAMPLES = ROOT / "samples" / "calls"


def _count(store: Store, column: object) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(column)).scalar_one())  # type: ignore[arg-type]


def _batch(folder: Path, copies: int) -> Path:
    """`copies` distinct calls made from the samples (new call ids, same content shape)."""
    return replicate(SAMPLES, folder, copies)


def test_rerun_adds_nothing(db_url: str, tmp_path: Path, ruleset: Ruleset) -> None:
    store = Store(connect(db_url))
    first = run_batch(SAMPLES, tmp_path / "a", ruleset, store=store).results_path.read_text(
        encoding="utf-8"
    )
    second = run_batch(SAMPLES, tmp_path / "b", ruleset, store=store).results_path.read_text(
        encoding="utf-8"
    )
    assert first == second
    assert _count(store, VerdictRow) == 10 and _count(store, CallRow) == 10
    assert _count(store, FindingRow) > 0


def test_findings_and_local_time(db_url: str, tmp_path: Path, ruleset: Ruleset) -> None:
    store = Store(connect(db_url))
    run_batch(SAMPLES, tmp_path / "a", ruleset, store=store)
    with store.engine.connect() as connection:
        codes = set(connection.execute(select(FindingRow.code)).scalars())
        local = connection.execute(
            select(CallRow.started_local).where(CallRow.call_id == "zh-s-001")
        ).scalar_one()
    assert {"disclosures.trial_end", "forbidden.misleading", "agent_hung_up_first"} <= codes
    assert local.endswith("+08:00")


def test_failed_files_are_recorded(db_url: str, tmp_path: Path, ruleset: Ruleset) -> None:
    folder = tmp_path / "calls"
    shutil.copytree(SAMPLES, folder)
    (folder / "broken.json").write_text('{"call_id": ', encoding="utf-8")
    store = Store(connect(db_url))
    run_batch(folder, tmp_path / "a", ruleset, store=store)
    with store.engine.connect() as connection:
        status, error = connection.execute(
            select(VerdictRow.status, VerdictRow.error).where(VerdictRow.call_id == "broken")
        ).one()
    assert status == "failed" and "broken.json" in error


def test_changed_rules_rejudge_without_rereading(
    db_url: str, tmp_path: Path, ruleset: Ruleset
) -> None:
    store = Store(connect(db_url))
    run_batch(SAMPLES, tmp_path / "a", ruleset, store=store)
    assert rejudge(ruleset, store).judged == 0  # same rules: nothing to do
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "criteria.yaml").write_text(
        (rules / "criteria.yaml").read_text(encoding="utf-8") + "\n# v2\n", encoding="utf-8"
    )
    changed = load_rules(rules)
    summary = rejudge(changed, store)
    assert (summary.calls, summary.judged) == (10, 10)
    assert rejudge(changed, store).judged == 0
    assert _count(store, VerdictRow) == 20
    # a run under the new rules finds the re-judged verdicts instead of judging again
    steps: list[str] = []
    run_batch(SAMPLES, tmp_path / "b", changed, lambda step, _: steps.append(step), store)
    assert steps.count("reuse") == 10 and _count(store, VerdictRow) == 20


def test_rejudged_revisit_stays_linked(db_url: str, tmp_path: Path, ruleset: Ruleset) -> None:
    """A revisit call re-judged under new rules still names the call it re-confirms."""
    batch = tmp_path / "batch"
    batch.mkdir()
    sample = json.loads((SAMPLES / "zh-s-001.json").read_text(encoding="utf-8"))
    revisit = sample | {"call_id": "zh-s-001-r", "revisit_of": "zh-s-001"}
    (batch / "zh-s-001-r.json").write_text(json.dumps(revisit, ensure_ascii=False), "utf-8")
    store = Store(connect(db_url))
    run_batch(batch, tmp_path / "out", ruleset, store=store)
    changed = changed_rules(tmp_path / "rules")
    assert rejudge(changed, store).judged == 1
    with store.engine.connect() as connection:
        results = connection.execute(
            select(VerdictRow.result).where(VerdictRow.rules_version == judging_version(changed))
        ).scalars()
        assert [r["revisit_of"] for r in results] == ["zh-s-001"]


def test_stored_transcript_keeps_its_recognizer(
    db_url: str, tmp_path: Path, ruleset: Ruleset
) -> None:
    """A heard transcript re-judged from the store is read as heard, as it was the first time
    ("account folder" is the account holder only in a recognizer's words)."""
    batch = tmp_path / "batch"
    batch.mkdir()
    text = (SAMPLES / "en-s-001.json").read_text(encoding="utf-8")
    heard = json.loads(text.replace("account holder", "account folder")) | {"heard_by": "base"}
    (batch / "en-s-001.json").write_text(json.dumps(heard), "utf-8")
    store = Store(connect(db_url))
    [first] = read_results(run_batch(batch, tmp_path / "out", ruleset, store=store).results_path)
    [(call, _)] = stored_calls(store.engine)
    assert call.heard_by == "base"
    changed = changed_rules(tmp_path / "rules")
    assert rejudge(changed, store).judged == 1
    with store.engine.connect() as connection:
        [again] = connection.execute(
            select(VerdictRow.result).where(VerdictRow.rules_version == judging_version(changed))
        ).scalars()
    assert first.verdict is not None
    holder = first.verdict.criteria["account_holder_verified"]
    assert isinstance(holder, Criterion) and holder.items["identity"].passed is True
    assert again["criteria"]["account_holder_verified"]["items"]["identity"]["passed"] is True


def _run(batch: Path, out: Path, db_url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [
        sys.executable,
        "-m",
        "qa_pipeline.cli",
        "run",
        str(batch),
        "--out",
        str(out),
        "--db",
        db_url,
        "-q",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_killed_run_finishes_on_rerun(db_url: str, tmp_path: Path) -> None:
    batch = _batch(tmp_path / "calls", 600)
    store = Store(connect(db_url))
    process = _run(batch, tmp_path / "out", db_url)
    deadline = time.monotonic() + 60
    while _count(store, VerdictRow) < 50 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = _count(store, VerdictRow)
    assert 0 < killed_at < 600, "the run should have been killed midway"
    rerun = _run(batch, tmp_path / "out", db_url)
    assert rerun.wait(timeout=300) == 0, rerun.stderr.read() if rerun.stderr else ""
    assert _count(store, VerdictRow) == 600
    rows = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 600 and len({json.loads(r)["call_id"] for r in rows}) == 600


@pytest.mark.slow
def test_two_runs_at_once_make_no_duplicates(db_url: str, tmp_path: Path) -> None:
    batch = _batch(tmp_path / "calls", 200)
    connect(db_url)  # migrate once, as a deployment does before starting workers
    first, second = _run(batch, tmp_path / "a", db_url), _run(batch, tmp_path / "b", db_url)
    for process in (first, second):
        assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    store = Store(connect(db_url))
    assert _count(store, VerdictRow) == 200 and _count(store, CallRow) == 200
    with store.engine.connect() as connection:
        tasks = connection.execute(select(TaskRow.call_id, TaskRow.kind)).all()
    assert len(tasks) == len(set(tasks)) > 0
    assert _count(store, ScorecardRow) > 0
    cards = _scorecards(store)  # what the two runs left: what one rebuild of the data gives
    rebuild(store.engine, touched_dates(tmp_path / "a" / "results.jsonl"))
    assert _scorecards(store) == cards


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/nested/dir/qa.db"])
def test_default_sqlite_creates_its_folder(url: str, tmp_path: Path) -> None:
    connect(url.format(tmp=tmp_path))
    assert (tmp_path / "nested" / "dir" / "qa.db").is_file()


def test_reuse_does_not_depend_on_file_names(db_url: str, tmp_path: Path, ruleset: Ruleset) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    shutil.copy(SAMPLES / "zh-s-001.json", folder / "recording-0001.json")  # name != call id
    store = Store(connect(db_url))
    run_batch(folder, tmp_path / "a", ruleset, store=store)
    steps: list[str] = []
    run_batch(folder, tmp_path / "b", ruleset, lambda step, _: steps.append(step), store)
    assert steps.count("reuse") == 1 and "judge" not in steps


def _scorecards(store: Store) -> dict[tuple[str, str, str, str], Any]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                ScorecardRow.level, ScorecardRow.key, ScorecardRow.period,
                ScorecardRow.period_start, ScorecardRow.metrics,
            )
        ).all()  # fmt: skip
    cards = {(r.level, r.key, r.period, r.period_start): r.metrics for r in rows}
    assert len(cards) == len(rows)  # the unique key holds
    return cards


def _in_threads(jobs: list[Callable[[], object]], timeout: float = 120) -> None:
    """Start `jobs` together; fail with the first error, or if one has not finished in time
    (a deadlock PostgreSQL did not break, or a lock never released)."""
    start = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], object]) -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not [t for t in threads if t.is_alive()], "a concurrent job did not finish"
    if errors:
        raise errors[0]


def test_a_rebuild_waits_for_the_scorecard_lock(db_url: str) -> None:
    engine = connect(db_url)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (rebuild(connect(db_url), {"2026-11-20"}), done.set()))
    with engine.begin() as holder:
        hold_for_transaction(holder, SCORECARDS)
        worker.start()
        assert not done.wait(0.5), "a rebuild ran while another held the scorecard lock"
    worker.join(30)
    assert done.is_set(), "the rebuild did not go on once the lock was released"


def _halves(tmp_path: Path, count: int) -> tuple[Path, Path]:
    """`count` distinct calls over the samples' ten days, split in two folders."""
    first = _batch(tmp_path / "first", count)
    later = tmp_path / "later"
    later.mkdir()
    for path in sorted(first.glob("*.json"))[::2]:
        path.rename(later / path.name)
    return first, later


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_rebuild_counts_what_was_stored_while_it_waited(
    db_url: str, tmp_path: Path, ruleset: Ruleset
) -> None:
    """The frame is read under the lock, so the rebuild that writes last has read last. (On
    PostgreSQL only: SQLite's lock is its one write lock, so nothing is stored meanwhile.)"""
    first, later = _halves(tmp_path, 40)
    store = Store(connect(db_url))
    dates = touched_dates(run_batch(first, tmp_path / "a", ruleset, store=store).results_path)
    worker = threading.Thread(target=rebuild, args=(connect(db_url), dates))
    with store.engine.begin() as holder:
        hold_for_transaction(holder, SCORECARDS)
        worker.start()
        run_batch(later, tmp_path / "b", ruleset, store=store)  # commits while the lock is held
    worker.join(30)
    assert not worker.is_alive()
    assert _scorecards(store)[("center", "center", "month", "2026-11")]["calls"] == 40


@pytest.mark.slow
def test_rebuilds_at_once_finish_with_the_right_rows(
    db_url: str, tmp_path: Path, ruleset: Ruleset
) -> None:
    """A run storing new calls and rebuilding races three rebuilds of every date, each on its
    own engine (as separate runs are): all finish, rows are unique, and they hold what one
    uncontended rebuild of the final data gives (no rebuild wrote numbers from a stale read)."""
    first, later = _halves(tmp_path, 80)  # the later half arrives during the race
    store = Store(connect(db_url))
    dates = touched_dates(run_batch(first, tmp_path / "a", ruleset, store=store).results_path)
    assert len(dates) == 10

    def late_run() -> None:
        late = Store(connect(db_url))
        summary = run_batch(later, tmp_path / "b", ruleset, store=late)
        rebuild(late.engine, touched_dates(summary.results_path))

    def rebuilds(days: list[str]) -> Callable[[], None]:
        def job() -> None:
            engine = connect(db_url)
            for _ in range(3):
                rebuild(engine, days)

        return job

    ordered = sorted(dates)
    _in_threads([late_run, rebuilds(ordered), rebuilds(ordered[::-1]), rebuilds(ordered[3:])])
    cards = _scorecards(store)
    assert cards[("center", "center", "month", "2026-11")]["calls"] == 80  # both halves counted
    rebuild(store.engine, dates)
    assert _scorecards(store) == cards


def test_recording_paths_are_stored_resolved(
    db_url: str, tmp_path: Path, ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path as `run` was given it (relative to where it ran) is stored absolute (issue 15)."""
    import dataclasses

    from qa_pipeline.batch.run import judge_paths
    from qa_pipeline.ingest.call_file import content_hash, load_call
    from qa_pipeline.storage.tables import RecordingRow

    monkeypatch.chdir(tmp_path)
    store = Store(connect(db_url))
    results = judge_paths([SAMPLES / "en-s-001.json"], tmp_path / "r.jsonl", ruleset,
                          understand=False, call_budget_s=None)  # fmt: skip
    (result,) = read_results(results.results_path)
    call = load_call(SAMPLES / "en-s-001.json")
    heard = dataclasses.replace(result, recordings=("calls/en-s-001.wav",))
    assert store.save(heard, content_hash(b"x"), call)
    with store.engine.connect() as connection:
        stored = connection.execute(select(RecordingRow.path)).scalar_one()
    assert stored == str(tmp_path / "calls" / "en-s-001.wav")


def test_a_code_change_changes_the_verdict_version(
    ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored verdict is reused only under the same rules, model and judging code: an
    upgrade that changes how calls are judged judges them again (`run --db`)."""
    from qa_pipeline.judging import judge as judging

    before = judging.Judge(ruleset).version
    assert judging.Judge(ruleset).version == before  # deterministic
    monkeypatch.setattr(judging, "code_version", lambda: "another-code")
    assert judging.Judge(ruleset).version != before
