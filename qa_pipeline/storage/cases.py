"""Agents' service cases (from the hotline practice): opened for a call's agent, explained by
the agent, escalated when the explanation is late, decided by a leader (a yellow card or not).
What opens a case, its deadline and who may act are decided in review/cases.py, never here.
Times come back in UTC (SQLite returns them without a zone)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, func, or_, select

from qa_pipeline.storage.tables import AgentCaseRow, CallRow, FindingRow, VerdictRow
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.transaction import Bind, Transaction, one_row, reading
from qa_pipeline.storage.upsert import insert_ignore


@dataclass(frozen=True, slots=True)
class AgentCase:
    id: int
    call_id: str
    agent_id: str
    team: str
    local_date: str
    codes: tuple[str, ...]
    status: str  # open | explained | upheld | dismissed
    opened_at: datetime
    due_at: datetime
    explanation: str | None
    explained_by: str | None
    explained_at: datetime | None
    escalated_at: datetime | None  # marked overdue (no explanation by due_at)
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    yellow_card: bool
    callback_task_id: int | None


@dataclass(frozen=True, slots=True)
class CaseCall:
    """What a case keeps of its call: whose it is and the day it counts for."""

    call_id: str
    agent_id: str
    team: str
    local_date: str


def _maybe(moment: datetime | None) -> datetime | None:
    return utc(moment) if moment is not None else None


def _case(row: AgentCaseRow) -> AgentCase:
    return AgentCase(
        row.id, row.call_id, row.agent_id, row.team, row.local_date, tuple(row.codes),
        row.status, utc(row.opened_at), utc(row.due_at), row.explanation, row.explained_by,
        _maybe(row.explained_at), _maybe(row.escalated_at), row.decided_by,
        _maybe(row.decided_at), row.decision_note, row.yellow_card, row.callback_task_id,
    )  # fmt: skip


def case_call(bind: Bind, call_id: str) -> CaseCall | None:
    with reading(bind) as session:
        row = session.execute(
            select(CallRow.agent_id, CallRow.team, CallRow.local_date).where(
                CallRow.call_id == call_id
            )
        ).first()
    return CaseCall(call_id, row.agent_id, row.team, row.local_date) if row else None


def open_case(
    tx: Transaction, call: CaseCall, codes: Sequence[str], opened_at: datetime, due_at: datetime
) -> tuple[AgentCase, bool]:
    """The call's case, opened now unless it exists (by another process too); an undecided
    one takes the new codes. True when opened here."""
    values = {
        "call_id": call.call_id, "agent_id": call.agent_id, "team": call.team,
        "local_date": call.local_date, "codes": list(codes), "status": "open",
        "opened_at": opened_at, "due_at": due_at, "yellow_card": False,
    }  # fmt: skip
    connection = tx.connection()
    statement = insert_ignore(connection, AgentCaseRow, values, ["call_id"])
    added = connection.execute(statement.returning(AgentCaseRow.id)).scalar() is not None
    row = tx.session.scalar(
        select(AgentCaseRow).where(AgentCaseRow.call_id == call.call_id).with_for_update()
    )
    assert row is not None
    if not added and row.status in ("open", "explained"):
        merged = list(dict.fromkeys([*row.codes, *codes]))
        if merged != list(row.codes):
            row.codes = merged
            tx.session.flush()
    return _case(row), added


def case(bind: Bind, case_id: int) -> AgentCase | None:
    """A case; inside a transaction, locked for its length."""
    return one_row(bind, select(AgentCaseRow).where(AgentCaseRow.id == case_id), _case)


def case_of_call(bind: Bind, call_id: str) -> AgentCase | None:
    with reading(bind) as session:
        row = session.scalar(select(AgentCaseRow).where(AgentCaseRow.call_id == call_id))
        return _case(row) if row is not None else None


def update_case(tx: Transaction, changed: AgentCase) -> None:
    """Store what may change of a case: its state, explanation, escalation and decision."""
    row = tx.session.get(AgentCaseRow, changed.id)
    assert row is not None, f"no case {changed.id}"
    row.status, row.codes = changed.status, list(changed.codes)
    row.explanation, row.explained_by = changed.explanation, changed.explained_by
    row.explained_at, row.escalated_at = changed.explained_at, changed.escalated_at
    row.decided_by, row.decided_at = changed.decided_by, changed.decided_at
    row.decision_note, row.yellow_card = changed.decision_note, changed.yellow_card
    row.callback_task_id = changed.callback_task_id
    tx.session.flush()


def cases_in_scope(
    engine: Engine, scope_team: str | None, scope_agent: str | None, limit: int = 500
) -> list[AgentCase]:
    """Cases newest first, within a team and/or of one agent when given."""
    query = select(AgentCaseRow).order_by(AgentCaseRow.id.desc()).limit(limit)
    if scope_team:
        query = query.where(AgentCaseRow.team == scope_team)
    if scope_agent:
        query = query.where(AgentCaseRow.agent_id == scope_agent)
    with reading(engine) as session:
        return [_case(row) for row in session.scalars(query)]


def unexplained_open(tx: Transaction) -> list[AgentCase]:
    """Open cases not escalated yet (the caller decides which are late)."""
    query = select(AgentCaseRow).where(
        AgentCaseRow.status == "open", AgentCaseRow.escalated_at.is_(None)
    )
    return [_case(row) for row in tx.session.scalars(query.with_for_update())]


def flagged_without_case(tx: Transaction, flags: Sequence[str]) -> list[tuple[CaseCall, str]]:
    """(call, flag code) for each call whose newest judged verdict raised one of `flags` (or a
    flag of that family: `flag.item`) and that has no case yet."""
    if not flags:
        return []
    latest = (
        select(func.max(VerdictRow.id))
        .where(VerdictRow.status == "ok")
        .group_by(VerdictRow.call_id)
    )
    named = or_(*(or_(FindingRow.code == f, FindingRow.code.like(f + ".%")) for f in flags))
    query = (
        select(CallRow.call_id, CallRow.agent_id, CallRow.team, CallRow.local_date, FindingRow.code)
        .join(VerdictRow, VerdictRow.call_id == CallRow.call_id)
        .join(FindingRow, FindingRow.verdict_id == VerdictRow.id)
        .outerjoin(AgentCaseRow, AgentCaseRow.call_id == CallRow.call_id)
        .where(
            and_(FindingRow.kind == "review_flag", named, VerdictRow.id.in_(latest)),
            AgentCaseRow.id.is_(None),
        )
        .order_by(CallRow.call_id, FindingRow.id)
    )
    return [
        (CaseCall(call_id, agent, team, day), code)
        for call_id, agent, team, day, code in tx.session.execute(query)
    ]


def yellow_cards(connection: Connection) -> dict[str, int]:
    """Yellow cards by call id (one case per call: 0 or 1), for the scorecards."""
    query = select(AgentCaseRow.call_id).where(AgentCaseRow.yellow_card.is_(True))
    return {call_id: 1 for call_id in connection.execute(query).scalars()}


def agent_has_calls(engine: Engine, agent_id: str) -> bool:
    """Whether any stored call is the agent's (a user linked to an unknown id sees nothing)."""
    with engine.connect() as connection:
        query = select(CallRow.id).where(CallRow.agent_id == agent_id).limit(1)
        return connection.scalar(query) is not None
