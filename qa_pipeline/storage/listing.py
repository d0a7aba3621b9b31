"""Paginated reads for the JSON API (issue 14): calls with their current verdict and queue
item, findings with their latest review, reviews; within a scope team, filtered in the query,
counted, one page at a time. A call's current verdict is its queue item's (what reviews act
on), else its newest judged one. Findings of a pending blind calibration call stay hidden, as
on its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from qa_pipeline.storage.review import CallRecord, Finding, ReviewItem, ReviewState
from qa_pipeline.storage.review import _call as call_record
from qa_pipeline.storage.review import _finding as finding_record
from qa_pipeline.storage.review import _item as item_record
from qa_pipeline.storage.tables import CallRow, FindingRow, ReviewItemRow, ReviewRow, VerdictRow
from qa_pipeline.storage.transaction import reading

# The API validates its parameters against these (FastAPI reads a Literal's values).
CallState = Literal["all", "pending", "reviewed", "queued", "not_queued"]
FindingState = Literal["all", "unreviewed", "confirm", "overturn"]


@dataclass(frozen=True, slots=True)
class CallFilter:
    """Every condition given narrows; a scope team and a team filter both apply."""

    scope_team: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    team: str | None = None
    agent: str | None = None
    campaign: str | None = None
    state: CallState = "all"  # the call's place in the review queue
    outcome: str | None = None  # of the current verdict: sale | declined | no_pitch
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class CallListing:
    call: CallRecord
    language: str
    verdict_id: int | None  # None: never judged
    outcome: str | None
    valid_sale: bool | None  # the engine's, of the current verdict
    revisit_required: bool | None
    item: ReviewItem | None  # None: not in the review queue


@dataclass(frozen=True, slots=True)
class FindingListing:
    finding: Finding
    call: CallRecord
    state: ReviewState | None


@dataclass(frozen=True, slots=True)
class ReviewListing:
    id: int
    call_id: str
    team: str
    finding_id: int | None
    finding_code: str
    action: str
    reviewer: str
    note: str | None
    created_at: datetime  # as the database returns it (SQLite: without a zone)


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    rows: tuple[Any, ...]


def _latest() -> Any:
    return (
        select(VerdictRow.call_id, func.max(VerdictRow.id).label("verdict_id"))
        .where(VerdictRow.status == "ok")
        .group_by(VerdictRow.call_id)
        .subquery()
    )


def _calls(query: Any, wanted: CallFilter) -> Any:
    conditions: list[tuple[object, ColumnElement[bool]]] = [
        (wanted.scope_team, CallRow.team == wanted.scope_team),
        (wanted.team, CallRow.team == wanted.team),
        (wanted.agent, CallRow.agent_id == wanted.agent),
        (wanted.campaign, CallRow.campaign == wanted.campaign),
        (wanted.call_id, CallRow.call_id == wanted.call_id),
        (wanted.date_from, CallRow.local_date >= (wanted.date_from or "")),
        (wanted.date_to, CallRow.local_date <= (wanted.date_to or "")),
        (wanted.outcome, VerdictRow.outcome == wanted.outcome),
        (wanted.state == "pending", ReviewItemRow.status == "pending"),
        (wanted.state == "reviewed", ReviewItemRow.status == "reviewed"),
        (wanted.state == "queued", ReviewItemRow.id.is_not(None)),
        (wanted.state == "not_queued", ReviewItemRow.id.is_(None)),
    ]
    for given, condition in conditions:
        if given:
            query = query.where(condition)
    return query


def _counted(engine: Engine, query: Any, offset: int, limit: int) -> tuple[int, list[Any]]:
    with reading(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        rows = list(session.execute(query.offset(offset).limit(limit)).all())
    return int(total or 0), rows


def _joined(*columns: Any) -> tuple[Any, Any]:
    """Calls with their queue item and current verdict; the current verdict id's expression."""
    latest = _latest()
    current = func.coalesce(ReviewItemRow.verdict_id, latest.c.verdict_id)
    query = (
        select(*columns)
        .select_from(CallRow)
        .outerjoin(ReviewItemRow, ReviewItemRow.call_id == CallRow.call_id)
        .outerjoin(latest, latest.c.call_id == CallRow.call_id)
        .outerjoin(VerdictRow, VerdictRow.id == current)
    )
    return query, current


