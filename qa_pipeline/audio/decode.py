"""Decode a recording to int16 channels at the ASR sample rate with PyAV (the decoder
faster-whisper uses). This module is the only one that imports `av`.

Samples stream into one preallocated int16 buffer sized from the container's duration, so peak
memory is the decoded audio itself (2 bytes a sample a channel) instead of the several float32
copies `faster_whisper.decode_audio` makes; float32 is produced per slice, when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import AudioFileError

ASR_RATE = 16000
MAX_SECONDS = 4 * 3600  # longer "calls" are export mistakes (a day's trunk dump)

Pcm = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Audio:
    """Decoded channels (one for mono, two for stereo) at `sample_rate`."""

    path: str
    sample_rate: int
    channels: tuple[Pcm, ...]
    source_rate: int
    truncated: bool = False  # the file broke off; what decoded before the break is kept

    @property
    def duration_s(self) -> float:
        return len(self.channels[0]) / self.sample_rate if self.channels else 0.0

    def floats(
        self, channel: int, start_s: float = 0.0, end_s: float | None = None
    ) -> npt.NDArray[np.float32]:
        """A float32 slice in [-1, 1], the form VAD and Whisper read."""
        pcm = self.channels[channel]
        first = max(0, int(start_s * self.sample_rate))
        last = len(pcm) if end_s is None else min(len(pcm), int(end_s * self.sample_rate))
        return pcm[first:last].astype(np.float32) / 32768.0


class _Buffer:
    """Planar int16 samples (one row a channel) appended frame by frame into one array, so
    the channels come out as views: no second copy of the audio is ever made."""

    def __init__(self, channels: int, estimate: int) -> None:
        self.channels = channels
        self.data = np.zeros((channels, max(estimate, ASR_RATE)), dtype=np.int16)
        self.size = 0

    def append(self, frames: Pcm) -> None:
        block = frames.reshape(self.channels, -1)
        needed = self.size + block.shape[1]
        if needed > self.data.shape[1]:  # the container's duration was an underestimate
            width = max(needed, int(self.data.shape[1] * 1.25))
            grown = np.zeros((self.channels, width), np.int16)
            grown[:, : self.size] = self.data[:, : self.size]
            self.data = grown
        self.data[:, self.size : needed] = block
        self.size = needed

    def split(self) -> tuple[Pcm, ...]:
        return tuple(self.data[c, : self.size] for c in range(self.channels))


def _estimate(container: av.container.InputContainer, stream: av.AudioStream, rate: int) -> int:
    if stream.duration is not None and stream.time_base is not None:
        return int(float(stream.duration * stream.time_base) * rate * 1.02)
    if container.duration is not None:
        return int(container.duration / av.time_base * rate * 1.02)
    return 60 * rate


def decode(path: Path, sample_rate: int = ASR_RATE, max_seconds: float = MAX_SECONDS) -> Audio:
    """Decode `path`; every failure is an AudioFileError naming the file and the problem."""
    source = str(path)
    if not path.is_file():
        raise AudioFileError(source, "no such file")
    if path.stat().st_size == 0:
        raise AudioFileError(source, "the file is empty")
    try:
        container = av.open(source, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise AudioFileError(source, f"not a readable audio file ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioFileError(source, "has no audio stream")
        stream = container.streams.audio[0]
        count = 2 if (stream.codec_context.channels or 1) >= 2 else 1
        if _estimate(container, stream, 1) > max_seconds * 1.02:
            raise AudioFileError(source, f"longer than the {max_seconds:.0f} s limit")
        resampler = av.AudioResampler(
            format="s16p", layout="stereo" if count == 2 else "mono", rate=sample_rate
        )
        expected = _estimate(container, stream, sample_rate)
        buffer = _Buffer(count, expected)
        broke = _decode_into(container, stream, resampler, buffer, max_seconds * sample_rate)
        # A cut-off upload often decodes cleanly up to the cut: compare with the header.
        truncated = broke or buffer.size < 0.9 * expected / 1.02
        source_rate = stream.codec_context.sample_rate or sample_rate
    if buffer.size == 0:
        raise AudioFileError(source, "decoded to no audio samples")
    return Audio(source, sample_rate, buffer.split(), source_rate, truncated)


def _decode_into(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    resampler: av.AudioResampler,
    buffer: _Buffer,
    limit: float,
) -> bool:
    """Fill `buffer`; True when the stream broke off after some audio (a truncated upload)."""
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                buffer.append(np.asarray(out.to_ndarray(), dtype=np.int16))
            if buffer.size > limit:
                raise AudioFileError(container.name, "longer than the length limit")
        for out in resampler.resample(None):
            buffer.append(np.asarray(out.to_ndarray(), dtype=np.int16))
    except av.error.FFmpegError as exc:
        if buffer.size == 0:
            raise AudioFileError(container.name, f"cannot decode audio ({exc})") from exc
        return True
    return False
