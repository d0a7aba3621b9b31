"""The call page's timeline: the agent's and the customer's turns as bars on one time axis,
silences and overlaps between them, the customer's per-turn sentiment readings, and a labelled
pin for each finding and each item's evidence (identity, price, consent...). Positions are
percentages of the call, so the page draws it as SVG without script or inline styles (the
Content-Security-Policy forbids both); every bar and pin carries the time it seeks to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa_pipeline.audio.signals import AudioSignals
from qa_pipeline.ruleset.schema import SignalsFile
from qa_pipeline.verdict.model import CallVerdict, TranscriptLine

ROLES = ("agent", "customer")
LEFT = 7.0  # percent of the width kept for the lane names
PIN_ROWS = 4  # rows of pin labels, so labels of nearby pins do not overprint
CHAR_PERCENT = 1.1  # a label character's width, as a share of a laptop-wide timeline


@dataclass(frozen=True)
class Bar:
    """A stretch of the call: a turn, a silence or an overlap."""

    start: float
    end: float
    x: float  # percent of the width
    width: float
    kind: str  # a role, silence, overlap or interruption
    text: str = ""  # what the turn said (tooltip)


@dataclass(frozen=True)
class Reading:
    """A customer turn as the understanding model read it."""

    start: float
    x: float
    width: float
    sentiment: str  # negative | neutral | positive
    sentiment_p: float
    complaint: str  # complaint_intent | dissatisfied | none
    complaint_p: float


@dataclass(frozen=True)
class Pin:
    at: float
    x: float
    code: str  # a finding code (criterion.item, forbidden.category, agent_hung_up_first...)
    kind: str  # finding (a finding on this call) | passed (an item's evidence) | forbidden
    row: int  # label row, 0 nearest the lanes
    anchor: str  # SVG text-anchor: labels near the right edge end at their pin


@dataclass(frozen=True)
class Tick:
    at: float
    x: float
    label: str  # 01:10


@dataclass(frozen=True)
class Timeline:
    duration: float
    ticks: tuple[Tick, ...]
    turns: tuple[Bar, ...]
    events: tuple[Bar, ...]  # silences and overlaps, by start
    readings: tuple[Reading, ...]  # the customer's turns as the understanding model read them
    pins: tuple[Pin, ...]


def x_of(seconds: float, duration: float) -> float:
    return round(LEFT + (100 - LEFT) * min(max(seconds, 0.0), duration) / duration, 2)


def _bar(start: float, end: float, duration: float, kind: str, text: str = "") -> Bar:
    x = x_of(start, duration)
    return Bar(start, end, x, max(round(x_of(end, duration) - x, 2), 0.3), kind, text)


def _step(duration: float) -> int:
    """Seconds between ticks: about eight ticks over the call."""
    return next((s for s in (5, 10, 15, 30, 60, 120, 300, 600) if duration / s <= 8), 1200)


def _ticks(duration: float) -> tuple[Tick, ...]:
    step = _step(duration)
    return tuple(
        Tick(float(at), x_of(at, duration), f"{at // 60:02d}:{at % 60:02d}")
        for at in range(0, int(duration) + 1, step)
    )


def _events_from_turns(
    lines: Sequence[TranscriptLine], thresholds: SignalsFile
) -> list[tuple[float, float, str]]:
    """Silences and overlaps as the transcript's times show them (a call without audio
    signals): a gap of `min_silence_s` or more between turns, a turn starting `min_overlap_s` or
    more before the other role's turn ends (an interruption from `interruption_s`)."""
    spoken = sorted((t for t in lines if t.role in ROLES), key=lambda t: t.start)
    found: list[tuple[float, float, str]] = []
    reach = 0.0  # where speech so far ends
    last_end = {role: 0.0 for role in ROLES}
    for line in spoken:
        if line.start - reach >= thresholds.min_silence_s and reach > 0:
            found.append((reach, line.start, "silence"))
        other = "customer" if line.role == "agent" else "agent"
        overlap = min(last_end[other], line.end) - line.start
        if overlap >= thresholds.min_overlap_s:
            kind = "interruption" if overlap >= thresholds.interruption_s else "overlap"
            found.append((line.start, line.start + overlap, kind))
        last_end[line.role] = max(last_end[line.role], line.end)
        reach = max(reach, line.end)
    return found


def _events(
    lines: Sequence[TranscriptLine], audio: AudioSignals | None, thresholds: SignalsFile
) -> list[tuple[float, float, str]]:
    """The audio's silences and overlaps when measured, else the transcript's."""
    if audio is None:
        return _events_from_turns(lines, thresholds)
    found = [(start, end, "silence") for start, end in audio.silences]
    found += [
        (o.start, o.end, "interruption" if o.interruption else "overlap") for o in audio.overlaps
    ]
    return found


def _moments(verdict: CallVerdict | None, findings: Sequence[tuple[str, float]]) -> list[Pin]:
    """A pin per finding at its first evidence, and per passed item with evidence (where the
    identity question, the price, the consent... were said)."""
    raw: list[tuple[float, str, str]] = [(at, code, "finding") for code, at in findings]
    found = {code for code, _ in findings}
    if verdict is not None:
        for code, item in verdict.judged_items():
            if item.passed and item.evidence and code not in found:
                raw.append((min(e.start for e in item.evidence), code, "passed"))
    return [Pin(at, 0.0, code, kind, 0, "start") for at, code, kind in raw]


def _rows(pins: list[Pin], duration: float, labels: dict[str, str]) -> tuple[Pin, ...]:
    """Each pin's label row: the nearest row whose last label ends before this pin."""
    ends = [-1.0] * PIN_ROWS
    placed = []
    for pin in sorted(pins, key=lambda p: (p.at, p.kind)):
        x = x_of(pin.at, duration)
        width = CHAR_PERCENT * len(labels.get(pin.code, pin.code))
        right = x + width > 100
        left_edge = x - width if right else x
        row = next((r for r in range(PIN_ROWS) if ends[r] < left_edge), None)
        if row is None:
            row = min(range(PIN_ROWS), key=lambda r: ends[r])
        ends[row] = x if right else x + width
        placed.append(Pin(pin.at, x, pin.code, pin.kind, row, "end" if right else "start"))
    return tuple(placed)


def timeline(
    lines: Sequence[TranscriptLine],
    duration: float,
    verdict: CallVerdict | None,
    findings: Sequence[tuple[str, float]],
    audio: AudioSignals | None,
    thresholds: SignalsFile,
    labels: dict[str, str],
) -> Timeline:
    """The call on one axis; `findings` are (code, first evidence time); `labels` each pin
    code's label in the reader's language (to keep labels from overprinting)."""
    duration = max([duration, *(line.end for line in lines)]) or 1.0
    turns = tuple(
        _bar(line.start, line.end, duration, line.role, line.text)
        for line in lines
        if line.role in ROLES
    )
    events = tuple(
        _bar(start, end, duration, kind)
        for start, end, kind in sorted(_events(lines, audio, thresholds))
    )
    readings = tuple(
        Reading(r.start, bar.x, bar.width, r.sentiment, r.sentiment_p, r.complaint, r.complaint_p)
        for r in (verdict.readings if verdict else ())
        for bar in (_bar(r.start, r.end, duration, r.sentiment),)
    )
    pins = _rows(_moments(verdict, findings), duration, labels)
    return Timeline(duration, _ticks(duration), turns, events, readings, pins)
