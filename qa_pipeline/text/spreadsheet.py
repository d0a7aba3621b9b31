"""Cells a spreadsheet shows as text, never runs: a value starting with `=`, `+`, `-`, `@`, a tab
or a carriage return is read by Excel and LibreOffice as a formula (`=HYPERLINK(...)` in an
agent id, `+1+1`), so exports put an apostrophe before it (OWASP's CSV-injection advice). Only
text cells are touched: a negative number stays a number."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, with an apostrophe in front when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
