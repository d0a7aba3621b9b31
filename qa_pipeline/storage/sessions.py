"""Workbench sessions, server-side: a session exists while its row does, so logging out (or an
expiry) ends it however many copies of the cookie are about. The cookie carries a random token;
only its SHA-256 is stored, so a read of the table gives no usable session."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select

from qa_pipeline.storage.tables import SessionRow


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(engine: Engine, user_id: int, now: datetime, max_age_s: int) -> str:
    """A new session of the user, as the token its cookie carries; expired rows are removed."""
    token = secrets.token_urlsafe(32)
    with engine.begin() as connection:
        connection.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
        connection.execute(
            insert(SessionRow).values(
                id=_key(token), user_id=user_id, created_at=now,
                expires_at=now + timedelta(seconds=max_age_s),
            )
        )  # fmt: skip
    return token


def session_user(engine: Engine, token: str, now: datetime) -> int | None:
    """The user of a live session, or None (ended, expired or never started)."""
    with engine.connect() as connection:
        found = connection.execute(
            select(SessionRow.user_id).where(
                SessionRow.id == _key(token), SessionRow.expires_at > now
            )
        ).scalar_one_or_none()
    return int(found) if found is not None else None


def end_session(engine: Engine, token: str) -> None:
    with engine.begin() as connection:
        connection.execute(delete(SessionRow).where(SessionRow.id == _key(token)))


def end_user_sessions(engine: Engine, user_id: int) -> None:
    """Every session of the user (a deactivated user is signed out everywhere)."""
    with engine.begin() as connection:
        connection.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
