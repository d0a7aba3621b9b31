"""Interface text in Chinese and English, as data (zh.json, en.json: the same keys)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

LANGUAGES = ("zh", "en")
_HERE = Path(__file__).resolve().parent


@cache
def strings(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((_HERE / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def translator(language: str) -> Callable[[str], str]:
    """`t(key)`: the text in `language`; an unknown key shows itself, so it is seen and fixed."""
    table = strings(language if language in LANGUAGES else LANGUAGES[0])
    return lambda key: table.get(key, key)
