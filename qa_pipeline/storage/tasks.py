"""Callback tasks in the database: created with their verdict, listed, closed, exported."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, case, select, update
from sqlalchemy.orm import Session

from qa_pipeline.callbacks.plan import CONFIRM_OUTCOMES, REVISIT_OUTCOMES, PlannedTask
from qa_pipeline.errors import TaskError
from qa_pipeline.ruleset.schema import TasksFile
from qa_pipeline.storage.tables import TaskRow
from qa_pipeline.storage.transaction import Bind, Transaction, reading
from qa_pipeline.storage.upsert import insert_ignore
from qa_pipeline.verdict.model import CallResult


@dataclass(frozen=True, slots=True)
class Task:
    """A stored callback task, its times in UTC; the fields are the table's, in its order."""

    id: int
    call_id: str
    kind: str  # revisit | confirm_1 | confirm_2 | confirm_3 | confirm_extended
    priority: str
    status: str  # open | closed
    outcome: str | None
    reason_codes: tuple[str, ...]
    summary: str
    customer_number: str
    agent_id: str
    team: str
    campaign: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    note: str | None
    trial_end: str | None  # confirmations: ISO date
    extended: bool
    linked_call_id: str | None  # a revisit's own call
    linked_valid: bool | None


_CALL_FIELDS = ("customer_number", "agent_id", "team", "campaign")


def insert_tasks(
    connection: Connection, result: CallResult, planned: Sequence[PlannedTask]
) -> None:
    """Inside the verdict's transaction; a unique (call, kind) makes concurrent runs safe."""
    now = datetime.now(UTC)
    for task in planned:
        values: dict[str, Any] = {k: getattr(result, k) or "" for k in _CALL_FIELDS}
        values |= {
            "call_id": task.call_id, "kind": task.kind, "priority": task.priority, "status": "open",
            "reason_codes": list(task.reason_codes), "summary": task.summary,
            "due_at": task.due_at.astimezone(UTC), "created_at": now,
            "trial_end": task.trial_end.isoformat() if task.trial_end else None,
        }  # fmt: skip
        connection.execute(insert_ignore(connection, TaskRow, values, ["call_id", "kind"]))
    if result.revisit_of:
        connection.execute(
            update(TaskRow)
            .where(TaskRow.call_id == result.revisit_of, TaskRow.kind == "revisit")
            .values(linked_call_id=result.call_id, linked_valid=result.valid_sale)
        )


def utc(moment: datetime) -> datetime:
    """Times are stored in UTC; SQLite hands them back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _task(row: TaskRow) -> Task:
    closed = utc(row.closed_at) if row.closed_at is not None else None
    return Task(
        row.id, row.call_id, row.kind, row.priority, row.status, row.outcome,
        tuple(row.reason_codes), row.summary, row.customer_number, row.agent_id, row.team,
        row.campaign, utc(row.due_at), utc(row.created_at), closed, row.note, row.trial_end,
        row.extended, row.linked_call_id, row.linked_valid,
    )  # fmt: skip


def list_tasks(engine: Engine, status: str = "open", kind: str | None = None) -> list[Task]:
    """Urgent tasks first (a revisit of a sale that may not stand before a routine trial
    confirmation), then by due time."""
    urgent_first = case((TaskRow.priority == "urgent", 0), else_=1)
    query = select(TaskRow).order_by(urgent_first, TaskRow.due_at, TaskRow.id)
    if status != "all":
        query = query.where(TaskRow.status == status)
    if kind:
        query = query.where(TaskRow.kind == kind)
    with reading(engine) as session:
        return [_task(t) for t in session.scalars(query)]


def get_task(engine: Engine, task_id: int) -> Task:
    with reading(engine) as session:
        task = session.get(TaskRow, task_id)
        if task is None:
            raise TaskError(f"no task {task_id}")
        return _task(task)


def tasks_of(bind: Bind, call_id: str) -> list[Task]:
    """A call's tasks, oldest first."""
    query = select(TaskRow).where(TaskRow.call_id == call_id).order_by(TaskRow.id)
    with reading(bind) as session:
        return [_task(t) for t in session.scalars(query)]


