"""Compiled lexicons: one regular expression per dialogue act, with negation scope.

A lexicon compiles all its patterns into one alternation once, at rule-load time, so matching a
turn is a single scan per act (the rules stage runs hundreds of calls a second).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CLAUSE_END = re.compile(r"[，,。！？!?；;:：…—]|\.\s")  # ". " ends a clause, "2.99" does not
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a lexicon matched a sentence's normalized view. A hit of the understanding model
    (`source` "model") spans the sentence and says what was read and how sure it was."""

    lexicon: str
    start: int
    end: int
    text: str
    source: str = "rule"
    confidence: float | None = None
    read: str | None = None


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


# The first-character screen reads patterns with CPython's private regex parser. It pays: the
# forbidden-phrase scan runs 1.7x (en) to 2x (zh) faster, judging calls not seen before 1.2x.
# Should that API move or change shape, patterns compile without the screen: same matches.
try:
    import re._constants as _c  # type: ignore[import-not-found]  # sre internals, no stubs
    import re._parser as _parser  # type: ignore[import-not-found]

    _ZERO_WIDTH = frozenset({_c.AT, _c.ASSERT, _c.ASSERT_NOT})
    _REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT})
except (ImportError, AttributeError):
    _parser = None


def _set_chars(items: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < 512:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:  # a negated set, \w, \s ...: too wide to screen by
            return None
    return chars


def _first(items: Any) -> tuple[set[str], bool] | None:
    r"""The characters a match of parsed `items` can start with, and whether it can be empty;
    None when that is not a short list (., \w, a negated set)."""
    chars: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is _c.LITERAL:
            return chars | {chr(av)}, False
        if op is _c.IN:
            found = _set_chars(av)
            return None if found is None else (chars | found, False)
        if op is _c.BRANCH:
            alternatives = [_first(alternative) for alternative in av[1]]
            if any(a is None for a in alternatives):
                return None
            chars.update(*(a[0] for a in alternatives if a))
            if not any(a[1] for a in alternatives if a):
                return chars, False
        elif op is _c.SUBPATTERN:
            inner = _first(av[-1])
            if inner is None:
                return None
            chars |= inner[0]
            if not inner[1]:
                return chars, False
        elif op in _REPEATS:
            inner = _first(av[2])
            if inner is None:
                return None
            chars |= inner[0]
            if av[0] > 0 and not inner[1]:
                return chars, False
        else:
            return None
    return chars, True


def first_chars(pattern: str) -> frozenset[str] | None:
    r"""Every character a match of `pattern` can start with, or None when that cannot be told
    (it may match empty, or start with ., \w or a negated set)."""
    if _parser is None:
        return None
    if "(?" in pattern and re.search(r"\(\?[a-zA-Z]*i", pattern):
        return None  # case-insensitive: the set would need both cases
    try:
        found = _first(_parser.parse(pattern).data)
    except Exception:  # the private parser changed shape; re.compile still reports bad patterns
        return None
    return None if found is None or found[1] else frozenset(found[0])


@lru_cache(maxsize=1024)
def _compile(patterns: tuple[str, ...], word_boundaries: bool) -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    # Look-arounds rather than \b, so patterns that start or end in punctuation still work.
    # A word edge where the match starts or ends with a letter or digit; none is needed where it
    # starts or ends with punctuation ("hello?" must match a pattern "\?").
    left, right = r"(?:(?<![a-z0-9])|(?![a-z0-9]))", r"(?:(?![a-z0-9])|(?<![a-z0-9]))"
    # An alternation is tried alternative by alternative at every position; a look-ahead for the
    # characters a match can start with fails most positions at once (a long union such as the
    # forbidden-phrase screen runs several times faster).
    starts = [first_chars(p) for p in patterns]
    screen = ""
    if patterns and all(s is not None for s in starts):
        chars = sorted(set().union(*(s for s in starts if s)))
        screen = "(?=[" + "".join("\\" + c if c in "\\]^-[" else c for c in chars) + "])"
    if word_boundaries:
        return re.compile(rf"{left}{screen}(?:{body}){right}")
    return re.compile(f"{screen}(?:{body})" if screen else body)


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
