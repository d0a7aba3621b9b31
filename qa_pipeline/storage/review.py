"""The review workbench's records: calls as the pages show them, the queue's items, findings
with their latest review, disputes, blind calibration judgments. Reads return frozen records;
writes take a `Transaction`, so an action, what follows from it and its audit entry commit
together. What a review means (flags, severities, SLAs, the final verdict, tasks to follow) is
decided in review/, never here. Times are as the database returns them (SQLite: without a
zone; compare them through `storage.tasks.utc`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from qa_pipeline.ingest.model import Segment
from qa_pipeline.storage.tables import (
    CalibrationJudgmentRow,
    CallRow,
    DisputeRow,
    FindingRow,
    RecordingRow,
    ReviewItemRow,
    ReviewRow,
    TranscriptRow,
    VerdictRow,
)
from qa_pipeline.storage.transaction import Bind, Transaction, one_row, reading
from qa_pipeline.storage.upsert import insert_ignore
from qa_pipeline.verdict.final import FinalVerdict
from qa_pipeline.verdict.model import CallResult, Evidence
from qa_pipeline.verdict.serialize import from_row


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    campaign: str
    agent_id: str
    team: str
    customer_number: str
    started_local: str  # local time with its offset, as the call file said
    local_date: str
    duration_s: float


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A call in the review queue; `final` is what its review changed, once reviewed."""

    id: int
    call_id: str
    verdict_id: int
    source: str  # flagged | calibration
    blind: bool
    status: str  # pending | reviewed
    severity: int
    sla_minutes: int
    queued_at: datetime
    escalated_at: datetime | None
    reviewed_at: datetime | None
    engine_valid_sale: bool | None
    final_valid_sale: bool | None
    final: FinalVerdict | None


@dataclass(frozen=True, slots=True)
class NewItem:
    """A call to queue: what `queue_item` stores, pending."""

    call_id: str
    verdict_id: int
    source: str
    blind: bool
    severity: int
    sla_minutes: int
    queued_at: datetime
    engine_valid_sale: bool | None


@dataclass(frozen=True, slots=True)
class Finding:
    """A stored finding of a verdict (verdict/findings.py made it)."""

    id: int
    verdict_id: int
    kind: str  # criterion | forbidden | hangup | review_flag
    code: str
    reason: str
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ReviewState:
    """A finding's latest review."""

    finding_id: int
    action: str  # confirm | overturn
    reviewer: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Dispute:
    id: int
    finding_id: int
    call_id: str
    raised_by: str
    reason: str
    status: str  # open | upheld | rejected
    decided_by: str | None
    decision_note: str | None


@dataclass(frozen=True, slots=True)
class BlindJudgment:
    """A reviewer's pass or fail of one criterion on a blind calibration call, next to the
    engine's (None: the criterion did not apply)."""

    criterion: str
    reviewer_passed: bool
    engine_passed: bool | None


@dataclass(frozen=True, slots=True)
class CallPlace:
    agent_id: str
    local_date: str


@dataclass(frozen=True, slots=True)
class QueueCandidate:
    """A call's newest judged verdict, as the queue sync weighs it."""

    call_id: str
    verdict_id: int
    valid_sale: bool | None
    findings: tuple[tuple[str, str], ...]  # (kind, code) in finding order
    call: CallPlace | None  # None: the call itself is not stored


@dataclass(frozen=True, slots=True)
class QueueFacets:
    """The values the queue's filter menus offer, sorted."""

    teams: tuple[str, ...]
    agents: tuple[str, ...]
    campaigns: tuple[str, ...]
    codes: tuple[str, ...]


def _call(row: CallRow) -> CallRecord:
    return CallRecord(row.call_id, row.campaign, row.agent_id, row.team, row.customer_number,
                      row.started_local, row.local_date, row.duration_s)  # fmt: skip


def _item(row: ReviewItemRow) -> ReviewItem:
    final = FinalVerdict.from_dict(row.final) if row.final else None
    return ReviewItem(
        row.id, row.call_id, row.verdict_id, row.source, row.blind, row.status, row.severity,
        row.sla_minutes, row.queued_at, row.escalated_at, row.reviewed_at,
        row.engine_valid_sale, row.final_valid_sale, final,
    )  # fmt: skip


def _finding(row: FindingRow) -> Finding:
    evidence = tuple(Evidence(**e) for e in row.evidence)
    return Finding(row.id, row.verdict_id, row.kind, row.code, row.reason, evidence)


def _dispute(row: DisputeRow) -> Dispute:
    return Dispute(row.id, row.finding_id, row.call_id, row.raised_by, row.reason, row.status,
                   row.decided_by, row.decision_note)  # fmt: skip


