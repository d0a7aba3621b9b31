"""Interface text as data: one `<language>.json` per interface language (zh.json, en.json),
all with the same keys; a new file is a new interface language."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path

from qa_pipeline.verdict.reasons import word

_HERE = Path(__file__).resolve().parent
LANGUAGES = tuple(sorted(path.stem for path in _HERE.glob("*.json")))
# The interface language a user sees until they switch (review settings may override it).
DEFAULT_LANGUAGE = (_HERE / "default.txt").read_text(encoding="utf-8").strip()


@cache
def strings(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((_HERE / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def translator(language: str) -> Callable[[str], str]:
    """`t(key)`: the text in `language`; an unknown key shows itself, so it is seen and fixed."""
    table = strings(language if language in LANGUAGES else LANGUAGES[0])
    return lambda key: table.get(key, key)


def when(value: object, language: str) -> str:
    """A date or time as the reader writes it: 2026年11月20日 10:02 / 20 Nov 2026, 10:02 (the
    time as stored: a call's local time, an action's UTC); a date alone has no time."""
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else _parse(str(value))
    if moment is None:
        return str(value)
    day = isinstance(value, str) and len(value) == 10
    if language == "zh":
        text = f"{moment.year}年{moment.month}月{moment.day}日"
        return text if day else f"{text} {moment:%H:%M}"
    text = f"{moment.day} {moment:%b} {moment.year}"
    return text if day else f"{text}, {moment:%H:%M}"


def _parse(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def column_name(column: str, language: str) -> str:
    """A scorecard or report column's header: its interface text, or for `<criterion>_pass_rate`
    the criterion's name and "pass rate", for `forbidden_<category>_per_100` the category's."""
    table = strings(language if language in LANGUAGES else LANGUAGES[0])
    if f"column_{column}" in table:
        return table[f"column_{column}"]
    if column.endswith("_pass_rate"):
        return f"{word(column.removesuffix('_pass_rate'), language)} {table['pass_rate']}"
    category = column.removeprefix("forbidden_").removesuffix("_per_100")
    if column.startswith("forbidden_") and column.endswith("_per_100") and category:
        return f"{word(f'forbidden.{category}', language)} {table['per_100_calls']}"
    return table.get(column, column)


def cell(column: str, value: object) -> str:
    """A scorecard value as shown: rates as percentages, other fractions rounded, none blank."""
    if value is None:
        return ""
    if isinstance(value, float) and (column.endswith("_rate") or column == "script_adherence"):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)
