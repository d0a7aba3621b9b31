"""Audio signals of a call, per role: talk time, silences, overlaps and interruptions (抢话),
speech rate, time to the agent's first word and who was still talking when the recording ended.

Activity comes from voice activity per channel (stereo) or diarization turns (mono); speech
rate from the transcribed text over VAD talk time, both without the regions whose words are not
trusted (asr_suspect: lost or looping speech would deflate or inflate it). Thresholds are data
(rules/signals.yaml).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_pipeline.audio.vad import SpeechRegion
from qa_pipeline.languages import get as get_language
from qa_pipeline.ruleset.schema import SignalsFile


@dataclass(frozen=True, slots=True)
class Overlap:
    start: float
    end: float
    by: str  # who started speaking second
    over: str
    interruption: bool


@dataclass(frozen=True)
class RoleSignals:
    talk_s: float
    talk_share: float
    turns: int
    speech_rate: float | None  # characters (zh) or words (en) a minute of talk
    rate_unit: str
    too_fast: bool
    interruptions: int  # made by this role


@dataclass(frozen=True)
class AudioSignals:
    duration_s: float
    roles: Mapping[str, RoleSignals]
    total_silence_s: float
    longest_silence_s: float
    longest_silence_at: float | None
    silences: tuple[tuple[float, float], ...]
    overlaps: tuple[Overlap, ...]
    first_agent_word_s: float | None
    talking_at_end: tuple[str, ...]

    def with_roles(self, mapping: Mapping[str, str]) -> AudioSignals:
        """The same signals with speaker labels renamed to roles (a mono call is measured
        before its roles are known)."""

        def role(label: str) -> str:
            return mapping.get(label, label)

        return dataclasses.replace(
            self,
            roles={role(k): v for k, v in self.roles.items()},
            overlaps=tuple(
                dataclasses.replace(o, by=role(o.by), over=role(o.over)) for o in self.overlaps
            ),
            talking_at_end=tuple(sorted(role(x) for x in self.talking_at_end)),
        )


def _merge(regions: Sequence[SpeechRegion]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for r in sorted(regions, key=lambda r: r.start):
        if merged and r.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], r.end))
        else:
            merged.append((r.start, r.end))
    return merged


def _silences(
    activity: Mapping[str, Sequence[SpeechRegion]], minimum: float
) -> list[tuple[float, float]]:
    """Gaps where nobody speaks, between the first and the last speech."""
    spans = _merge([r for regions in activity.values() for r in regions])
    return [
        (round(a[1], 3), round(b[0], 3))
        for a, b in itertools.pairwise(spans)
        if b[0] - a[1] >= minimum
    ]


def _overlaps(activity: Mapping[str, Sequence[SpeechRegion]], spec: SignalsFile) -> list[Overlap]:
    roles = sorted(activity)
    found: list[Overlap] = []
    for i, first in enumerate(roles):
        for second in roles[i + 1 :]:
            for a in activity[first]:
                for b in activity[second]:
                    start, end = max(a.start, b.start), min(a.end, b.end)
                    if end - start < spec.min_overlap_s:
                        continue
                    by, over = (second, first) if b.start >= a.start else (first, second)
                    interruption = end - start >= spec.interruption_s
                    found.append(Overlap(round(start, 3), round(end, 3), by, over, interruption))
    return sorted(found, key=lambda o: o.start)


def _shared(spans: Sequence[tuple[float, float]], regions: Sequence[SpeechRegion]) -> float:
    """Seconds of `spans` (merged) that fall inside `regions`."""
    return sum(max(0.0, min(b, r.end) - max(a, r.start)) for a, b in spans for r in regions)


def audio_signals(
    activity: Mapping[str, Sequence[SpeechRegion]],
    texts: Mapping[str, str],
    duration_s: float,
    language: str,
    spec: SignalsFile,
    untrusted: Mapping[str, Sequence[SpeechRegion]] | None = None,
) -> AudioSignals:
    """`activity`: speech regions per role; `texts`: what each role said in the regions whose
    words are trusted; `untrusted`: the regions left out of `texts` (their seconds are left
    out of the speech rate too)."""
    silences = _silences(activity, spec.min_silence_s)
    overlaps = _overlaps(activity, spec)
    talk = {role: sum(r.duration for r in _as_regions(_merge(rs))) for role, rs in activity.items()}
    total_talk = sum(talk.values()) or 1.0
    limit = spec.fast_rate.get(language)
    lang = get_language(language)
    roles: dict[str, RoleSignals] = {}
    for role, regions in activity.items():
        units, unit = lang.speech_units(texts.get(role, "")), lang.rate_unit
        doubted = (untrusted or {}).get(role, ())
        voiced = talk[role] - (_shared(_merge(regions), doubted) if doubted else 0.0)
        rate = round(units / (voiced / 60), 1) if voiced >= 5 and units else None
        roles[role] = RoleSignals(
            talk_s=round(talk[role], 2),
            talk_share=round(talk[role] / total_talk, 3),
            turns=len(regions),
            speech_rate=rate,
            rate_unit=unit,
            too_fast=bool(rate and limit and rate > limit),
            interruptions=sum(o.interruption and o.by == role for o in overlaps),
        )
    longest = max(silences, key=lambda s: s[1] - s[0], default=None)
    agent = activity.get("agent") or ()
    return AudioSignals(
        duration_s=round(duration_s, 3),
        roles=roles,
        total_silence_s=round(float(sum(b - a for a, b in silences)), 2),
        longest_silence_s=round(longest[1] - longest[0], 2) if longest else 0.0,
        longest_silence_at=longest[0] if longest else None,
        silences=tuple(silences),
        overlaps=tuple(overlaps),
        first_agent_word_s=min((r.start for r in agent), default=None),
        talking_at_end=tuple(
            sorted(
                role
                for role, regions in activity.items()
                if any(r.end >= duration_s - spec.end_window_s for r in regions)
            )
        ),
    )


def _as_regions(spans: Sequence[tuple[float, float]]) -> list[SpeechRegion]:
    return [SpeechRegion(a, b) for a, b in spans]
