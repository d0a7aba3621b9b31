"""Cleanup before the checks: what ASR adds that nobody said. Every change is recorded
(`CleanupReport`), never silent: hallucinated segments dropped, repetition loops collapsed,
traditional characters converted."""

from __future__ import annotations

import dataclasses
import itertools
import re
from dataclasses import dataclass

from qa_pipeline.ingest.model import Call, Segment
from qa_pipeline.languages import get as get_language
from qa_pipeline.ruleset.schema import CleanupFile
from qa_pipeline.text.lexicon import compile_patterns
from qa_pipeline.text.normalize import surface

_PUNCT = re.compile(r"[\s，,。.！!？?、…~\-—:：;；\"'“”‘’]+")
_WORDS = re.compile(r"[^\s，,。.！!？?、…~\-—:：;；\"“”‘’]+")  # a spaced language's tokens
# An unspaced language's tokens: a character, or a run of Latin letters and digits (a number
# like 1000000 is one token, never a loop of zeros).
_CHARS = re.compile(r"[A-Za-z0-9]+|[^\s，,。.！!？?、…~\-—:：;；\"'“”‘’]")


def _token_pattern(spaced: bool) -> re.Pattern[str]:
    return _WORDS if spaced else _CHARS


def _same(keys: list[str], a: int, b: int, length: int) -> bool:
    """keys[a:a+length] == keys[b:b+length], stopping at the first difference."""
    if b + length > len(keys):
        return False
    return all(keys[a + j] == keys[b + j] for j in range(length))


@dataclass(frozen=True, slots=True)
class Change:
    start: float
    end: float
    speaker: str
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class CleanupReport:
    dropped: tuple[Change, ...] = ()
    collapsed: tuple[Change, ...] = ()
    traditional_converted: int = 0


class Cleaner:
    """Compiled once per rule set; `clean` is pure."""

    def __init__(self, rules: CleanupFile) -> None:
        self.rules = rules
        self.hallucination = compile_patterns(rules.hallucinations.patterns, False)
        loops = rules.loops
        # A unit of at least min_unit_chars repeated min_repeats times in a row (punctuation
        # and spaces between and inside the repeats ignored), or one character repeated
        # single_char_repeats times; a unit may be any length (a copied prompt sentence).
        self._min_repeated_pairs = min(
            (loops.min_repeats - 1) * loops.min_unit_chars - 1, loops.single_char_repeats - 2
        )

    def _hallucinated(self, view: str) -> bool:
        bare = _PUNCT.sub("", view)
        covered = sum(len(_PUNCT.sub("", m.group(0))) for m in self.hallucination.finditer(view))
        return bool(bare) and covered >= 0.6 * len(bare)

    def _strip_hallucinations(self, text: str, view: str) -> str:
        for match in reversed(list(self.hallucination.finditer(view))):
            # surface() keeps positions, so the span cuts the original text
            text = text[: match.start()] + text[match.end() :]
        return text.strip()

    def _may_loop(self, text: str, spaced: bool) -> bool:
        """A cheap necessary condition before the back-referencing pattern runs. A loop repeats
        its unit, so pairs recur: in Chinese, a unit of u characters said k times leaves at
        least (k-1)*u - 1 repeated character pairs (one character said n times, n - 2); in
        English, where common letter pairs recur in any sentence, a loop of words leaves at
        least k - 2 repeated word pairs."""
        if spaced:
            words = text.split()
            return (
                len(words) - 1 - len(set(itertools.pairwise(words)))
                >= self.rules.loops.min_repeats - 2
            )
        return len(text) - 1 - len(set(itertools.pairwise(text))) >= self._min_repeated_pairs

    def _collapse(self, text: str, spaced: bool = False) -> str:
        if not self._may_loop(text, spaced):
            return text
        tokens = [(m.group(0).lower(), m.start(), m.end()) for m in _token_pattern(spaced)
                  .finditer(text)]  # fmt: skip
        keys = [t[0] for t in tokens]
        pieces: list[str] = []
        kept_to = 0  # text before this offset is settled
        i = 0
        while i < len(keys):
            found = self._loop_at(keys, i)
            if found is None:
                i += 1
                continue
            unit, repeats = found
            pieces.append(text[kept_to : tokens[i + unit - 1][2]])  # up to the first unit
            kept_to = tokens[i + unit * repeats - 1][2]  # skip the repeats
            i += unit * repeats
        return "".join(pieces) + text[kept_to:]

    def _loop_at(self, keys: list[str], i: int) -> tuple[int, int] | None:
        """The unit length (in tokens) and repeats of the longest loop starting at token i."""
        loops = self.rules.loops
        fewest = min(loops.min_repeats, loops.single_char_repeats)
        best: tuple[int, int] | None = None
        for unit in range(1, (len(keys) - i) // fewest + 1):
            # cheap: every repeat of a loop starts with the unit's first token
            if any(keys[i + k * unit] != keys[i] for k in range(1, fewest)):
                continue
            repeats = 1
            while _same(keys, i, i + unit * repeats, unit):
                repeats += 1
            chars = sum(len(k) for k in keys[i : i + unit])
            if chars < loops.min_unit_chars and chars != 1:
                continue
            needed = loops.single_char_repeats if chars == 1 else loops.min_repeats
            if repeats >= needed and (best is None or unit * repeats > best[0] * best[1]):
                best = (unit, repeats)
        return best

    def clean(self, call: Call) -> tuple[Call, CleanupReport]:
        lang = get_language(call.language)
        kept: list[Segment] = []
        dropped: list[Change] = []
        collapsed: list[Change] = []
        converted = 0
        for segment in call.segments:
            text = segment.text
            simplified = lang.canonical_script(text)
            converted += simplified != text
            text = simplified
            if not text or _PUNCT.fullmatch(text):  # stops at the first word, unlike a sub
                dropped.append(self._change(segment, "empty text"))
                continue
            view = surface(text)
            if self.hallucination.search(view) is not None:  # rare: one scan rules it out
                if self._hallucinated(view):
                    dropped.append(self._change(segment, self.rules.hallucinations.reason))
                    continue
                # a hallucination fused into real speech
                collapsed.append(self._change(segment, self.rules.hallucinations.reason))
                text = self._strip_hallucinations(text, view)
            looped = self._collapse(text, spaced=lang.spaced)
            if looped != text:
                collapsed.append(self._change(segment, self.rules.loops.reason))
                text = looped
            previous = kept[-1] if kept else None
            if previous and previous.speaker == segment.speaker and previous.text == text:
                dropped.append(self._change(segment, "repeats the previous segment (ASR loop)"))
                continue
            kept.append(
                segment if text == segment.text else dataclasses.replace(segment, text=text)
            )
        report = CleanupReport(tuple(dropped), tuple(collapsed), converted)
        return dataclasses.replace(call, segments=tuple(kept)), report

    @staticmethod
    def _change(segment: Segment, reason: str) -> Change:
        return Change(segment.start, segment.end, segment.speaker, segment.text, reason)
