"""Calls made from written excerpts ([speaker, text] turns): the check fixtures, the phrase
and exchange banks, and anything else that judges dialogue written as text."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from qa_pipeline.ingest.model import Call, Segment

ZONES = {"zh": "+08:00", "en": "-05:00"}


def excerpt_call(
    turns: Sequence[Sequence[str]],
    *,
    campaign: str,
    language: str,
    started_at: str | None = None,
    hangup_by: str | None = None,
    call_id: str = "excerpt",
) -> Call:
    """A call from [speaker, text] pairs, timed at a realistic pace (zh 4.5 chars/s, en 2.5
    words/s, 0.5 s between turns); the recording ends 0.5 s after the last word."""
    segments = []
    clock = 0.3
    for speaker, text in turns:
        length = len(text) / 4.5 if language == "zh" else len(text.split()) / 2.5
        end = clock + max(length, 0.6)
        segments.append(Segment(round(clock, 2), round(end, 2), speaker, text))
        clock = end + 0.5
    start = datetime.fromisoformat(started_at or f"2026-11-02T10:00:00{ZONES[language]}")
    return Call(
        call_id=call_id,
        campaign=campaign,
        language=language,
        agent_id="T001",
        team="T",
        customer_number="13800000000",
        started_at=start,
        duration_s=round(clock, 2),
        hangup_by=hangup_by,  # type: ignore[arg-type]
        segments=tuple(segments),
    )


def read_bank(path: Path) -> tuple[str, list[dict[str, Any]]]:
    """A bank of excerpts (JSONL, one a line) and its language, from its name (`zh.test.jsonl`)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return path.name.split(".")[0], [json.loads(line) for line in lines if line.strip()]
