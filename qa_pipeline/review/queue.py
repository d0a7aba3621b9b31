"""The review queue: flagged calls (failed criteria, forbidden phrases, agent hung up first, low
role confidence) and blind calibration draws, filtered and sorted by severity, then age."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.orm import Session

from qa_pipeline.review.calibration import drawn, share_for
from qa_pipeline.review.settings import ReviewSettings, severity_of
from qa_pipeline.review.sla import is_overdue, sla_minutes
from qa_pipeline.storage.tables import CallRow, FindingRow, ReviewItemRow, VerdictRow
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.upsert import insert_ignore

FLAG_KINDS = ("criterion", "forbidden", "hangup")
SEVERITY_NAMES = {3: "high", 2: "medium", 1: "low", 0: "blind"}


def flagged_codes(findings: list[tuple[str, str]], settings: ReviewSettings) -> list[str]:
    """The codes among (kind, code) findings that put a call in the queue."""
    return [
        code
        for kind, code in findings
        if kind in FLAG_KINDS or (kind == "review_flag" and code in settings.review_flags)
    ]


def latest_verdict_ids(connection: Connection) -> dict[str, int]:
    """Each call's newest judged (status ok) verdict."""
    query = (
        select(VerdictRow.call_id, func.max(VerdictRow.id))
        .where(VerdictRow.status == "ok")
        .group_by(VerdictRow.call_id)
    )
    return {call_id: verdict_id for call_id, verdict_id in connection.execute(query)}


def findings_by_verdict(
    connection: Connection, verdict_ids: list[int]
) -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if verdict_ids:
        query = select(FindingRow.verdict_id, FindingRow.kind, FindingRow.code).where(
            FindingRow.verdict_id.in_(verdict_ids)
        )
        for verdict_id, kind, code in connection.execute(query.order_by(FindingRow.id)):
            found[verdict_id].append((kind, code))
    return found


def sync_queue(engine: Engine, settings: ReviewSettings, now: datetime) -> int:
    """Queue every flagged call and every calibration draw not queued yet; a pending item whose
    call was judged again follows the new verdict. Returns the number of new items."""
    added = 0
    with Session(engine) as session, session.begin():
        connection = session.connection()
        latest = latest_verdict_ids(connection)
        findings = findings_by_verdict(connection, list(latest.values()))
        calls = {
            row.call_id: row
            for row in connection.execute(
                select(CallRow.call_id, CallRow.agent_id, CallRow.local_date)
            )
        }
        valid = dict(
            connection.execute(
                select(VerdictRow.id, VerdictRow.valid_sale).where(
                    VerdictRow.id.in_(list(latest.values()))
                )
            ).all()
        )
        items = {i.call_id: i for i in session.scalars(select(ReviewItemRow))}
        failures: dict[str, list[str]] = defaultdict(list)
        for call_id, verdict_id in latest.items():
            if call_id in calls and flagged_codes(findings[verdict_id], settings):
                failures[calls[call_id].agent_id].append(calls[call_id].local_date)
        for call_id, verdict_id in sorted(latest.items()):
            codes = flagged_codes(findings[verdict_id], settings)
            item = items.get(call_id)
            if item is not None:
                if item.verdict_id != verdict_id and item.status == "pending" and codes:
                    item.verdict_id = verdict_id
                    item.severity = max(severity_of(c, settings) for c in codes)
                    item.engine_valid_sale = valid[verdict_id]
                continue
            call = calls.get(call_id)
            if call is None:
                continue
            if codes:
                values = _item(call_id, verdict_id, "flagged", now, codes, settings)
            elif drawn(
                call_id,
                share_for(call.local_date, failures[call.agent_id], settings),
                settings.calibration_seed,
            ):
                values = _item(call_id, verdict_id, "calibration", now, [], settings)
            else:
                continue
            values["engine_valid_sale"] = valid[verdict_id]
            statement = insert_ignore(connection, ReviewItemRow, values, ["call_id"])
            inserted = connection.execute(statement.returning(ReviewItemRow.id)).scalar()
            added += inserted is not None  # None: another process queued it first
    return added


