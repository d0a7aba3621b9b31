"""Typed, frozen call records (the transcript format of SPEC.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Role = Literal["agent", "customer"]
ROLES: tuple[Role, ...] = ("agent", "customer")
HangupBy = Literal["agent", "customer"] | None


@dataclass(frozen=True, slots=True)
class Segment:
    """`speaker` is a role ("agent", "customer") or, before role assignment, any label a
    diarizer or channel split gave (SPEAKER_00, "1", "left")."""

    start: float
    end: float
    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Call:
    call_id: str
    campaign: str
    language: str
    agent_id: str
    team: str
    customer_number: str
    started_at: datetime
    duration_s: float
    hangup_by: HangupBy
    segments: tuple[Segment, ...]
    source: str = ""
    revisit_of: str | None = None  # a revisit callback names the call it re-confirms
    # Who was still talking when the recording ended (speaker labels or roles); None when the
    # call came as a transcript and there is no audio to tell.
    talking_at_end: tuple[str, ...] | None = None
    # What made the words when they came from speech recognition (the ASR model's name); None
    # for a transcript written by people. Checks read heard words more tolerantly
    # (`LanguagePack.heard`): ASR mishears the very phrases they look for.
    heard_by: str | None = None
