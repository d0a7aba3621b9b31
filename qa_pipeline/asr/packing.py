"""Pack speech (both channels of one call, or of several calls) into full 30-second Whisper
windows.

Encoder work is one window per 30 s of *speech*, not of call: regions are laid end to end with a
short silent gap, in time order across channels (so the decoder reads the dialogue in order),
and a region that does not fit is split at its quietest point near the window's edge. Each
packed piece remembers its track (a channel of a call) and time, so words map back to it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from qa_pipeline.audio.vad import SpeechRegion

WINDOW_S = 30.0
# What may share a window: every channel of several calls, the channels of one call, or one
# channel only (the default: least mixing, best measured, docs/asr.md).
PackingMode = Literal["calls", "channels", "channel"]

# (track, start, end) -> a time in [start, end] where cutting harms least
QuietPoint = Callable[[int, float, float], float]
# The order regions are laid in: time order within a call, channels interleaved
Order = Callable[[tuple[int, SpeechRegion]], Any]


@dataclass(frozen=True, slots=True)
class Piece:
    channel: int  # the track: a channel of the call, or of one call of several
    start: float  # in the recording
    end: float
    packed_start: float  # in the packed audio
    # Seconds of the track's own audio laid before and after the speech (context, so a turn's
    # first or last sound that VAD trimmed is heard); words there map onto the piece's edges.
    lead: float = 0.0
    tail: float = 0.0

    @property
    def packed_end(self) -> float:
        return self.packed_start + (self.end - self.start)

    def to_recording(self, packed_t: float) -> float:
        offset = min(max(packed_t - self.packed_start, 0.0), self.end - self.start)
        return round(self.start + offset, 3)


@dataclass(frozen=True)
class Window:
    start: float  # in the packed audio
    end: float
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Packing:
    windows: tuple[Window, ...]
    speech_s: float

    def pieces(self) -> tuple[Piece, ...]:
        return self._pieces

    @cached_property
    def _pieces(self) -> tuple[Piece, ...]:
        return tuple(p for w in self.windows for p in w.pieces)

    @cached_property
    def _starts(self) -> list[float]:
        return [p.packed_start for p in self._pieces]

    def locate(self, packed_t: float) -> Piece | None:
        """The piece a packed time falls in, else the nearest one (bisect: words are many)."""
        pieces = self._pieces
        if not pieces:
            return None
        i = max(0, bisect.bisect_right(self._starts, packed_t) - 1)
        candidates = pieces[max(0, i - 1) : i + 2]
        return min(candidates, key=lambda p: _distance(p, packed_t))


def _distance(piece: Piece, t: float) -> float:
    if piece.packed_start <= t <= piece.packed_end:
        return 0.0
    return min(abs(t - piece.packed_start), abs(t - piece.packed_end))


def _at_edge(channel: int, start: float, end: float) -> float:
    return end


def time_order(region: tuple[int, SpeechRegion]) -> tuple[float, int]:
    return region[1].start, region[0]


def _context(
    regions: Sequence[tuple[int, SpeechRegion]], pad_s: float
) -> dict[tuple[int, float], tuple[float, float]]:
    """(track, start) -> the lead and tail a region may take: up to `pad_s`, and at most half
    the silence to its neighbour on the same track, so no audio is laid twice."""
    found: dict[tuple[int, float], tuple[float, float]] = {}
    if pad_s <= 0:
        return found
    by_track: dict[int, list[SpeechRegion]] = {}
    for track, region in regions:
        by_track.setdefault(track, []).append(region)
    for track, own in by_track.items():
        own.sort(key=lambda r: r.start)
        for i, r in enumerate(own):
            before = (r.start - own[i - 1].end) / 2 if i else r.start
            after = (own[i + 1].start - r.end) / 2 if i + 1 < len(own) else pad_s
            found[(track, r.start)] = (max(0.0, min(pad_s, before)), max(0.0, min(pad_s, after)))
    return found


def pack(
    regions: Sequence[tuple[int, SpeechRegion]],
    window_s: float = WINDOW_S,
    gap_s: float = 0.15,
    min_split_s: float = 1.5,
    quiet_point: QuietPoint = _at_edge,
    order: Order = time_order,
    group: Callable[[int], Any] | None = None,
    pad_s: float = 0.0,
) -> Packing:
    """Lay `(track, region)` pairs, sorted by `order`, into windows of at most `window_s`
    seconds; with `group`, tracks of different groups never share a window. With `pad_s`, each
    region carries up to that much of its own audio before and after it (the silence between
    pieces, `gap_s` at least, is that context where there is some); a cut carries none."""
    windows: list[Window] = []
    current: list[Piece] = []
    used = 0.0
    origin = 0.0  # packed time where the current window starts

    def close() -> None:
        nonlocal current, used, origin
        if current:
            windows.append(Window(origin, origin + used, tuple(current)))
            origin += used
        current, used = [], 0.0

    queue = sorted(regions, key=order)
    speech = sum(r.duration for _, r in queue)
    context = _context(queue, pad_s)
    # (track, start, end, lead, tail): a region's pads, none at a cut
    pending = [(c, r.start, r.end, *context.get((c, r.start), (0.0, 0.0))) for c, r in queue]
    pending.reverse()
    while pending:
        channel, start, end, lead, tail = pending.pop()
        if group is not None and current and group(current[-1].channel) != group(channel):
            close()
        silence = max(0.0, gap_s - current[-1].tail - lead) if current else 0.0
        room = window_s - used - silence - lead
        if end - start <= room:  # the tail takes what room is left
            tail = min(tail, room - (end - start))
            current.append(Piece(channel, start, end, origin + used + silence + lead, lead, tail))
            used += silence + lead + end - start + tail
            continue
        if room >= min_split_s:
            cut = quiet_point(channel, start + max(room - 2.0, room / 2), start + room)
            current.append(Piece(channel, start, cut, origin + used + silence + lead, lead))
            used += silence + lead + cut - start
            pending.append((channel, cut, end, 0.0, tail))
        elif not current:  # cannot happen with window_s > min_split_s, kept for safety
            pending.append((channel, start + window_s, end, 0.0, tail))
            current.append(Piece(channel, start, start + window_s, origin))
            used = window_s
        else:
            pending.append((channel, start, end, lead, tail))
        close()
    close()
    return Packing(tuple(windows), round(speech, 3))
