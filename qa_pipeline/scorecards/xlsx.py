"""Tables as spreadsheets people open: a bold filled header row that stays in view (frozen),
columns wide enough for their text (CJK counted double), rates as percentages, counts as whole
numbers, days as date cells; every text cell made safe from formula injection."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import pandas as pd

from qa_pipeline.text.spreadsheet import safe_cell

PERCENT = "0.0%"
INTEGER = "0"
DECIMAL = "0.00"
DATE = "yyyy-mm-dd"
HEADER_FILL = "1F3A5F"  # the workbench's header colour
MAX_WIDTH = 40
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def number_format(column: str, values: pd.Series) -> str | None:
    """How a column's cells are shown: rates as percentages, whole numbers as counts, other
    numbers with two decimals, days as dates; None for text."""
    present = values.dropna()
    if column.endswith(("_rate", "_share")) or column == "script_adherence":
        return PERCENT
    if len(present) and all(isinstance(v, str) and _DAY.match(v) for v in present):
        return DATE
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if not numbers or len(numbers) < len(present):
        return None
    return INTEGER if all(float(v).is_integer() for v in numbers) else DECIMAL


def _cell(value: object, fmt: str | None) -> object:
    """A Python value openpyxl writes as the right cell type."""
    if value is None or (isinstance(value, float) and value != value):  # NaN: an empty cell
        return None
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if fmt == DATE and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if fmt == INTEGER and isinstance(value, float):
        return int(value)
    return safe_cell(value) if isinstance(value, str) else value


def _width(text: str) -> int:
    """Display width: East Asian wide characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(
    table: pd.DataFrame, target: Path | IO[bytes], headers: Mapping[str, str] | None = None
) -> None:
    """Write `table` as a styled sheet; `headers` renames columns (the reader's language)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    columns = [str(c) for c in table.columns]
    names = [str((headers or {}).get(c, c)) for c in columns]
    plain = table.astype(object)
    formats = [number_format(c, plain[c]) for c in columns]
    sheet.append([safe_cell(name) for name in names])
    for row in plain.itertuples(index=False, name=None):
        sheet.append([_cell(v, f) for v, f in zip(row, formats, strict=True)])
    for cell in sheet[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    for i, (column, name, fmt) in enumerate(zip(columns, names, formats, strict=True), start=1):
        letter = get_column_letter(i)
        if fmt is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = fmt
        longest = max(
            [_width(name) // 2 + 1,  # the header wraps
             *(_width(str(v)) for v in plain[column].dropna())]
        )  # fmt: skip
        sheet.column_dimensions[letter].width = min(max(longest + 2, 8), MAX_WIDTH)
    book.save(target)
