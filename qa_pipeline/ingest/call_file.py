"""The call-transcript file format (SPEC.md), validated by a schema that forbids unknown keys
and reports every problem in a file at once."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from qa_pipeline.errors import CallFileError
from qa_pipeline.ingest.model import Call, Segment

MAX_FILE_BYTES = 20 * 1024 * 1024


class SegmentSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: float = Field(ge=0)
    end: float = Field(ge=0)
    speaker: str = Field(min_length=1, description="agent, customer, or an anonymous label")
    text: str

    # A field validator (not a model one) so this is reported together with other problems.
    @field_validator("end")
    @classmethod
    def _ordered(cls, end: float, info: ValidationInfo) -> float:
        start = info.data.get("start")
        if start is not None and end < start:
            raise ValueError(f"end {end} is before start {start}")
        return end


class CallSchema(BaseModel):
    # Extra keys are allowed at the top level: call-center exports carry more metadata.
    model_config = ConfigDict(extra="allow", frozen=True)
    call_id: str = Field(min_length=1)
    campaign: str = Field(min_length=1)
    language: str = Field(min_length=2)
    agent_id: str
    team: str
    customer_number: str
    started_at: datetime
    duration_s: float = Field(ge=0)
    hangup_by: Literal["agent", "customer"] | None
    segments: list[SegmentSchema]
    revisit_of: str | None = Field(
        None, description="for a revisit callback: the call it re-confirms"
    )

    @model_validator(mode="after")
    def _aware(self) -> CallSchema:
        if self.started_at.tzinfo is None:
            raise ValueError("started_at needs a time zone offset (e.g. +08:00)")
        return self


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def parse_call(data: object, source: str) -> Call:
    try:
        parsed = CallSchema.model_validate(data)
    except ValidationError as exc:
        raise CallFileError(
            source, [f"{_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        ) from exc
    return Call(
        call_id=parsed.call_id,
        campaign=parsed.campaign,
        language=parsed.language,
        agent_id=parsed.agent_id,
        team=parsed.team,
        customer_number=parsed.customer_number,
        started_at=parsed.started_at,
        duration_s=parsed.duration_s,
        hangup_by=parsed.hangup_by,
        segments=tuple(Segment(s.start, s.end, s.speaker, s.text) for s in parsed.segments),
        source=source,
        revisit_of=parsed.revisit_of,
    )


def read_bytes(path: Path) -> bytes:
    """A call file's bytes, refusing empty and oversized files (CallFileError names the file)."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size == 0:
            raise CallFileError(source, ["the file is empty"])
        if size > MAX_FILE_BYTES:
            raise CallFileError(source, [f"{size} bytes is over the {MAX_FILE_BYTES}-byte limit"])
        return path.read_bytes()
    except OSError as exc:
        raise CallFileError(source, [f"cannot read: {exc.strerror}"]) from exc


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_call(path: Path) -> Call:
    """Read and validate one call file; every failure is a CallFileError naming the file."""
    return parse_bytes(read_bytes(path), str(path))


def parse_bytes(data: bytes, source: str) -> Call:
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CallFileError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CallFileError(
            source, [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from exc
    return parse_call(data, source)