# The call page


def visible_call(
    engine: Engine, call_id: str, scope_team: str | None, scope_agent: str | None = None
) -> CallRecord | None:
    """The call if this scope may see it: another team's (or, for an agent, another agent's)
    call is not found, not forbidden."""
    query = select(CallRow).where(CallRow.call_id == call_id)
    if scope_team is not None:
        query = query.where(CallRow.team == scope_team)
    if scope_agent is not None:
        query = query.where(CallRow.agent_id == scope_agent)
    with reading(engine) as session:
        row = session.scalar(query)
        return _call(row) if row is not None else None


def recording_path(engine: Engine, call_id: str) -> str | None:
    """The call's latest recording."""
    with engine.connect() as connection:
        return connection.scalar(
            select(RecordingRow.path)
            .where(RecordingRow.call_id == call_id)
            .order_by(RecordingRow.id.desc())
            .limit(1)
        )


def latest_judged(engine: Engine, call_id: str) -> int | None:
    """The id of the call's newest judged (status ok) verdict."""
    with engine.connect() as connection:
        return connection.scalar(
            select(VerdictRow.id)
            .where(VerdictRow.call_id == call_id, VerdictRow.status == "ok")
            .order_by(VerdictRow.id.desc())
            .limit(1)
        )


def verdict_result(bind: Bind, verdict_id: int) -> CallResult | None:
    """A stored verdict's result."""
    return verdict_results(bind, [verdict_id]).get(verdict_id)


def verdict_results(bind: Bind, verdict_ids: Sequence[int]) -> dict[int, CallResult]:
    """Stored verdicts' results, in one query (a listing page shows many verdicts)."""
    query = select(VerdictRow.id, VerdictRow.result).where(VerdictRow.id.in_(verdict_ids))
    with reading(bind) as session:
        return {vid: from_row(result) for vid, result in session.execute(query)}


def latest_transcript(engine: Engine, call_id: str) -> tuple[Segment, ...]:
    """The call's latest stored transcript (speakers as the call file labelled them)."""
    with engine.connect() as connection:
        segments = connection.scalar(
            select(TranscriptRow.segments)
            .where(TranscriptRow.call_id == call_id)
            .order_by(TranscriptRow.id.desc())
            .limit(1)
        )
    return tuple(Segment(**s) for s in segments or ())


def disputes_of(engine: Engine, finding_ids: Sequence[int]) -> list[Dispute]:
    query = select(DisputeRow).where(DisputeRow.finding_id.in_(finding_ids))
    with reading(engine) as session:
        return [_dispute(d) for d in session.scalars(query.order_by(DisputeRow.id))]


def disputes_in_scope(
    engine: Engine, scope_team: str | None, scope_agent: str | None = None
) -> list[tuple[Dispute, str, str]]:
    """Every dispute with its call's team and its finding's code, newest first, within a scope
    team (and of a scope agent's calls) if given."""
    query = (
        select(DisputeRow, CallRow.team, FindingRow.code)
        .join(CallRow, CallRow.call_id == DisputeRow.call_id)
        .join(FindingRow, FindingRow.id == DisputeRow.finding_id)
    )
    if scope_team:
        query = query.where(CallRow.team == scope_team)
    if scope_agent:
        query = query.where(CallRow.agent_id == scope_agent)
    with reading(engine) as session:
        rows = session.execute(query.order_by(DisputeRow.id.desc())).all()
        return [(_dispute(dispute), team, code) for dispute, team, code in rows]


# Queue items


def review_item(bind: Bind, call_id: str) -> ReviewItem | None:
    """The call's queue item; inside a transaction, locked for its length."""
    return one_row(bind, select(ReviewItemRow).where(ReviewItemRow.call_id == call_id), _item)


def review_items(tx: Transaction, pending_unescalated: bool = False) -> list[ReviewItem]:
    """Every queue item, or only the pending ones not escalated yet."""
    query = select(ReviewItemRow)
    if pending_unescalated:
        query = query.where(ReviewItemRow.status == "pending", ReviewItemRow.escalated_at.is_(None))
    return [_item(row) for row in tx.session.scalars(query)]


def update_item(tx: Transaction, item: ReviewItem) -> None:
    """Store what may change of a queue item: its verdict, severity, state and final."""
    row = tx.session.get(ReviewItemRow, item.id)
    assert row is not None, f"no review item {item.id}"
    row.verdict_id, row.severity, row.status = item.verdict_id, item.severity, item.status
    row.escalated_at, row.reviewed_at = item.escalated_at, item.reviewed_at
    row.engine_valid_sale, row.final_valid_sale = item.engine_valid_sale, item.final_valid_sale
    row.final = item.final.as_dict() if item.final else None
    tx.session.flush()


