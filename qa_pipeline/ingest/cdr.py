"""The call-detail-record CSV of a recordings batch (`calls.csv`).

Columns (header names; only `call_id` is required, the rest fill what a sidecar does not):
call_id, agent_id, team, campaign, customer_number, started_at (ISO 8601 with offset),
duration_s, hangup_by (agent|customer), recording (file name in the batch folder), language,
and the native hang-up fields of ingest/hangup.py. Several rows with one call_id are the legs
of a transferred call. A bad row fails only its own call; a file that cannot be read fails the
calls that needed it, each with the file's problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qa_pipeline.ingest.hangup_fields import HangupValueError, hangup_from
from qa_pipeline.ingest.model import HangupBy

COLUMNS = (
    "call_id", "agent_id", "team", "campaign", "customer_number", "started_at", "duration_s",
    "hangup_by", "recording", "language",
)  # fmt: skip
MAX_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class CdrRow:
    line: int
    fields: Mapping[str, str]  # the metadata columns that are filled
    started_at: datetime | None
    duration_s: float | None
    hangup_by: HangupBy
    recording: str | None


@dataclass(frozen=True)
class CdrTable:
    path: str
    rows: Mapping[str, tuple[CdrRow, ...]] = field(default_factory=dict)
    errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # call_id -> problems
    file_error: str | None = None

    def by_recording(self) -> dict[str, str]:
        return {r.recording: cid for cid, rows in self.rows.items() for r in rows if r.recording}


def _parse_row(line: int, raw: Mapping[str, str]) -> tuple[CdrRow | None, list[str]]:
    problems: list[str] = []
    started = duration = None
    hangup: HangupBy = None
    text = (raw.get("started_at") or "").strip()
    if text:
        try:
            started = datetime.fromisoformat(text)
            if started.tzinfo is None:
                problems.append(f"line {line}: started_at {text!r} needs a time zone offset")
        except ValueError:
            problems.append(f"line {line}: started_at {text!r} is not an ISO 8601 time")
    text = (raw.get("duration_s") or "").strip()
    if text:
        try:
            duration = float(text)
            if duration < 0:
                problems.append(f"line {line}: duration_s {text!r} is negative")
        except ValueError:
            problems.append(f"line {line}: duration_s {text!r} is not a number")
    try:
        hangup = hangup_from(raw)
    except HangupValueError as exc:
        problems.append(f"line {line}: {exc}")
    if problems:
        return None, problems
    filled = {k: raw[k].strip() for k in COLUMNS if (raw.get(k) or "").strip()}
    return CdrRow(line, filled, started, duration, hangup, filled.get("recording")), []


def read_cdr(path: Path) -> CdrTable:
    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            return CdrTable(source, file_error=f"over the {MAX_BYTES}-byte limit")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        return CdrTable(source, file_error=f"cannot read: {exc.strerror}")
    except UnicodeDecodeError as exc:
        return CdrTable(source, file_error=f"not UTF-8 text ({exc.reason} at byte {exc.start})")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or "call_id" not in reader.fieldnames:
        return CdrTable(source, file_error="no call_id column in the header")
    rows: dict[str, list[CdrRow]] = {}
    errors: dict[str, list[str]] = {}
    try:
        for raw in reader:
            line = reader.line_num
            if None in raw:  # more cells than header columns: a broken row
                errors.setdefault((raw.get("call_id") or "").strip() or f"line {line}", []).append(
                    f"line {line}: more cells than the header has columns"
                )
                continue
            call_id = (raw.get("call_id") or "").strip()
            if not call_id:
                continue
            row, problems = _parse_row(line, {k: v or "" for k, v in raw.items()})
            if row is None:
                errors.setdefault(call_id, []).extend(problems)
            else:
                rows.setdefault(call_id, []).append(row)
    except csv.Error as exc:
        return CdrTable(source, file_error=f"malformed CSV at line {reader.line_num}: {exc}")
    return CdrTable(
        source,
        {k: tuple(v) for k, v in rows.items()},
        {k: tuple(v) for k, v in errors.items()},
    )
