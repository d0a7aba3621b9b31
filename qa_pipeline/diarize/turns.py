"""Words to speaker segments: by channel for stereo, by time overlap with diarization turns for
mono. Roles are decided later (transcript.roles), from the configured channel map or content."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from qa_pipeline.asr.transcribe import ChannelWord
from qa_pipeline.audio.vad import SpeechRegion
from qa_pipeline.ingest.model import Segment

CHANNEL_NAMES = ("left", "right")
MAX_GAP_S = 1.0  # a longer pause between one speaker's words starts a new segment


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


def _speaker_of(word: ChannelWord, turns: Sequence[SpeakerTurn]) -> str | None:
    best, overlap = None, 0.0
    for turn in turns:
        shared = min(word.end, turn.end) - max(word.start, turn.start)
        if shared > overlap:
            best, overlap = turn.speaker, shared
    if best is None and turns:  # a word in a diarization gap goes to the nearest turn
        middle = (word.start + word.end) / 2
        best = min(turns, key=lambda t: min(abs(middle - t.start), abs(middle - t.end))).speaker
    return best


def diarized_segments(
    words: Sequence[ChannelWord], turns: Sequence[SpeakerTurn]
) -> tuple[Segment, ...]:
    """Mono: each word to the speaker whose turn overlaps it most; runs become segments."""
    segments: list[Segment] = []
    run: list[ChannelWord] = []
    speaker: str | None = None
    for word in sorted(words, key=lambda w: w.start):
        who = _speaker_of(word, turns)
        if who is None:
            continue
        if run and (who != speaker or word.start - run[-1].end > MAX_GAP_S):
            segments.append(_segment(run, speaker or who))
            run = []
        run.append(word)
        speaker = who
    if run and speaker is not None:
        segments.append(_segment(run, speaker))
    return tuple(s for s in segments if s.text)


def speaker_activity(turns: Sequence[SpeakerTurn]) -> dict[str, list[SpeechRegion]]:
    activity: dict[str, list[SpeechRegion]] = {}
    for turn in turns:
        activity.setdefault(turn.speaker, []).append(SpeechRegion(turn.start, turn.end))
    return activity
