"""Words to speaker segments, one per speech region of a channel: of a stereo recording, or of
a mono one split into a channel per diarized speaker. Roles are decided later
(transcript.roles), from the configured channel map or content."""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from qa_pipeline.asr.transcribe import ChannelWord
from qa_pipeline.audio.decode import Audio
from qa_pipeline.audio.vad import SpeechRegion
from qa_pipeline.ingest.model import Segment

CHANNEL_NAMES = ("left", "right")


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    speaker: str
    start: float
    end: float


def _middle(word: ChannelWord) -> float:
    return (word.start + word.end) / 2


def _text(words: Sequence[ChannelWord]) -> str:
    return "".join(w.text for w in words).strip()


def _segment(words: Sequence[ChannelWord], speaker: str) -> Segment:
    return Segment(words[0].start, max(w.end for w in words), speaker, _text(words))


def channel_segments(
    words: Sequence[ChannelWord], regions: Sequence[Sequence[SpeechRegion]], speakers: Sequence[str]
) -> tuple[Segment, ...]:
    """One segment per speech region of each channel (a region is one utterance)."""
    segments: list[Segment] = []
    for channel, channel_regions in enumerate(regions):
        own = sorted((w for w in words if w.channel == channel), key=_middle)
        middles = [_middle(w) for w in own]
        for region in channel_regions:  # bisect: a two-hour call has thousands of regions
            first = bisect.bisect_left(middles, region.start)
            inside = own[first : bisect.bisect_right(middles, region.end)]
            if inside and _text(inside):
                segments.append(_segment(inside, speakers[channel]))
    return tuple(sorted(segments, key=lambda s: (s.start, s.end)))


def speaker_tracks(
    turns: Sequence[SpeakerTurn],
) -> tuple[tuple[str, ...], tuple[tuple[SpeechRegion, ...], ...]]:
    """The speakers of `turns`, and each one's turns as spans of the recording that are its
    alone: where turns overlap, the overlap stays with the turn that began first (the mixed
    audio holds both voices; given to both it would be heard twice)."""
    speakers = tuple(sorted({t.speaker for t in turns}))
    tracks: dict[str, list[SpeechRegion]] = {s: [] for s in speakers}
    covered = float("-inf")  # end of the audio given to a speaker so far
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        start = max(turn.start, covered)
        if turn.end > start:
            tracks[turn.speaker].append(SpeechRegion(start, turn.end))
            covered = turn.end
    return speakers, tuple(tuple(tracks[s]) for s in speakers)


def speaker_channels(audio: Audio, turns: Sequence[SpeakerTurn]) -> tuple[tuple[str, ...], Audio]:
    """Mono: the recording as one channel per diarized speaker, the other speakers' turns
    silenced: the stereo recording the call would have been. Heard like one (voice activity,
    windows and segments per channel), a mono call's words differ from its stereo version's
    mostly where the diarization does; its own speech regions would cut other places, and
    Silero's state and Whisper's context change with what precedes a turn. The pauses between
    turns keep their samples, as a stereo channel does."""
    speakers, tracks = speaker_tracks(turns)
    mixed, rate = audio.channels[0], audio.sample_rate
    channels = []
    for own in range(len(speakers)):
        samples = mixed.copy()
        for other, spans in enumerate(tracks):
            for span in spans if other != own else ():
                samples[round(span.start * rate) : round(span.end * rate)] = 0
        channels.append(samples)
    return speakers, dataclasses.replace(audio, channels=tuple(channels))


def speaker_activity(turns: Sequence[SpeakerTurn]) -> dict[str, list[SpeechRegion]]:
    activity: dict[str, list[SpeechRegion]] = {}
    for turn in turns:
        activity.setdefault(turn.speaker, []).append(SpeechRegion(turn.start, turn.end))
    return activity
