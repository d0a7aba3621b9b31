"""The audit log: every workbench action with who, when, and the state before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.orm import Session

from qa_pipeline.storage.tables import AuditRow


def record(
    connection: Connection,
    actor: str,
    action: str,
    call_id: str | None,
    target: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None = None,
) -> None:
    """Written in the caller's transaction, so an action and its entry commit together."""
    connection.execute(
        insert(AuditRow).values(
            at=at or datetime.now(UTC), actor=actor, action=action, call_id=call_id,
            target=target, before=before, after=after,
        )
    )  # fmt: skip


def entries(engine: Engine, call_id: str | None = None, limit: int = 200) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if call_id is not None:
        query = query.where(AuditRow.call_id == call_id)
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(query))
