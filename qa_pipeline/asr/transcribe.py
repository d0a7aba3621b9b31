"""Transcribe decoded recordings: pack the speech of every channel of one or several calls into
shared 30-second windows, run Whisper over a few windows at a time (memory stays flat however
long the call), and map every word back to its call, channel and recording time.

Packing several calls together is what makes encoder work follow speech seconds: one call's
last window is rarely full, and the next call's speech fills it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa_pipeline.asr.packing import Packing, Piece, QuietPoint, Window, pack
from qa_pipeline.asr.prompt import Prompt
from qa_pipeline.asr.whisper import Transcriber, Word
from qa_pipeline.audio.decode import ASR_RATE, Audio
from qa_pipeline.audio.vad import SpeechRegion

WINDOWS_PER_CALL = 16  # windows decoded per model call: bounds packed audio and features
_FRAME_S = 0.02


@dataclass(frozen=True, slots=True)
class ChannelWord:
    channel: int
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class AsrRun:
    """One call's words. `windows` is its share of the encoder windows of the calls decoded
    together: their windows in proportion to its seconds of speech, so the one part-filled
    window of a group is shared, not charged to whichever call ended up in it."""

    words: tuple[ChannelWord, ...]
    windows: float
    speech_s: float
    packed_calls: int  # calls whose speech shared this call's windows, itself included


@dataclass(frozen=True)
class AsrInfo:
    model: str
    language: str
    encoder_windows: float  # this call's share of the windows it was decoded in
    speech_s: float
    device: str
    compute_type: str
    packed_calls: int  # calls decoded together in shared windows, this one included


@dataclass(frozen=True)
class CallAudio:
    """A decoded call and its speech, `regions[c]` for channel c."""

    audio: Audio
    regions: Sequence[Sequence[SpeechRegion]]


@dataclass(frozen=True, slots=True)
class _Track:
    call: int
    channel: int
    audio: Audio


def quiet_point(tracks: Sequence[_Track]) -> QuietPoint:
    """The time of least energy in [lo, hi] on a track: where a long region is cut."""

    def find(track: int, lo: float, hi: float) -> float:
        audio = tracks[track].audio
        samples = audio.floats(tracks[track].channel, lo, hi)
        frame = max(1, int(_FRAME_S * audio.sample_rate))
        count = len(samples) // frame
        if count < 2:
            return hi
        energy = np.square(samples[: count * frame].reshape(count, frame)).mean(axis=1)
        return round(lo + (int(np.argmin(energy)) + 0.5) * _FRAME_S, 3)

    return find


def _packed_audio(tracks: Sequence[_Track], windows: Sequence[Window]) -> np.ndarray:
    origin = windows[0].start
    out = np.zeros(round((windows[-1].end - origin) * ASR_RATE) + 1, np.float32)
    for window in windows:
        for piece in window.pieces:
            track = tracks[piece.channel]
            samples = track.audio.floats(track.channel, piece.start, piece.end)
            at = round((piece.packed_start - origin) * ASR_RATE)
            out[at : at + len(samples)] = samples[: len(out) - at]
    return out


def _place(
    word: Word, origin: float, packing: Packing, tracks: Sequence[_Track]
) -> tuple[int, ChannelWord] | None:
    middle = origin + (word.start + word.end) / 2
    piece: Piece | None = packing.locate(middle)
    if piece is None or not word.text.strip():
        return None
    track = tracks[piece.channel]
    return track.call, ChannelWord(
        track.channel,
        piece.to_recording(origin + word.start),
        piece.to_recording(origin + word.end),
        word.text,
        word.probability,
    )


def plan_windows(calls: Sequence[CallAudio]) -> tuple[Packing, list[_Track]]:
    """The shared windows of `calls` (call by call, each in time order) and the tracks their
    pieces name: the encoder work, known before any model runs."""
    tracks = [
        _Track(n, c, call.audio) for n, call in enumerate(calls) for c in range(len(call.regions))
    ]
    regions = [(t, r) for t, k in enumerate(tracks) for r in calls[k.call].regions[k.channel]]
    packing = pack(
        regions,
        quiet_point=quiet_point(tracks),
        order=lambda tr: (tracks[tr[0]].call, tr[1].start, tr[0]),
    )
    return packing, tracks


def transcribe_calls(
    calls: Sequence[CallAudio], transcriber: Transcriber, language: str, prompt: Prompt
) -> tuple[AsrRun, ...]:
    """Words of every channel of every call, decoded in windows the calls share (one language
    and prompt: the decode options are per model call)."""
    if any(c.audio.sample_rate != ASR_RATE for c in calls):
        raise ValueError(f"audio must be decoded at {ASR_RATE} Hz")
    packing, tracks = plan_windows(calls)
    words: list[list[ChannelWord]] = [[] for _ in calls]
    for first in range(0, len(packing.windows), WINDOWS_PER_CALL):
        batch = packing.windows[first : first + WINDOWS_PER_CALL]
        origin = batch[0].start
        spans = [(w.start - origin, w.end - origin) for w in batch]
        found = transcriber.transcribe(
            _packed_audio(tracks, batch), spans, language, prompt.initial or None,
            prompt.hotwords or None,
        )  # fmt: skip
        for placed in (_place(word, origin, packing, tracks) for word in found):
            if placed:
                words[placed[0]].append(placed[1])
    speech = [sum(r.duration for channel in c.regions for r in channel) for c in calls]
    per_second = len(packing.windows) / (sum(speech) or 1.0)
    return tuple(
        AsrRun(
            tuple(sorted(words[n], key=lambda w: (w.start, w.channel))),
            round(speech[n] * per_second, 3),
            round(speech[n], 3),
            len(calls),
        )
        for n in range(len(calls))
    )


def transcribe_channels(
    audio: Audio,
    regions: Sequence[Sequence[SpeechRegion]],
    transcriber: Transcriber,
    language: str,
    prompt: Prompt,
) -> AsrRun:
    """Words of every channel of one call; `regions[c]` is channel c's speech."""
    return transcribe_calls([CallAudio(audio, regions)], transcriber, language, prompt)[0]
