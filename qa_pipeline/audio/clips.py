"""Clips cut from a stored recording, as WAV files of their own (the evidence pack's).

A PCM WAV (what telephony exports and the tests write) is cut with the standard `wave` module:
each clip holds the recording's own samples, byte for byte, at its own rate and channels, so a
clip can be checked against the original. Any other format (mp3, m4a, amr, a compressed WAV) is
decoded by PyAV (`decode`) at 16 kHz first. Every failure is an AudioFileError naming the file."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa_pipeline.audio.decode import decode
from qa_pipeline.errors import AudioFileError


@dataclass(frozen=True)
class Clip:
    """What was cut: `start` and `end` in seconds of the recording (the span asked for, kept
    within the recording), and the clip as a WAV file."""

    start: float
    end: float
    wav: bytes


@dataclass(frozen=True)
class Cut:
    sample_rate: int
    channels: int
    duration_s: float
    clips: tuple[Clip | None, ...]  # one per span asked for; None: the span is not in it
    truncated: bool = False  # the file breaks off: what is there was cut


def cut_clips(path: Path, spans: Sequence[tuple[float, float]]) -> Cut:
    """Cut each (start, end) span of `path`."""
    if not path.is_file():
        raise AudioFileError(str(path), "no such file")
    try:
        return _cut_wav(path, spans)
    except (wave.Error, EOFError):  # not a PCM WAV: decode it whatever it is
        return _cut_decoded(path, spans)


def _frames(span: tuple[float, float], rate: int, total: int) -> tuple[int, int] | None:
    first = max(0, round(span[0] * rate))
    last = min(total, round(span[1] * rate))
    return (first, last) if last > first else None


def _wav(frames: bytes, rate: int, channels: int, width: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(width)
        clip.setframerate(rate)
        clip.writeframes(frames)
    return out.getvalue()


def _cut_wav(path: Path, spans: Sequence[tuple[float, float]]) -> Cut:
    with wave.open(str(path), "rb") as source:
        rate, channels = source.getframerate(), source.getnchannels()
        width = source.getsampwidth()
        header = source.getnframes()
        total = _frames_present(source, header) if header else 0  # fewer: cut off in transfer
        if total == 0:
            raise AudioFileError(str(path), "holds no audio samples")

        def read(first: int, last: int) -> bytes:
            source.setpos(first)
            return source.readframes(last - first)

        clips = _clips(spans, (rate, channels, width), total, read)
    return Cut(rate, channels, total / rate, clips, total < header)


def _clips(
    spans: Sequence[tuple[float, float]],
    shape: tuple[int, int, int],
    total: int,
    read: Callable[[int, int], bytes],
) -> tuple[Clip | None, ...]:
    """Each span's frames as a WAV clip; `shape` is (rate, channels, sample width), `read(first,
    last)` the frames' bytes (a clip ends where the bytes read end)."""
    rate, channels, width = shape
    clips: list[Clip | None] = []
    for span in spans:
        frames = _frames(span, rate, total)
        if frames is None:
            clips.append(None)
            continue
        data = read(*frames)
        got = len(data) // (channels * width)
        clips.append(Clip(frames[0] / rate, (frames[0] + got) / rate,
                          _wav(data, rate, channels, width)))  # fmt: skip
    return tuple(clips)


def _frames_present(source: wave.Wave_read, header: int) -> int:
    """How many of the header's frames the file holds: the first frame that cannot be read,
    found by bisection (a few dozen one-frame reads)."""

    def readable(frame: int) -> bool:
        source.setpos(frame)
        return bool(source.readframes(1))

    if readable(header - 1):
        return header
    if not readable(0):
        return 0
    low, high = 0, header - 1  # frame `low` is readable, `high` is not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if readable(middle) else (low, middle)
    return low + 1


def _cut_decoded(path: Path, spans: Sequence[tuple[float, float]]) -> Cut:
    audio = decode(path)
    pcm = np.stack(audio.channels, axis=1)  # interleaved frames
    total, rate = pcm.shape[0], audio.sample_rate
    clips = _clips(spans, (rate, pcm.shape[1], 2), total,
                   lambda first, last: pcm[first:last].tobytes())  # fmt: skip
    return Cut(rate, pcm.shape[1], total / rate, clips, audio.truncated)
