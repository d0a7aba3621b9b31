"""Whether a decode heard the speech it was given: words against speech seconds, and Whisper's
own figures (compression ratio, average log-probability, no-speech probability).

VAD already said these seconds are speech, so a window or region that decodes to a few words,
to a loop, or to text the model itself doubts lost speech. Such a decode is tried again
(transcribe.py) and, when still poor, marked `asr_suspect` with the reason given here.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class QualityGate:
    """Thresholds of a decode that heard its speech. Rates are in the language's speech units
    (words, or characters for Chinese) per second of VAD speech, which includes pauses and
    padding, so they sit far below real speech rates (2-3 words/s, 4-6 characters/s)."""

    max_compression_ratio: float = 2.4  # Whisper's own loop threshold
    min_avg_logprob: float = -1.0
    max_no_speech_prob: float = 0.6  # with a low log-prob: the model heard silence
    min_rate: float = 0.6  # words per speech second, spaced languages
    min_rate_unspaced: float = 1.2  # characters per speech second
    min_judged_s: float = 1.5  # a shorter region is judged only when it decodes to nothing
    min_empty_s: float = 0.8  # a region this long with no word at all lost its speech
    # A prompt clause this long heard verbatim in a region is decoded again without the prompt
    # (Whisper copies its prompt into windows it cannot hear well).
    min_echo_words: int = 4
    min_echo_chars: int = 6

    def rate(self, spaced: bool) -> float:
        return self.min_rate if spaced else self.min_rate_unspaced


DEFAULT_GATE = QualityGate()


@dataclass(frozen=True, slots=True)
class Reading:
    """One decode (a window or a region) measured."""

    speech_s: float
    units: int  # words, or characters for an unspaced language
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


def compression_ratio(text: str) -> float:
    """Bytes over zlib-compressed bytes, as Whisper measures a loop (1.0 for empty text)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 1.0


def window_problem(reading: Reading, gate: QualityGate, spaced: bool) -> str | None:
    """Why a decoded window (many regions) lost speech, or None when it heard it."""
    if reading.compression_ratio > gate.max_compression_ratio:
        return f"repetition (compression ratio {reading.compression_ratio:.1f})"
    if reading.avg_logprob < gate.min_avg_logprob:
        if reading.no_speech_prob > gate.max_no_speech_prob:
            return f"decoded as silence (no-speech probability {reading.no_speech_prob:.2f})"
        return f"low confidence (average log-probability {reading.avg_logprob:.1f})"
    return _rate_problem(reading, gate, spaced)


def region_problem(reading: Reading, gate: QualityGate, spaced: bool) -> str | None:
    """Why the words placed in one speech region are too few for its seconds, or None."""
    if reading.units == 0 and reading.speech_s >= gate.min_empty_s:
        return f"no words in {reading.speech_s:.1f} s of speech"
    if reading.speech_s < gate.min_judged_s:
        return None
    return _rate_problem(reading, gate, spaced)


def _rate_problem(reading: Reading, gate: QualityGate, spaced: bool) -> str | None:
    if reading.units < gate.rate(spaced) * reading.speech_s:
        unit = "words" if spaced else "characters"
        return f"{reading.units} {unit} in {reading.speech_s:.1f} s of speech"
    return None


def better(
    first: tuple[Reading, str | None], second: tuple[Reading, str | None], gate: QualityGate
) -> bool:
    """Whether the second decode of a region should replace the first: it passes where the
    first failed, or the first heard nothing or a loop and the second, failing too, heard
    something that is no loop (a loop is never speech). Between two other poor decodes that
    both heard words the first stays: sampling at high temperature made more words, not truer
    ones (measured on Mandarin)."""
    (a, a_problem), (b, b_problem) = first, second
    if a_problem is None or b_problem is None:
        return b_problem is None and a_problem is not None
    empty_or_loop = a.units == 0 or a.compression_ratio > gate.max_compression_ratio
    return empty_or_loop and b.units > 0 and b.compression_ratio <= gate.max_compression_ratio


_CLAUSE = re.compile(r"[。，,！!？?；;：:\n]+|\.(?!\d)")  # not the point of 2.99
_NOT_TEXT = re.compile(r"[^\w]+")


def _bare(text: str) -> str:
    return _NOT_TEXT.sub("", text.lower())


def prompt_clauses(prompt: str, gate: QualityGate, spaced: bool) -> tuple[str, ...]:
    """The prompt's clauses long enough that hearing one verbatim may be a copy, bare
    (lower case, no spaces or punctuation)."""
    clauses = []
    for clause in _CLAUSE.split(prompt):
        long = (len(clause.split()) >= gate.min_echo_words if spaced
                else len(_bare(clause)) >= gate.min_echo_chars)  # fmt: skip
        if long:
            clauses.append(_bare(clause))
    return tuple(dict.fromkeys(clauses))


def echo_problem(text: str, clauses: tuple[str, ...]) -> str | None:
    """Why a region's words may be the prompt copied rather than speech heard, or None."""
    bare = _bare(text)
    for clause in clauses:
        if clause and clause in bare:
            return f"prompt copied ({clause[:40]})"
    return None
