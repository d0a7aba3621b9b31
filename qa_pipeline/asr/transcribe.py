"""Transcribe a decoded recording: pack each channel's speech into shared 30-second windows,
run Whisper over a few windows at a time (memory stays flat however long the call), and map
every word back to its channel and recording time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qa_pipeline.asr.packing import Packing, Piece, QuietPoint, Window, pack
from qa_pipeline.asr.prompt import Prompt
from qa_pipeline.asr.whisper import Transcriber, Word
from qa_pipeline.audio.decode import Audio
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
    words: tuple[ChannelWord, ...]
    windows: int
    speech_s: float


def quiet_point(audio: Audio) -> QuietPoint:
    """The time of least energy in [lo, hi] on a channel: where a long region is cut."""

    def find(channel: int, lo: float, hi: float) -> float:
        samples = audio.floats(channel, lo, hi)
        frame = max(1, int(_FRAME_S * audio.sample_rate))
        count = len(samples) // frame
        if count < 2:
            return hi
        energy = np.square(samples[: count * frame].reshape(count, frame)).mean(axis=1)
        return round(lo + (int(np.argmin(energy)) + 0.5) * _FRAME_S, 3)

    return find


def _packed_audio(audio: Audio, windows: Sequence[Window]) -> np.ndarray:
    origin = windows[0].start
    out = np.zeros(round((windows[-1].end - origin) * audio.sample_rate) + 1, np.float32)
    for window in windows:
        for piece in window.pieces:
            samples = audio.floats(piece.channel, piece.start, piece.end)
            at = round((piece.packed_start - origin) * audio.sample_rate)
            out[at : at + len(samples)] = samples[: len(out) - at]
    return out


def _place(word: Word, origin: float, packing: Packing) -> ChannelWord | None:
    middle = origin + (word.start + word.end) / 2
    piece: Piece | None = packing.locate(middle)
    if piece is None or not word.text.strip():
        return None
    return ChannelWord(
        piece.channel,
        piece.to_recording(origin + word.start),
        piece.to_recording(origin + word.end),
        word.text,
        word.probability,
    )


def transcribe_channels(
    audio: Audio,
    regions: Sequence[Sequence[SpeechRegion]],
    transcriber: Transcriber,
    language: str,
    prompt: Prompt,
) -> AsrRun:
    """Words of every channel; `regions[c]` is channel c's speech."""
    packing = pack(
        [(c, r) for c, channel in enumerate(regions) for r in channel],
        quiet_point=quiet_point(audio),
    )
    words: list[ChannelWord] = []
    for first in range(0, len(packing.windows), WINDOWS_PER_CALL):
        batch = packing.windows[first : first + WINDOWS_PER_CALL]
        origin = batch[0].start
        spans = [(w.start - origin, w.end - origin) for w in batch]
        found = transcriber.transcribe(
            _packed_audio(audio, batch), spans, language, prompt.initial or None,
            prompt.hotwords or None,
        )  # fmt: skip
        words.extend(w for w in (_place(word, origin, packing) for word in found) if w)
    words.sort(key=lambda w: (w.start, w.channel))
    return AsrRun(tuple(words), len(packing.windows), packing.speech_s)