def add_tasks(tx: Transaction, result: CallResult, planned: Sequence[PlannedTask]) -> None:
    """`insert_tasks` inside a caller's transaction."""
    insert_tasks(tx.connection(), result, planned)


def close_open(
    tx: Transaction, call_id: str, revisit: bool, outcome: str, note: str, at: datetime
) -> None:
    """Close the call's open revisit task (`revisit`) or its open confirmations (not)."""
    kind = TaskRow.kind == "revisit" if revisit else TaskRow.kind != "revisit"
    tx.session.execute(
        update(TaskRow)
        .where(TaskRow.call_id == call_id, kind, TaskRow.status == "open")
        .values(status="closed", outcome=outcome, closed_at=at, note=note)
    )


def reopen(tx: Transaction, call_id: str, revisit: bool, outcomes: Collection[str]) -> None:
    """Reopen the call's revisit task (`revisit`) or its confirmations (not), where they were
    closed with one of `outcomes`."""
    kind = TaskRow.kind == "revisit" if revisit else TaskRow.kind != "revisit"
    tx.session.execute(
        update(TaskRow)
        .where(
            TaskRow.call_id == call_id, kind, TaskRow.status == "closed",
            TaskRow.outcome.in_(list(outcomes)),
        )
        .values(status="open", outcome=None, closed_at=None, note=None)
    )  # fmt: skip


def close_task(
    engine: Engine,
    task_id: int,
    outcome: str,
    policy: TasksFile,
    trial_days: int | None,
    note: str | None = None,
) -> list[Task]:
    """Close a task with its outcome; returns the tasks this created (an unreachable trial
    customer gets the trial extended once and one more confirmation before the new end)."""
    with Session(engine) as session, session.begin():
        task = session.get(TaskRow, task_id, with_for_update=True)
        if task is None:
            raise TaskError(f"no task {task_id}")
        valid = REVISIT_OUTCOMES if task.kind == "revisit" else CONFIRM_OUTCOMES
        if outcome not in valid:
            raise TaskError(
                f"outcome {outcome!r} is not one of {list(valid)} for a {task.kind} task"
            )
        if task.status == "closed":
            raise TaskError(f"task {task_id} is already closed ({task.outcome})")
        task.status, task.outcome, task.note = "closed", outcome, note
        task.closed_at = datetime.now(UTC)
        created: list[TaskRow] = []
        extend = policy.confirmation.extend_when_unreachable and trial_days
        if outcome == "unreachable" and task.kind != "revisit" and extend and task.trial_end:
            already = session.scalar(
                select(TaskRow).where(
                    TaskRow.call_id == task.call_id, TaskRow.kind == "confirm_extended"
                )
            )
            if already is None:
                created.append(_extension(task, trial_days or 0, policy))
                session.add_all(created)
                session.flush()
        return [_task(t) for t in created]


def _extension(task: TaskRow, trial_days: int, policy: TasksFile) -> TaskRow:
    new_end = date.fromisoformat(task.trial_end or "") + timedelta(days=trial_days)
    before = new_end - timedelta(days=policy.confirmation.second_before_end_days)
    due = utc(task.due_at).replace(year=before.year, month=before.month, day=before.day)
    fields = {c.name: getattr(task, c.name) for c in TaskRow.__table__.columns if c.name != "id"}
    fields |= {"outcome": None, "closed_at": None, "note": None, "status": "open"}
    fields |= {"kind": "confirm_extended", "trial_end": new_end.isoformat(), "extended": True}
    fields |= {"due_at": due, "created_at": datetime.now(UTC)}
    fields["summary"] = f"trial extended once to {new_end} (customer unreachable); confirm first"
    return TaskRow(**fields)


def as_dict(task: Task) -> dict[str, Any]:
    """Every field by name, the reason codes as the list the database holds."""
    return dataclasses.asdict(task) | {"reason_codes": list(task.reason_codes)}
