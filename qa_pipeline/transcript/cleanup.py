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
        # A unit repeated min_repeats times (separated by spaces/punctuation), or one
        # character repeated single_char_repeats times.
        self._min_repeated_pairs = min(
            (loops.min_repeats - 1) * loops.min_unit_chars - 1, loops.single_char_repeats - 2
        )
        self.loop = re.compile(
            rf"(?P<unit>[^\s，,。.！!？?][^，,。.！!？?]{{{loops.min_unit_chars - 1},15}}?)"
            rf"(?:[\s，,。.！!？?、]*(?P=unit)){{{loops.min_repeats - 1},}}"
            rf"|(?P<char>[^\s，,。.！!？?])(?P=char){{{loops.single_char_repeats - 1},}}"
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

        def one(match: re.Match[str]) -> str:
            return match.group("unit") or match.group("char")

        return self.loop.sub(one, text)

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
            if not _PUNCT.sub("", text):
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
