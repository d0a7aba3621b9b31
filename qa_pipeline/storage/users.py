"""Workbench users: who may sign in, with which role and team. Password hashes are made and
checked above storage (review/auth.py); here they are only kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from qa_pipeline.storage.tables import UserRow
from qa_pipeline.storage.transaction import Bind, Transaction, reading


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    role: str
    team: str | None
    active: bool
    agent_id: str | None = None  # an agent's id in the call records


def _record(row: UserRow) -> UserRecord:
    return UserRecord(row.id, row.name, row.role, row.team, row.active, row.agent_id)


def list_users(engine: Engine) -> list[UserRecord]:
    with reading(engine) as session:
        return [_record(r) for r in session.scalars(select(UserRow).order_by(UserRow.name))]


def find_user(bind: Bind, user_id: int) -> UserRecord | None:
    with reading(bind) as session:
        row = session.get(UserRow, user_id)
        return _record(row) if row is not None else None


def user_named(bind: Bind, name: str) -> UserRecord | None:
    with reading(bind) as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name))
        return _record(row) if row is not None else None


def credentials(engine: Engine, name: str) -> tuple[UserRecord, str] | None:
    """An active user of that name with their password hash."""
    with reading(engine) as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name, UserRow.active))
        return (_record(row), row.password_hash) if row is not None else None


def user_of_agent(bind: Bind, agent_id: str) -> UserRecord | None:
    """The user linked to an agent id, if any."""
    with reading(bind) as session:
        row = session.scalar(select(UserRow).where(UserRow.agent_id == agent_id))
        return _record(row) if row is not None else None


def add_user(
    tx: Transaction,
    name: str,
    role: str,
    team: str | None,
    password_hash: str,
    at: datetime,
    agent_id: str | None = None,
) -> UserRecord:
    row = UserRow(name=name, role=role, team=team, password_hash=password_hash, active=True,
                  created_at=at, agent_id=agent_id)  # fmt: skip
    tx.session.add(row)
    tx.session.flush()
    return _record(row)


def set_active(tx: Transaction, user_id: int, active: bool) -> None:
    tx.session.execute(update(UserRow).where(UserRow.id == user_id).values(active=active))
