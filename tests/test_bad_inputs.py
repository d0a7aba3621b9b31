"""One bad file never stops a batch (issue 15): every input gets exactly one row, a failed one
naming its file and its problem; SQLite and PostgreSQL give the same rows; reruns are
idempotent; two runs into one output folder cannot collide."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from qa_pipeline.batch.output import results_writer
from qa_pipeline.batch.run import run_batch
from qa_pipeline.errors import OutputBusyError
from qa_pipeline.ingest.limits import CALL_ID, FIELD_LENGTHS, row_call_id
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.storage.tables import Base, VerdictRow
from testing.bad_calls import BAD_CALLS, write_batch
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


def _rows(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]


def _verdicts(store: Store) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(VerdictRow)).scalar_one())


def _bad_batch_rows(db_url: str, tmp_path: Path, ruleset: Ruleset) -> list[tuple[Any, ...]]:
    """Run the bad batch twice into one database; check it; its rows without the folder."""
    folder = tmp_path / "calls"
    bad = write_batch(SAMPLES, folder)
    inputs = len(list(folder.iterdir()))
    store = Store(connect(db_url))
    summary = run_batch(folder, tmp_path / "out", ruleset, store=store, understand=False)
    rows = _rows(summary.results_path)
    assert len(rows) == inputs == summary.calls
    assert summary.failed == len(bad) == len(BAD_CALLS) + 1
    assert all(row["status"] == "ok" for row in rows if not row["call_id"].startswith("bad"))
    by_name = {Path(row["source"]).stem: row for row in rows}
    for case in BAD_CALLS:
        row = by_name[case.name]
        assert row["status"] == "failed", case.name
        assert f"{case.name}.json" in row["error"] and case.reason in row["error"], row["error"]
        assert len(row["call_id"]) <= CALL_ID
    stored = _verdicts(store)
    assert stored == inputs
    again = run_batch(folder, tmp_path / "again", ruleset, store=store, understand=False)
    assert again.results_path.read_bytes() == summary.results_path.read_bytes()
    assert _verdicts(store) == stored
    return [(r["call_id"], r["status"], (r["error"] or "").replace(str(folder), "")) for r in rows]


def test_a_bad_batch_completes_with_one_row_per_input(
    db_url: str, tmp_path: Path, ruleset: Ruleset
) -> None:
    _bad_batch_rows(db_url, tmp_path, ruleset)


def test_sqlite_and_postgresql_give_the_same_rows(
    tmp_path: Path, ruleset: Ruleset, request: pytest.FixtureRequest
) -> None:
    """The same bad batch on both databases: the same rows, reasons included."""
    postgres = request.getfixturevalue("postgres_url")
    sqlite = _bad_batch_rows(f"sqlite:///{tmp_path / 'qa.db'}", tmp_path / "s", ruleset)
    assert _bad_batch_rows(postgres, tmp_path / "p", ruleset) == sqlite


def test_column_lengths_are_the_parser_limits() -> None:
    """Every String column named after a call field is as long as the parser allows."""
    for table in Base.metadata.tables.values():
        for column in table.columns:
            limit = FIELD_LENGTHS.get(column.name)
            if limit is not None and getattr(column.type, "length", None) is not None:
                assert column.type.length == limit, f"{table.name}.{column.name}"  # type: ignore[attr-defined]


def test_a_long_file_name_makes_a_call_id_that_fits() -> None:
    long = row_call_id("x" * 300)
    assert len(long) == CALL_ID and long != row_call_id("x" * 299 + "y")
    assert row_call_id(os.fsdecode(b"a\xffb")) == "a\\udcffb"


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path, ruleset: Ruleset) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.jsonl.123-dead.partial").write_text("left by a killed run", encoding="utf-8")
    with results_writer(out / "results.jsonl") as first:
        assert not (out / "results.jsonl.123-dead.partial").exists()
        first.write("{}\n")
        with pytest.raises(OutputBusyError, match=f"process {os.getpid()}"):
            run_batch(SAMPLES, out, ruleset, understand=False)
    assert (out / "results.jsonl").read_text(encoding="utf-8") == "{}\n"
    summary = run_batch(SAMPLES, out, ruleset, understand=False)
    assert len(_rows(summary.results_path)) == 10
    assert [p.name for p in out.iterdir() if p.suffix == ".partial"] == []
