"""The call-transcript file format (SPEC.md), validated by a schema that forbids unknown keys
and reports every problem in a file at once. Parsing is bounded (ingest/limits.py): whatever a
file holds, reading it ends in a Call or a CallFileError naming the file and the problem."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
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
from qa_pipeline.ingest import limits
from qa_pipeline.ingest.model import Call, Segment

MAX_FILE_BYTES = 20 * 1024 * 1024


class SegmentSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: float = Field(ge=0, le=limits.MAX_SECONDS, allow_inf_nan=False)
    end: float = Field(ge=0, le=limits.MAX_SECONDS, allow_inf_nan=False)
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
    call_id: str = Field(min_length=1, max_length=limits.CALL_ID)
    campaign: str = Field(min_length=1, max_length=limits.CAMPAIGN)
    language: str = Field(min_length=2, max_length=limits.LANGUAGE)
    agent_id: str = Field(max_length=limits.AGENT_ID)
    team: str = Field(max_length=limits.TEAM)
    customer_number: str = Field(max_length=limits.CUSTOMER_NUMBER)
    started_at: datetime
    duration_s: float = Field(ge=0, le=limits.MAX_SECONDS, allow_inf_nan=False)
    hangup_by: Literal["agent", "customer"] | None
    segments: list[SegmentSchema]
    revisit_of: str | None = Field(
        None,
        max_length=limits.CALL_ID,
        description="for a revisit callback: the call it re-confirms",
    )
    heard_by: str | None = Field(
        None,
        min_length=1,
        max_length=limits.CAMPAIGN,
        description="the speech recognizer that made the text (absent: written by people)",
    )

    @field_validator("started_at", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # pydantic would read a number as seconds since 1970: a call file says a local time.
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date and time with an offset (a string)")
        return value

    @field_validator("started_at")
    @classmethod
    def _in_range(cls, value: datetime) -> datetime:
        if not limits.FIRST_YEAR <= value.year <= limits.LAST_YEAR:
            raise ValueError(f"year {value.year} is outside {limits.FIRST_YEAR}-{limits.LAST_YEAR}")
        return value

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
        heard_by=parsed.heard_by,
    )


def read_bytes(path: Path) -> bytes:
    """A call file's bytes, refusing empty and oversized files and whatever is not a regular
    file (a folder, a dangling or looping link: CallFileError names it)."""
    source = limits.printable(str(path))
    try:
        if not path.is_file():
            kind = "a folder" if path.is_dir() else "a link to nothing readable"
            raise CallFileError(source, [f"not a call file but {kind}"])
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
    return parse_bytes(read_bytes(path), limits.printable(str(path)))


def parse_bytes(data: bytes, source: str) -> Call:
    return parse_call(load_json(data, source), source)


class _Refused(ValueError):
    """A JSON value the parser will not build (raised from json's number hooks)."""


def _integer(text: str) -> int:
    _number_length(text)
    return int(text)


def _float(text: str) -> float:
    _number_length(text)
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is too large to be finite")
    return value


def _number_length(text: str) -> None:
    if len(text) > limits.MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text)} characters (at most {limits.MAX_NUMBER_CHARS})")


def _constant(name: str) -> float:
    raise _Refused(f"{name} is not a number (times and durations must be finite)")


def load_json(data: bytes, source: str) -> object:
    """A file's JSON value, read with limits: UTF-8 text, finite numbers of bounded length, a
    bounded depth, and strings without NULs or unpaired surrogates (no database stores them)."""
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CallFileError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from exc
    try:
        value = json.loads(raw, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise CallFileError(
            source, [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        ) from exc
    except _Refused as exc:
        raise CallFileError(source, [f"not valid JSON: {exc}"]) from exc
    except RecursionError as exc:
        raise CallFileError(source, [f"JSON nested deeper than {limits.MAX_DEPTH} levels"]) from exc
    problems = list(_value_problems(value))
    if problems:
        raise CallFileError(source, problems[:10])
    return value


def _value_problems(value: object) -> Iterator[str]:
    """Every string that no database stores, and nesting past the limit (walked without
    recursion: the value may be as deep as the JSON reader allowed)."""
    stack: list[tuple[object, str, int]] = [(value, "", 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > limits.MAX_DEPTH:
            yield f"{where or '(top level)'}: nested deeper than {limits.MAX_DEPTH} levels"
            continue
        if isinstance(node, str):
            yield from _text_problems(node, where or "(top level)")
        elif isinstance(node, dict):
            children = []
            for key, item in node.items():
                path = limits.printable(f"{where}.{key}" if where else str(key))
                yield from _text_problems(key, f"key {path!r}")
                children.append((item, path, depth + 1))
            stack.extend(reversed(children))  # popped in file order
        elif isinstance(node, list):
            stack.extend((node[n], f"{where}.{n}", depth + 1) for n in reversed(range(len(node))))


def _text_problems(text: str, where: str) -> Iterator[str]:
    if "\x00" in text:
        yield f"{where}: holds a NUL character at position {text.index(chr(0))}"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            yield f"{where}: holds an unpaired surrogate at position {exc.start} (not Unicode text)"
