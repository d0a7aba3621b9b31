"""What the call page shows, computed from the database without HTTP: the transcript by role
with highlighted evidence and forbidden phrases, each criterion and finding with its review
state, player markers, and audio signals when the result carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qa_pipeline.review.actions import finding_states
from qa_pipeline.review.audit import entries
from qa_pipeline.review.auth import User, mask_number
from qa_pipeline.review.queue import flagged_codes
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.storage.tables import (
    AuditRow,
    CallRow,
    DisputeRow,
    FindingRow,
    RecordingRow,
    ReviewItemRow,
    TranscriptRow,
    VerdictRow,
)

Part = tuple[str, str | None]  # text, highlight kind (evidence | forbidden | None)


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    role: str
    parts: tuple[Part, ...]
    evidence: bool  # the whole line is evidence of a finding


@dataclass(frozen=True)
class FindingView:
    id: int
    kind: str
    code: str
    reason: str
    start: float | None
    flagged: bool
    state: str | None  # confirm | overturn | None
    reviewer: str | None
    note: str | None
    disputes: tuple[DisputeRow, ...]


@dataclass(frozen=True)
class Marker:
    at: float
    percent: float
    code: str
    kind: str


@dataclass(frozen=True)
class CallPage:
    call: CallRow
    number: str
    result: dict[str, Any]
    lines: tuple[Line, ...]
    findings: tuple[FindingView, ...]
    markers: tuple[Marker, ...]
    has_audio: bool
    audio_roles: tuple[tuple[str, dict[str, Any]], ...]
    audio_events: tuple[dict[str, Any], ...]
    item: ReviewItemRow | None
    blind: bool  # a pending calibration call: the engine's verdict stays hidden
    audit: tuple[AuditRow, ...]


def visible_call(engine: Engine, call_id: str, scope_team: str | None) -> CallRow | None:
    """The call if this scope may see it: another team's call is not found, not forbidden."""
    query = select(CallRow).where(CallRow.call_id == call_id)
    if scope_team is not None:
        query = query.where(CallRow.team == scope_team)
    with Session(engine, expire_on_commit=False) as session:
        return session.scalar(query)


def recording_path(engine: Engine, call_id: str) -> str | None:
    with engine.connect() as connection:
        return connection.scalar(
            select(RecordingRow.path)
            .where(RecordingRow.call_id == call_id)
            .order_by(RecordingRow.id.desc())
            .limit(1)
        )


def highlight(text: str, spans: list[tuple[str, str]]) -> tuple[Part, ...]:
    """Split `text` into parts, marking each first occurrence of a (needle, kind) span; the
    template escapes every part, so highlighting never becomes markup injection."""
    marks: list[tuple[int, int, str]] = []
    for needle, kind in spans:
        at = text.find(needle) if needle else -1
        if at >= 0 and not any(at < e and at + len(needle) > s for s, e, _ in marks):
            marks.append((at, at + len(needle), kind))
    parts: list[Part] = []
    cursor = 0
    for start, end, kind in sorted(marks):
        if start > cursor:
            parts.append((text[cursor:start], None))
        parts.append((text[start:end], kind))
        cursor = end
    if cursor < len(text):
        parts.append((text[cursor:], None))
    return tuple(parts)


def _same_time(a: float, b: float) -> bool:
    return abs(a - b) < 0.05


def _lines(segments: list[dict[str, Any]], result: dict[str, Any], show: bool) -> list[Line]:
    evidence: list[dict[str, Any]] = []
    if show:
        for node in (result.get("criteria") or {}).values():
            for item in (node.get("items") or {"": node}).values():
                if item.get("passed") is False:
                    evidence += item.get("evidence") or []
    forbidden = (result.get("forbidden_phrases") or []) if show else []
    lines = []
    for segment in segments:
        start = float(segment["start"])
        spans = [(f["text"], "forbidden") for f in forbidden if _same_time(f["start"], start)]
        hits = [e for e in evidence if _same_time(e["start"], start)]
        spans += [(e["match"], "evidence") for e in hits if e.get("match")]
        role = segment.get("role") or segment.get("speaker") or ""
        lines.append(
            Line(start, float(segment["end"]), role, highlight(segment["text"], spans), bool(hits))
        )
    return lines


def _segments(session: Session, call_id: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The transcript by role: the result's own (recordings path) or the stored one, with
    diarization labels mapped to roles."""
    if result.get("transcript"):
        return list(result["transcript"])
    stored = session.scalar(
        select(TranscriptRow.segments)
        .where(TranscriptRow.call_id == call_id)
        .order_by(TranscriptRow.id.desc())
        .limit(1)
    )
    mapping = (result.get("roles") or {}).get("mapping") or {}
    return [s | {"role": mapping.get(s["speaker"], s["speaker"])} for s in stored or []]


def call_page(engine: Engine, call: CallRow, user: User, settings: ReviewSettings) -> CallPage:
    with Session(engine, expire_on_commit=False) as session:
        item = session.scalar(select(ReviewItemRow).where(ReviewItemRow.call_id == call.call_id))
        verdict_id = item.verdict_id if item else _latest_verdict(session, call.call_id)
        verdict = session.get(VerdictRow, verdict_id) if verdict_id else None
        result = verdict.result if verdict else {}
        blind = bool(item and item.blind and item.status == "pending")
        findings: list[FindingView] = []
        if verdict is not None and not blind:
            findings = _findings(session, verdict.id, settings)
        lines = _lines(_segments(session, call.call_id, result), result, not blind)
    duration = max([call.duration_s, *(line.end for line in lines)]) or 1.0
    markers = [
        Marker(f.start, round(100 * f.start / duration, 2), f.code, f.kind)
        for f in findings
        if f.start is not None
    ]
    audio = result.get("audio") or {}
    shown = user.role in settings.unmask_roles
    return CallPage(
        call=call,
        number=call.customer_number if shown else mask_number(call.customer_number),
        result={} if blind else result,
        lines=tuple(lines),
        findings=tuple(findings),
        markers=tuple(markers),
        has_audio=recording_path(engine, call.call_id) is not None,
        audio_roles=tuple((audio.get("roles") or {}).items()),
        audio_events=tuple(audio.get("events") or ()),
        item=item,
        blind=blind,
        audit=tuple(entries(engine, call.call_id, limit=50)),
    )


def _latest_verdict(session: Session, call_id: str) -> int | None:
    return session.scalar(
        select(VerdictRow.id)
        .where(VerdictRow.call_id == call_id, VerdictRow.status == "ok")
        .order_by(VerdictRow.id.desc())
        .limit(1)
    )


def _findings(session: Session, verdict_id: int, settings: ReviewSettings) -> list[FindingView]:
    states = finding_states(session, verdict_id)
    rows = session.scalars(
        select(FindingRow).where(FindingRow.verdict_id == verdict_id).order_by(FindingRow.id)
    ).all()
    disputes: dict[int, list[DisputeRow]] = {}
    for dispute in session.scalars(
        select(DisputeRow).where(DisputeRow.finding_id.in_([f.id for f in rows]))
    ):
        disputes.setdefault(dispute.finding_id, []).append(dispute)
    views = []
    for f in rows:
        state = states.get(f.id)
        start = min((float(e["start"]) for e in f.evidence), default=None)
        views.append(
            FindingView(
                f.id,
                f.kind,
                f.code,
                f.reason,
                start,
                bool(flagged_codes([(f.kind, f.code)], settings)),
                state.action if state else None,
                state.reviewer if state else None,
                state.note if state else None,
                tuple(disputes.get(f.id, ())),
            )
        )
    return views
