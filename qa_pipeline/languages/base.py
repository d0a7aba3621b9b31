"""What a language knows: the interface every registered language implements."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

from qa_pipeline.text.entities import DateMention, Duration, Money, Period

_SCRIPT_PUNCT = re.compile(r"[，。！？、；：,!?;:…]+|\.(?!\d)")  # keeps decimal points


@dataclass(frozen=True)
class CancelWording:
    """How a cancel method is said in the ASR prompt."""

    sms: str  # {code} {number}
    app: str  # {name}
    hotline: str  # {number}
    joiner: str  # between methods
    sentence: str  # {methods}


class AsrNoise:
    """How ASR garbles the language, for the seeded variants of `eval --noisy`. Each method
    draws from `rng` in a fixed order, so a seed always gives the same variant. The base class
    garbles nothing language-specific."""

    hallucinations: ClassVar[tuple[str, ...]] = ("Thanks for watching!",)

    def __init__(self, language: Language) -> None:
        self.language = language

    def spell_numbers(self, text: str, rng: random.Random) -> str:
        return text

    def mishear(self, text: str, rng: random.Random, chance: float) -> str:
        return text

    def filler(self, text: str, rng: random.Random) -> str:
        return text

    def strip_punctuation(self, text: str) -> str:
        return _SCRIPT_PUNCT.sub(self.language.joiner, text).strip()

    def variant_script(self, text: str) -> str | None:
        """The text in the other script Whisper writes whole stretches in, if any."""
        return None


class Language:
    """A language's skills. Subclasses set the class attributes and override what differs;
    `version` changes whenever a change could change a verdict (it is part of the rules
    version, so stored calls are re-judged)."""

    version: ClassVar[int] = 1
    joiner: ClassVar[str] = " "  # between segments and words
    spaced: ClassVar[bool] = True  # words are separated by spaces
    rate_unit: ClassVar[str] = "words/min"
    # `speech_units` said in the time of one English word (SPEC pace: 2.5 words/s, Mandarin 4-5
    # characters/s), so a length given in words holds in any language.
    units_per_word: ClassVar[float] = 1.0
    sentence_end: ClassVar[re.Pattern[str]] = re.compile(r".*?(?:[!?;]+|\.(?=\s|$)|$)")
    periods: ClassVar[dict[Period, re.Pattern[str]]] = {}
    cancel_wording: ClassVar[CancelWording] = CancelWording(
        "text {code} to {number}", "use {name}", "call {number}", " or ", "To cancel, {methods}."
    )

    def __init__(self, code: str) -> None:
        self.code = code

    @cached_property
    def noise(self) -> AsrNoise:
        return self.make_noise()

    def make_noise(self) -> AsrNoise:
        return AsrNoise(self)

    @property
    def name(self) -> str:
        return f"{self.code}.v{self.version}"

    # --- text ---------------------------------------------------------------------------------

    def split_sentences(self, text: str) -> list[str]:
        return [text[begin:end] for begin, end in self.sentence_spans(text)]

    def sentence_spans(self, text: str) -> list[tuple[int, int]]:
        """Where each sentence of `text` begins and ends, surrounding spaces left out: the
        sentences are always slices of the text, found in one pass."""
        spans: list[tuple[int, int]] = []
        for match in self.sentence_end.finditer(text):
            part = match.group()
            begin = match.start() + len(part) - len(part.lstrip())
            end = match.end() - (len(part) - len(part.rstrip()))
            if end > begin:
                spans.append((begin, end))
        return spans or [(0, len(text))]

    def canonical_script(self, text: str) -> str:
        """The text in the script the rules are written in (simplified Chinese for Mandarin)."""
        return text

    def digitize(self, text: str) -> str:
        """Spoken numbers as digits."""
        return text

    def heard_digit(self, word: str) -> str | None:
        """The digit whose name `word` sounds like, one sound off ("fix" for six, "free" for
        three), as a recognizer writes a digit it half heard; None for none (the default)."""
        return None

    def speech_units(self, text: str) -> int:
        """Words (or characters) in `text`, the unit of `rate_unit`."""
        return len(re.findall(r"[A-Za-z0-9']+", text))

    # --- entities (on the normalized view) ----------------------------------------------------

    def find_money(self, text: str, reach: int) -> list[Money]:
        return []

    def find_dates(self, text: str) -> list[DateMention]:
        return []

    def find_durations(self, text: str) -> list[Duration]:
        return []

    def stated_lengths(self, clause: str) -> list[float]:
        """Days of every length a clause states (30天, "14 days", 半年), not a price's period,
        an ordinal day or a date."""
        return []

    # --- wording ------------------------------------------------------------------------------

    def money_text(self, amount: float, period: str) -> str:
        """A fee as a reason says it: 3元/月, $2.99/month."""
        return f"{amount:g}/{period}"

    def price_phrase(self, amount: float, period: str) -> str:
        """A fee as the ASR prompt says it: 每月3元, $2.99 a month."""
        every = period in ("month", "day", "week", "year")
        return f"{amount:g} a {period}" if every else f"{amount:g}"

    def trial_phrase(self, days: int) -> str:
        return f"Free trial for {days} days. "

    def cancel_phrase(self, methods: Sequence[tuple[str, dict[str, str]]]) -> str:
        """`methods`: (kind, fields) of each cancel method: sms, app or hotline."""
        wording = self.cancel_wording
        parts = [getattr(wording, kind).format(**fields) for kind, fields in methods]
        if not parts:
            return ""
        return wording.sentence.format(methods=wording.joiner.join(parts))