def _item(
    call_id: str,
    verdict_id: int,
    source: str,
    now: datetime,
    codes: list[str],
    settings: ReviewSettings,
) -> dict[str, object]:
    return {
        "call_id": call_id, "verdict_id": verdict_id, "source": source,
        "blind": source == "calibration", "status": "pending",
        "severity": max((severity_of(c, settings) for c in codes), default=0),
        "sla_minutes": sla_minutes(codes, settings), "queued_at": now,
    }  # fmt: skip


@dataclass(frozen=True)
class QueueFilter:
    date_from: str | None = None
    date_to: str | None = None
    team: str | None = None
    agent: str | None = None
    campaign: str | None = None
    criterion: str | None = None
    severity: int | None = None
    state: str = "pending"  # pending | reviewed | all


@dataclass(frozen=True)
class QueueEntry:
    item_id: int
    call_id: str
    agent_id: str
    team: str
    campaign: str
    local_date: str
    started_local: str
    source: str
    blind: bool
    severity: int
    codes: tuple[str, ...]
    status: str
    overdue: bool
    escalated: bool
    waited_minutes: int

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES.get(self.severity, "low")


def build_queue(
    engine: Engine,
    scope_team: str | None,
    wanted: QueueFilter,
    settings: ReviewSettings,
    now: datetime,
) -> list[QueueEntry]:
    """The queue as this user may see it: a supervisor's scope team is applied in the query."""
    query = select(ReviewItemRow, CallRow).join(CallRow, CallRow.call_id == ReviewItemRow.call_id)
    conditions = [
        (scope_team, CallRow.team == scope_team),
        (wanted.team, CallRow.team == wanted.team),
        (wanted.agent, CallRow.agent_id == wanted.agent),
        (wanted.campaign, CallRow.campaign == wanted.campaign),
        (wanted.date_from, CallRow.local_date >= (wanted.date_from or "")),
        (wanted.date_to, CallRow.local_date <= (wanted.date_to or "")),
        (wanted.state != "all", ReviewItemRow.status == wanted.state),
    ]
    for given, condition in conditions:
        if given:
            query = query.where(condition)
    with Session(engine) as session:
        rows = session.execute(query).all()
        findings = findings_by_verdict(session.connection(), [i.verdict_id for i, _ in rows])
    entries = []
    for item, call in rows:
        codes = tuple(() if item.blind else flagged_codes(findings[item.verdict_id], settings))
        if wanted.criterion and not any(
            c == wanted.criterion or c.startswith(wanted.criterion + ".") for c in codes
        ):
            continue
        if wanted.severity is not None and item.severity != wanted.severity:
            continue
        waited = int((utc(now) - utc(item.queued_at)).total_seconds() // 60)
        entries.append(
            QueueEntry(
                item.id,
                item.call_id,
                call.agent_id,
                call.team,
                call.campaign,
                call.local_date,
                call.started_local,
                item.source,
                item.blind,
                item.severity,
                codes,
                item.status,
                is_overdue(item.queued_at, item.sla_minutes, item.status, now),
                item.escalated_at is not None,
                waited,
            )
        )
    # Severity first, then age: the oldest call of a severity first.
    entries.sort(key=lambda e: (-e.severity, utc(datetime.fromisoformat(e.started_local))))
    return entries


def filter_choices(engine: Engine, scope_team: str | None) -> dict[str, list[str]]:
    """Values for the queue's filter menus, within the user's scope."""
    with engine.connect() as connection:
        query = select(CallRow.team, CallRow.agent_id, CallRow.campaign)
        if scope_team:
            query = query.where(CallRow.team == scope_team)
        rows = connection.execute(query).all()
        codes = connection.execute(select(FindingRow.code).distinct()).scalars().all()
    return {
        "team": sorted({r.team for r in rows}),
        "agent": sorted({r.agent_id for r in rows}),
        "campaign": sorted({r.campaign for r in rows}),
        "criterion": sorted({c.split(".")[0] for c in codes} | set(codes)),
    }
