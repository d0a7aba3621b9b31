"""Period values as people type them (`--day 2026-11-20`, `--week 2026-W47`, `--month 2026-11`),
checked before any table is read: a malformed or impossible period is an error naming what was
expected, never an empty table or a pandas traceback."""

from __future__ import annotations

import re
from datetime import date

from qa_pipeline.errors import OptionValueError

_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def check_day(value: str, option: str = "--day") -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or day.isoformat() != value:  # fromisoformat also takes 20261120
        raise OptionValueError(option, value, "expected a date like 2026-11-20")
    return value


def check_week(value: str, option: str = "--week") -> str:
    """An ISO week, e.g. 2026-W47 (W53 only in years that have one)."""
    found = _WEEK.fullmatch(value)
    if not found:
        raise OptionValueError(option, value, "expected an ISO week like 2026-W47")
    year, week = int(found[1]), int(found[2])
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError:
        last = date(year, 12, 28).isocalendar().week
        raise OptionValueError(option, value, f"{year} has ISO weeks W01 to W{last}") from None
    return value


def check_month(value: str, option: str = "--month") -> str:
    found = _MONTH.fullmatch(value)
    if not found or not 1 <= int(found[2]) <= 12:
        raise OptionValueError(option, value, "expected a month like 2026-11 (months 01 to 12)")
    return value