def list_calls(engine: Engine, wanted: CallFilter, offset: int, limit: int) -> Page:
    """Newest call first (then by id, so pages never overlap)."""
    query, _ = _joined(CallRow, ReviewItemRow, VerdictRow.id, VerdictRow.outcome,
                       VerdictRow.valid_sale, VerdictRow.revisit_required)  # fmt: skip
    query = _calls(query, wanted).order_by(CallRow.started_at.desc(), CallRow.call_id)
    total, rows = _counted(engine, query, offset, limit)
    return Page(total, tuple(
        CallListing(call_record(call), call.language, verdict_id, outcome, valid, revisit,
                    item_record(item) if item is not None else None)
        for call, item, verdict_id, outcome, valid, revisit in rows
    ))  # fmt: skip


def list_findings(
    engine: Engine,
    wanted: CallFilter,
    offset: int,
    limit: int,
    kind: str | None = None,
    code: str | None = None,
    state: FindingState = "all",
) -> Page:
    """Findings of each call's current verdict, by call (newest first) then finding order;
    `code` matches a code or a code family (`disclosures` matches `disclosures.fees`)."""
    latest_review = (
        select(func.max(ReviewRow.id))
        .where(ReviewRow.finding_id.is_not(None))
        .group_by(ReviewRow.finding_id)
    )
    query, current = _joined(CallRow, FindingRow, ReviewRow)
    query = query.join(FindingRow, FindingRow.verdict_id == current).outerjoin(
        ReviewRow, and_(ReviewRow.finding_id == FindingRow.id, ReviewRow.id.in_(latest_review))
    )
    query = _calls(query, wanted).where(
        or_(ReviewItemRow.id.is_(None), ReviewItemRow.blind.is_(False),
            ReviewItemRow.status != "pending")
    )  # fmt: skip
    if kind:
        query = query.where(FindingRow.kind == kind)
    if code:
        query = query.where(or_(FindingRow.code == code, FindingRow.code.startswith(code + ".")))
    if state == "unreviewed":
        query = query.where(ReviewRow.id.is_(None))
    elif state in ("confirm", "overturn"):
        query = query.where(ReviewRow.action == state)
    query = query.order_by(CallRow.started_at.desc(), CallRow.call_id, FindingRow.id)
    total, rows = _counted(engine, query, offset, limit)
    return Page(total, tuple(
        FindingListing(
            finding_record(found), call_record(call),
            ReviewState(found.id, review.action, review.reviewer, review.note)
            if review is not None else None,
        )
        for call, found, review in rows
    ))  # fmt: skip


def list_reviews(
    engine: Engine,
    wanted: CallFilter,
    offset: int,
    limit: int,
    reviewer: str | None = None,
    action: str | None = None,
) -> Page:
    """Every review decision (older ones too: the history), newest first."""
    query: Any = (
        select(ReviewRow, CallRow.call_id, CallRow.team)
        .join(VerdictRow, VerdictRow.id == ReviewRow.verdict_id)
        .join(CallRow, CallRow.call_id == VerdictRow.call_id)
        .outerjoin(ReviewItemRow, ReviewItemRow.call_id == CallRow.call_id)
    )
    query = _calls(query, wanted)
    if reviewer:
        query = query.where(ReviewRow.reviewer == reviewer)
    if action:
        query = query.where(ReviewRow.action == action)
    total, rows = _counted(engine, query.order_by(ReviewRow.id.desc()), offset, limit)
    return Page(total, tuple(
        ReviewListing(r.id, call_id, team, r.finding_id, r.finding_code, r.action, r.reviewer,
                      r.note, r.created_at)
        for r, call_id, team in rows
    ))  # fmt: skip


def finding_call(engine: Engine, finding_id: int) -> str | None:
    """The call a finding is of."""
    with engine.connect() as connection:
        return connection.scalar(
            select(VerdictRow.call_id)
            .join(FindingRow, FindingRow.verdict_id == VerdictRow.id)
            .where(FindingRow.id == finding_id)
        )
