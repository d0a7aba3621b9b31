"""Why an item, outcome or hang-up was decided: a template key and its parameters. The text of
every key in every language is data (`reason_text/<language>.json`: `reasons`, the templates,
all languages with the same keys; `words`, how a parameter that is a fixed word reads, such as
a period `month` or a category `arguing`), so the workbench shows a reason in its reader's
language and results.jsonl keeps the English."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

_TEXT = Path(__file__).resolve().parent / "reason_text"
LANGUAGES = tuple(sorted(path.stem for path in _TEXT.glob("*.json")))


@dataclass(frozen=True, slots=True)
class Reason:
    key: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, key: str, **params: object) -> Reason:
        """A reason whose parameters are shown as given (quotes, amounts, dates, times)."""
        if key not in templates("en"):
            raise KeyError(f"no reason template {key!r} in {_TEXT / 'en.json'}")
        return cls(key, {name: str(value) for name, value in params.items()})

    def text(self, language: str = "en") -> str:
        """The reason in `language` (English for one without the key, so nothing is blank)."""
        language = language if language in LANGUAGES else "en"
        template = templates(language).get(self.key) or templates("en")[self.key]
        return template.format_map({k: word(v, language) for k, v in self.params.items()})


@cache
def _load(language: str) -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = json.loads(
        (_TEXT / f"{language}.json").read_text(encoding="utf-8")
    )
    return loaded


def templates(language: str) -> dict[str, str]:
    return _load(language)["reasons"]


def word(value: str, language: str) -> str:
    """A fixed word (a period, a role, a category, a finding code) in `language`, else as is."""
    return _load(language)["words"].get(value, value) if language in LANGUAGES else value


def clock(seconds: float) -> str:
    """A time in the call as people read it off a player: 72.4 -> 01:12."""
    whole = int(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"
