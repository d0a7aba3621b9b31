"""Interface text as data: one `<language>.json` per interface language (zh.json, en.json),
all with the same keys; a new file is a new interface language."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

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
