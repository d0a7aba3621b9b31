"""Exports are spreadsheet-safe (issue 15): an agent id like `=HYPERLINK(...)` or `+1+1` is
written as text, never as a formula, in scorecard CSV and xlsx files and the dialer CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from qa_pipeline.scorecards.export import write_table
from qa_pipeline.storage.tasks import Task
from qa_pipeline.tasks.lists import dialer_csv

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "S101"]


def test_scorecard_files_keep_formulas_as_text(tmp_path: Path) -> None:
    table = pd.DataFrame({"agent": HOSTILE, "valid_rate": [-0.5, 1, 0, 0.5, 0.25, 1.0]})
    write_table(table, "csv", tmp_path / "card.csv")
    rows = list(csv.DictReader((tmp_path / "card.csv").open(encoding="utf-8-sig")))
    assert [r["agent"] for r in rows] == ["'" + v for v in HOSTILE[:-1]] + ["S101"]
    assert rows[0]["valid_rate"] == "-0.5"  # a number stays a number
    write_table(table, "xlsx", tmp_path / "card.xlsx")
    sheet = load_workbook(tmp_path / "card.xlsx").active
    assert sheet is not None
    cells = [sheet.cell(row=n, column=1) for n in range(2, 8)]
    assert all(c.data_type == "s" for c in cells)  # strings, not formulas ("f")
    assert cells[0].value == "'" + HOSTILE[0]


def test_the_dialer_list_keeps_formulas_as_text() -> None:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    task = Task(1, "c1", "revisit", "urgent", "open", None, ("x",), "=1+1", "13812341234",
                "=HYPERLINK(1)", "+T1", "crbt", now, now, None, None, None, False, None, None)  # fmt: skip
    (row,) = list(csv.reader(io.StringIO(dialer_csv([task]))))[1:]
    assert "'=HYPERLINK(1)" in row and "'+T1" in row and "'=1+1" in row
