"""Typed, frozen call records (the transcript format of SPEC.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Speaker = Literal["agent", "customer"]
HangupBy = Literal["agent", "customer"] | None


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    speaker: Speaker
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