def queue_item(tx: Transaction, item: NewItem) -> bool:
    """Queue a call unless it is queued already (by another process too); True when added."""
    values = {
        "call_id": item.call_id, "verdict_id": item.verdict_id, "source": item.source,
        "blind": item.blind, "status": "pending", "severity": item.severity,
        "sla_minutes": item.sla_minutes, "queued_at": item.queued_at,
        "engine_valid_sale": item.engine_valid_sale,
    }  # fmt: skip
    connection = tx.connection()
    statement = insert_ignore(connection, ReviewItemRow, values, ["call_id"])
    return connection.execute(statement.returning(ReviewItemRow.id)).scalar() is not None


def finding_codes(bind: Bind, verdict_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """Each verdict's findings as (kind, code), in finding order."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if verdict_ids:
        query = select(FindingRow.verdict_id, FindingRow.kind, FindingRow.code).where(
            FindingRow.verdict_id.in_(verdict_ids)
        )
        with reading(bind) as session:
            for verdict_id, kind, code in session.execute(query.order_by(FindingRow.id)):
                found[verdict_id].append((kind, code))
    return found


def queue_candidates(tx: Transaction) -> list[QueueCandidate]:
    """Every call's newest judged verdict with its findings and the call's agent and date,
    by call id."""
    latest = dict(
        tx.session.execute(
            select(VerdictRow.call_id, func.max(VerdictRow.id))
            .where(VerdictRow.status == "ok")
            .group_by(VerdictRow.call_id)
        ).all()
    )
    ids = list(latest.values())
    valid = dict(
        tx.session.execute(
            select(VerdictRow.id, VerdictRow.valid_sale).where(VerdictRow.id.in_(ids))
        ).all()
    )
    calls = {
        call_id: CallPlace(agent, day)
        for call_id, agent, day in tx.session.execute(
            select(CallRow.call_id, CallRow.agent_id, CallRow.local_date)
        )
    }
    findings = finding_codes(tx, ids)
    return [
        QueueCandidate(
            call_id, verdict_id, valid[verdict_id], tuple(findings[verdict_id]), calls.get(call_id)
        )
        for call_id, verdict_id in sorted(latest.items())
    ]


def queued_calls(
    engine: Engine,
    scope_team: str | None,
    status: str | None = None,
    team: str | None = None,
    agent: str | None = None,
    campaign: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> list[tuple[ReviewItem, CallRecord]]:
    """Queue items with their calls; every condition given narrows (a scope team and a team
    filter both apply)."""
    query = select(ReviewItemRow, CallRow).join(CallRow, CallRow.call_id == ReviewItemRow.call_id)
    conditions = [
        (scope_team, CallRow.team == scope_team),
        (team, CallRow.team == team),
        (agent, CallRow.agent_id == agent),
        (campaign, CallRow.campaign == campaign),
        (date_from, CallRow.local_date >= (date_from or "")),
        (date_to, CallRow.local_date <= (date_to or "")),
        (status, ReviewItemRow.status == status),
    ]
    for given, condition in conditions:
        if given:
            query = query.where(condition)
    with reading(engine) as session:
        return [(_item(item), _call(call)) for item, call in session.execute(query)]


def queue_facets(
    engine: Engine, scope_team: str | None, scope_agent: str | None = None
) -> QueueFacets:
    """The teams, agents and campaigns of the calls within the scope, and every finding code."""
    with engine.connect() as connection:
        query = select(CallRow.team, CallRow.agent_id, CallRow.campaign)
        if scope_team:
            query = query.where(CallRow.team == scope_team)
        if scope_agent:
            query = query.where(CallRow.agent_id == scope_agent)
        rows = connection.execute(query).all()
        codes = connection.execute(select(FindingRow.code).distinct()).scalars().all()
    return QueueFacets(
        tuple(sorted({r.team for r in rows})),
        tuple(sorted({r.agent_id for r in rows})),
        tuple(sorted({r.campaign for r in rows})),
        tuple(sorted(codes)),
    )


def call_date(engine: Engine, call_id: str) -> str | None:
    """The call's local date (the scorecard day it counts for)."""
    with engine.connect() as connection:
        return connection.scalar(select(CallRow.local_date).where(CallRow.call_id == call_id))


# Findings and their reviews


def findings(bind: Bind, verdict_id: int) -> list[Finding]:
    """A verdict's findings, in the order they were found."""
    return findings_of(bind, [verdict_id]).get(verdict_id, [])


def findings_of(bind: Bind, verdict_ids: Sequence[int]) -> dict[int, list[Finding]]:
    """Each verdict's findings in the order they were found, in one query."""
    query = select(FindingRow).where(FindingRow.verdict_id.in_(verdict_ids)).order_by(FindingRow.id)
    found: dict[int, list[Finding]] = defaultdict(list)
    with reading(bind) as session:
        for row in session.scalars(query):
            found[row.verdict_id].append(_finding(row))
    return dict(found)


def finding(tx: Transaction, finding_id: int) -> Finding | None:
    row = tx.session.get(FindingRow, finding_id)
    return _finding(row) if row is not None else None


def finding_states(bind: Bind, verdict_id: int) -> dict[int, ReviewState]:
    """Each reviewed finding of a verdict with its latest review."""
    return finding_states_of(bind, [verdict_id])


def finding_states_of(bind: Bind, verdict_ids: Sequence[int]) -> dict[int, ReviewState]:
    """Each reviewed finding of these verdicts with its latest review, in one query."""
    latest = (
        select(func.max(ReviewRow.id))
        .where(ReviewRow.verdict_id.in_(verdict_ids), ReviewRow.finding_id.is_not(None))
        .group_by(ReviewRow.finding_id)
    )
    with reading(bind) as session:
        rows = session.scalars(select(ReviewRow).where(ReviewRow.id.in_(latest)))
        return {
            row.finding_id: ReviewState(row.finding_id, row.action, row.reviewer, row.note)
            for row in rows
            if row.finding_id is not None
        }


def add_review(
    tx: Transaction, found: Finding, action: str, reviewer: str, note: str | None, at: datetime
) -> ReviewState:
    row = ReviewRow(verdict_id=found.verdict_id, finding_code=found.code, finding_id=found.id,
                    action=action, reviewer=reviewer, note=note, created_at=at)  # fmt: skip
    tx.session.add(row)
    tx.session.flush()
    return ReviewState(found.id, action, reviewer, note)


# Disputes


def open_dispute(tx: Transaction, finding_id: int) -> Dispute | None:
    row = tx.session.scalar(
        select(DisputeRow).where(DisputeRow.finding_id == finding_id, DisputeRow.status == "open")
    )
    return _dispute(row) if row is not None else None


def add_dispute(
    tx: Transaction, finding_id: int, call_id: str, raised_by: str, reason: str, at: datetime
) -> int:
    """Open a dispute; returns its id."""
    row = DisputeRow(finding_id=finding_id, call_id=call_id, raised_by=raised_by,
                     reason=reason, raised_at=at, status="open")  # fmt: skip
    tx.session.add(row)
    tx.session.flush()
    return row.id


def dispute(tx: Transaction, dispute_id: int) -> Dispute | None:
    """A dispute, locked for the transaction's length."""
    row = tx.session.get(DisputeRow, dispute_id, with_for_update=True)
    return _dispute(row) if row is not None else None


def decide_dispute(
    tx: Transaction, dispute_id: int, status: str, decided_by: str, note: str | None, at: datetime
) -> None:
    row = tx.session.get(DisputeRow, dispute_id)
    assert row is not None, f"no dispute {dispute_id}"
    row.status, row.decided_by, row.decided_at, row.decision_note = status, decided_by, at, note
    tx.session.flush()


# Calibration


def add_judgments(
    tx: Transaction, item_id: int, judged: Sequence[BlindJudgment], reviewer: str, at: datetime
) -> None:
    for j in judged:
        tx.session.add(
            CalibrationJudgmentRow(
                item_id=item_id, criterion=j.criterion, reviewer_passed=j.reviewer_passed,
                engine_passed=j.engine_passed, reviewer=reviewer, created_at=at,
            )
        )  # fmt: skip
    tx.session.flush()


def latest_decisions(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(finding code, action, the judged call's outcome) of each reviewed finding's latest
    review."""
    latest = (
        select(func.max(ReviewRow.id))
        .where(ReviewRow.finding_id.is_not(None))
        .group_by(ReviewRow.finding_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(FindingRow.code, ReviewRow.action, VerdictRow.outcome)
            .join(FindingRow, FindingRow.id == ReviewRow.finding_id)
            .join(VerdictRow, VerdictRow.id == FindingRow.verdict_id)
            .where(ReviewRow.id.in_(latest))
        ).all()
    return [(code, action, outcome) for code, action, outcome in rows]


def blind_judgments(engine: Engine) -> list[BlindJudgment]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                CalibrationJudgmentRow.criterion,
                CalibrationJudgmentRow.reviewer_passed,
                CalibrationJudgmentRow.engine_passed,
            )
        ).all()
    return [BlindJudgment(*row) for row in rows]
