"""The audit log: every workbench action with who, when, and the state before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from qa_pipeline.storage.tables import AuditRow
from qa_pipeline.storage.transaction import Transaction, reading

# Every action the log records: the audit page names each in the reader's language
# (review/i18n `audit_<action>`), so a new action needs its names there too (tested).
ACTIONS = (
    "confirm", "overturn", "dispute", "dispute_decide", "calibration", "escalate",
    "claim", "assign", "release", "case_open", "case_overdue", "case_explain", "case_decide",
    "user_add", "user_active", "token_add", "token_revoke", "evidence_pack",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime  # as the database returns it (SQLite: without a zone)
    actor: str
    action: str
    call_id: str | None
    target: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def record(
    tx: Transaction,
    actor: str,
    action: str,
    call_id: str | None,
    target: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None = None,
) -> None:
    """Written in the action's transaction, so an action and its entry commit together."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not one of {list(ACTIONS)}")
    tx.connection().execute(
        insert(AuditRow).values(
            at=at or datetime.now(UTC), actor=actor, action=action, call_id=call_id,
            target=target, before=before, after=after,
        )
    )  # fmt: skip


def entries(engine: Engine, call_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The latest entries first, of one call or of all."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if call_id is not None:
        query = query.where(AuditRow.call_id == call_id)
    with reading(engine) as session:
        return [
            AuditEntry(e.id, e.at, e.actor, e.action, e.call_id, e.target, e.before, e.after)
            for e in session.scalars(query)
        ]
