"""API tokens, server-side: a token works while its row is unrevoked and its user active. Only
the SHA-256 of a token is kept (review/tokens.py makes tokens and says why a plain hash is
enough); here they are only stored and looked up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from qa_pipeline.storage.tables import ApiTokenRow, UserRow
from qa_pipeline.storage.transaction import Bind, Transaction, reading


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    user_id: int
    label: str
    prefix: str
    created_at: datetime  # as the database returns it (SQLite: without a zone)
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: ApiTokenRow) -> TokenRecord:
    return TokenRecord(row.id, row.user_id, row.label, row.prefix, row.created_at,
                       row.last_used_at, row.revoked_at)  # fmt: skip


def add_token(
    tx: Transaction, user_id: int, label: str, prefix: str, token_hash: str, at: datetime
) -> TokenRecord:
    row = ApiTokenRow(user_id=user_id, label=label, prefix=prefix, token_hash=token_hash,
                      created_at=at)  # fmt: skip
    tx.session.add(row)
    tx.session.flush()
    return _record(row)


def tokens_of(engine: Engine, user_id: int) -> list[TokenRecord]:
    """A user's tokens, revoked ones too, oldest first."""
    query = select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.id)
    with reading(engine) as session:
        return [_record(r) for r in session.scalars(query)]


def find_token(bind: Bind, token_id: int) -> TokenRecord | None:
    with reading(bind) as session:
        row = session.get(ApiTokenRow, token_id)
        return _record(row) if row is not None else None


def revoke(tx: Transaction, token_id: int, at: datetime) -> None:
    tx.session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.id == token_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=at)
    )


def token_user(engine: Engine, token_hash: str, now: datetime) -> int | None:
    """The active user of an unrevoked token with this hash (its last use noted), or None."""
    with engine.begin() as connection:
        found = connection.execute(
            select(ApiTokenRow.id, ApiTokenRow.user_id)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(
                ApiTokenRow.token_hash == token_hash,
                ApiTokenRow.revoked_at.is_(None),
                UserRow.active,
            )
        ).first()
        if found is None:
            return None
        connection.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == found.id).values(last_used_at=now)
        )
    return int(found.user_id)


def all_tokens(engine: Engine) -> list[TokenRecord]:
    """Every token, revoked ones too, oldest first (the users page lists them)."""
    with reading(engine) as session:
        return [_record(r) for r in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id))]
