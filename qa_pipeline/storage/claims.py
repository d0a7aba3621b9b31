"""Claims on queued calls (who reviews which call, until when) and users' saved queue filters.
What a claim allows is decided in review/claims.py; here rows are only kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, select

from qa_pipeline.storage.tables import ClaimRow, SavedFilterRow
from qa_pipeline.storage.transaction import Bind, Transaction, one_row, reading


@dataclass(frozen=True, slots=True)
class Claim:
    call_id: str
    holder: str
    assigned_by: str  # the holder themselves, or the lead or admin who assigned the call
    claimed_at: datetime
    expires_at: datetime  # as the database returns it (SQLite: without a zone)


@dataclass(frozen=True, slots=True)
class SavedFilter:
    id: int
    name: str
    query: str


def _claim(row: ClaimRow) -> Claim:
    return Claim(row.call_id, row.holder, row.assigned_by, row.claimed_at, row.expires_at)


def claim_of(bind: Bind, call_id: str) -> Claim | None:
    """The call's claim, live or expired; inside a transaction, locked for its length."""
    return one_row(bind, select(ClaimRow).where(ClaimRow.call_id == call_id), _claim)


def set_claim(tx: Transaction, claim: Claim) -> None:
    row = tx.session.get(ClaimRow, claim.call_id)
    if row is None:
        row = ClaimRow(call_id=claim.call_id)
        tx.session.add(row)
    row.holder, row.assigned_by = claim.holder, claim.assigned_by
    row.claimed_at, row.expires_at = claim.claimed_at, claim.expires_at
    tx.session.flush()


def drop_claim(tx: Transaction, call_id: str) -> None:
    tx.session.execute(delete(ClaimRow).where(ClaimRow.call_id == call_id))


def all_claims(engine: Engine) -> list[Claim]:
    """Every claim, expired ones too (the caller compares `expires_at` with its clock)."""
    with reading(engine) as session:
        return [_claim(row) for row in session.scalars(select(ClaimRow))]


def saved_filters(engine: Engine, user_id: int) -> list[SavedFilter]:
    query = select(SavedFilterRow).where(SavedFilterRow.user_id == user_id)
    with reading(engine) as session:
        rows = session.scalars(query.order_by(SavedFilterRow.name))
        return [SavedFilter(r.id, r.name, r.query) for r in rows]


def save_filter(tx: Transaction, user_id: int, name: str, query: str, at: datetime) -> int:
    """Keep `query` under `name` for the user; an existing filter of that name is replaced."""
    row = tx.session.scalar(
        select(SavedFilterRow).where(SavedFilterRow.user_id == user_id,
                                     SavedFilterRow.name == name).with_for_update()
    )  # fmt: skip
    if row is None:
        row = SavedFilterRow(user_id=user_id, name=name)
        tx.session.add(row)
    row.query, row.created_at = query, at
    tx.session.flush()
    return row.id


def delete_filter(tx: Transaction, user_id: int, filter_id: int) -> str | None:
    """Delete one of the user's filters; its name, or None when they have no such filter."""
    row = tx.session.get(SavedFilterRow, filter_id)
    if row is None or row.user_id != user_id:
        return None
    tx.session.delete(row)
    tx.session.flush()
    return row.name
