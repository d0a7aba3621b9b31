"""Speech regions of one channel with Silero VAD (shipped inside faster-whisper, offline).
This module is the only one that imports `faster_whisper.vad`.

Long channels are read in blocks so the float copies VAD makes stay bounded whatever the call's
length; a region cut by a block edge is joined back.
"""

from __future__ import annotations

from dataclasses import dataclass

from faster_whisper.vad import VadOptions, get_speech_timestamps

from qa_pipeline.audio.decode import Audio

BLOCK_S = 600.0


@dataclass(frozen=True, slots=True)
class SpeechRegion:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5
    min_speech_ms: int = 120
    min_silence_ms: int = 300  # turn-taking pauses on the phone are short
    speech_pad_ms: int = 100
    max_region_s: float = 12.0  # split long monologues at pauses so windows pack tightly

    def options(self) -> VadOptions:
        return VadOptions(
            threshold=self.threshold,
            min_speech_duration_ms=self.min_speech_ms,
            min_silence_duration_ms=self.min_silence_ms,
            speech_pad_ms=self.speech_pad_ms,
            max_speech_duration_s=self.max_region_s,
        )


def speech_regions(
    audio: Audio, channel: int, settings: VadSettings = VadSettings()
) -> tuple[SpeechRegion, ...]:
    """The channel's speech, in seconds from the start of the recording."""
    rate = audio.sample_rate
    options = settings.options()
    regions: list[SpeechRegion] = []
    block = 0.0
    while block < audio.duration_s:
        samples = audio.floats(channel, block, block + BLOCK_S)
        for found in get_speech_timestamps(samples, options, sampling_rate=rate):
            region = SpeechRegion(
                round(block + found["start"] / rate, 3), round(block + found["end"] / rate, 3)
            )
            if regions and region.start - regions[-1].end < 0.05:  # cut by the block edge
                regions[-1] = SpeechRegion(regions[-1].start, region.end)
            else:
                regions.append(region)
        block += BLOCK_S
    return tuple(regions)
