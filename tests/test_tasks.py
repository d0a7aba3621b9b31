"""Revisit and confirmation callbacks, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from qa_pipeline.batch.run import run_batch
from qa_pipeline.errors import TaskError
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.storage.tasks import close_task, list_tasks
from qa_pipeline.tasks.lists import EXPORT_COLUMNS, dialer_csv, read_do_not_call
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


def _rows(path: Path) -> dict[str, dict[str, object]]:
    return {r["call_id"]: r for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(connect(db_url))


def test_tasks_follow_verdicts(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    rows = _rows(run_batch(SAMPLES, tmp_path / "o", ruleset, store=store).results_path)
    tasks = list_tasks(store.engine, "all")
    revisits = {t.call_id: t for t in tasks if t.kind == "revisit"}
    assert set(revisits) == {cid for cid, r in rows.items() if r["revisit_required"]}
    assert revisits["en-s-004"].priority == "urgent"  # consent withdrawn
    assert revisits["zh-s-003"].priority == "normal"  # only the trial end was wrong
    assert "disclosures.trial_end" in revisits["zh-s-003"].reason_codes
    confirmations = sorted(
        (t.call_id, t.kind, t.due_at.date()) for t in tasks if t.kind.startswith("confirm")
    )
    # zh-s-001: 2026-11-03 + 7 days; trial ends 2026-12-03, second confirmation 3 days before
    assert ("zh-s-001", "confirm_1", date(2026, 11, 10)) in confirmations
    assert ("zh-s-001", "confirm_2", date(2026, 11, 30)) in confirmations
    assert not any(t.call_id == "zh-s-002" for t in tasks)  # valid, but no trial


def test_rerun_creates_no_duplicate_tasks(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    run_batch(SAMPLES, tmp_path / "a", ruleset, store=store)
    before = len(list_tasks(store.engine, "all"))
    run_batch(SAMPLES, tmp_path / "b", ruleset, store=store)
    assert len(list_tasks(store.engine, "all")) == before


def test_do_not_call_flags_and_blocks(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    number = json.loads((SAMPLES / "zh-s-003.json").read_text(encoding="utf-8"))["customer_number"]
    listing = tmp_path / "dnc.txt"
    listing.write_text(f"# opted out\n{number[:3]} {number[3:]}\n", encoding="utf-8")
    rows = _rows(
        run_batch(
            SAMPLES, tmp_path / "o", ruleset, store=store, do_not_call=read_do_not_call(listing)
        ).results_path
    )
    assert "do_not_call" in rows["zh-s-003"]["review_flags"]
    assert not [t for t in list_tasks(store.engine, "all") if t.call_id == "zh-s-003"]


def test_unreachable_extends_the_trial_once(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    run_batch(SAMPLES, tmp_path / "o", ruleset, store=store)
    first = next(
        t for t in list_tasks(store.engine) if t.call_id == "zh-s-001" and t.kind == "confirm_1"
    )
    created = close_task(store.engine, first.id, "unreachable", ruleset.tasks, trial_days=30)
    assert [(t.kind, t.trial_end) for t in created] == [("confirm_extended", "2027-01-02")]
    assert created[0].due_at.date() == date(2026, 12, 30)
    second = next(
        t for t in list_tasks(store.engine) if t.call_id == "zh-s-001" and t.kind == "confirm_2"
    )
    assert close_task(store.engine, second.id, "unreachable", ruleset.tasks, trial_days=30) == []
    with pytest.raises(TaskError, match="already closed"):
        close_task(store.engine, first.id, "confirmed", ruleset.tasks, trial_days=30)
    with pytest.raises(TaskError, match="will_cancel_self"):
        close_task(store.engine, second.id, "maybe", ruleset.tasks, trial_days=30)


def test_revisit_call_is_linked(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    folder = tmp_path / "calls"
    shutil.copytree(SAMPLES, folder)
    run_batch(folder, tmp_path / "a", ruleset, store=store)
    callback = json.loads((SAMPLES / "zh-s-001.json").read_text(encoding="utf-8"))
    callback |= {"call_id": "zh-s-003-revisit", "revisit_of": "zh-s-003"}
    (folder / "zh-s-003-revisit.json").write_text(
        json.dumps(callback, ensure_ascii=False), encoding="utf-8"
    )
    run_batch(folder, tmp_path / "b", ruleset, store=store)
    task = next(t for t in list_tasks(store.engine) if t.call_id == "zh-s-003")
    assert (task.linked_call_id, task.linked_valid) == ("zh-s-003-revisit", True)


def test_dialer_export(store: Store, tmp_path: Path, ruleset: Ruleset) -> None:
    run_batch(SAMPLES, tmp_path / "o", ruleset, store=store)
    lines = dialer_csv(list_tasks(store.engine)).splitlines()
    assert tuple(lines[0].split(",")) == EXPORT_COLUMNS
    priorities = [line.split(",")[2] for line in lines[1:]]
    assert priorities == sorted(priorities, key=lambda p: p != "urgent")
