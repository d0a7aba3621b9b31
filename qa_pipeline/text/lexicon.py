"""Compiled lexicons: one regular expression per dialogue act, with negation scope.

A lexicon compiles all its patterns into one alternation once, at rule-load time, so matching a
turn is a single scan per act (the rules stage runs hundreds of calls a second).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

CLAUSE_END = re.compile(r"[，,。！？!?；;:：…—]|\.\s")  # ". " ends a clause, "2.99" does not
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True, slots=True)
class Hit:
    lexicon: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Negation:
    """Cues that cancel a following match within `window` characters (zh) or words (en),
    never across a clause boundary."""

    cues: tuple[str, ...]
    window: int
    by_words: bool
    exceptions: tuple[str, ...] = ()

    def negates(self, text: str, start: int) -> bool:
        prefix = text[:start]
        boundary = max((m.end() for m in CLAUSE_END.finditer(prefix)), default=0)
        prefix = prefix[boundary:]
        for expression in self.exceptions:
            prefix = prefix.replace(expression, " ")
        if self.by_words:
            words = _WORD.findall(prefix)[-self.window :]
            return any(w in self.cues or w.endswith("n't") for w in words)
        tail = prefix[-self.window :]
        return any(cue in tail for cue in self.cues)


@lru_cache(maxsize=1024)
def _compile(patterns: tuple[str, ...], word_boundaries: bool) -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    # Look-arounds rather than \b, so patterns that start or end in punctuation still work.
    # A word edge where the match starts or ends with a letter or digit; none is needed where it
    # starts or ends with punctuation ("hello?" must match a pattern "\?").
    left, right = r"(?:(?<![a-z0-9])|(?![a-z0-9]))", r"(?:(?![a-z0-9])|(?<![a-z0-9]))"
    return re.compile(rf"{left}(?:{body}){right}" if word_boundaries else body)


def compile_patterns(patterns: Sequence[str], word_boundaries: bool) -> re.Pattern[str]:
    """One alternation of `patterns`; cached, so rule data compiled per call costs nothing."""
    return _compile(tuple(patterns), word_boundaries)


@dataclass(frozen=True, slots=True)
class Lexicon:
    name: str
    pattern: re.Pattern[str]
    negation: Negation | None

    def find(self, text: str) -> tuple[Hit, ...]:
        first = self.pattern.search(text)
        if first is None:  # the common case: one C-level scan, no Python objects
            return ()
        if self.negation is None and self.pattern.search(text, first.end()) is None:
            return (Hit(self.name, first.start(), first.end(), first.group(0)),)
        hits = []
        for m in self.pattern.finditer(text, first.start()):
            if self.negation is not None and self.negation.negates(text, m.start()):
                continue
            hits.append(Hit(self.name, m.start(), m.end(), m.group(0)))
        return tuple(hits)
