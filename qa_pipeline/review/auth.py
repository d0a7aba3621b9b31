"""Users, password hashes (argon2), login rate limiting and the signed-in user's scope."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qa_pipeline.errors import UserError
from qa_pipeline.review.audit import record
from qa_pipeline.review.settings import ROLES
from qa_pipeline.storage.tables import UserRow

_HASHER = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-password")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    team: str | None

    @property
    def scope_team(self) -> str | None:
        """The one team this user may see, or None for all teams."""
        return self.team if self.role == "supervisor" else None

    @property
    def can_review(self) -> bool:
        return self.role in ("qa_lead", "admin")


def _user(row: UserRow) -> User:
    return User(row.id, row.name, row.role, row.team)


def add_user(
    engine: Engine, name: str, role: str, team: str | None, password: str, actor: str
) -> User:
    problems = []
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {list(ROLES)}")
    if role == "supervisor" and not team:
        problems.append("a supervisor needs --team")
    if len(password) < MIN_PASSWORD:
        problems.append(f"the password needs at least {MIN_PASSWORD} characters")
    if not name.strip() or len(name) > 64:
        problems.append("the name must be 1-64 characters")
    if problems:
        raise UserError("; ".join(problems))
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if session.scalar(select(UserRow).where(UserRow.name == name)) is not None:
            raise UserError(f"user {name!r} already exists")
        row = UserRow(
            name=name, role=role, team=team or None, password_hash=_HASHER.hash(password),
            active=True, created_at=datetime.now(UTC),
        )  # fmt: skip
        session.add(row)
        session.flush()
        after = {"name": name, "role": role, "team": team}
        record(session.connection(), actor, "user_add", None, name, None, after)
    return _user(row)


def set_active(engine: Engine, user_id: int, active: bool, actor: str) -> None:
    with Session(engine) as session, session.begin():
        row = session.get(UserRow, user_id)
        if row is None:
            raise UserError(f"no user {user_id}")
        before = {"active": row.active}
        row.active = active
        record(
            session.connection(), actor, "user_active", None, row.name, before, {"active": active}
        )


def list_users(engine: Engine) -> list[UserRow]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    with Session(engine) as session:
        row = session.scalar(select(UserRow).where(UserRow.name == name, UserRow.active))
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(row) if row is not None else None


def active_user(engine: Engine, user_id: int) -> User | None:
    with Session(engine) as session:
        row = session.get(UserRow, user_id)
        return _user(row) if row is not None and row.active else None


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window; in memory, so a
    restart forgets them (acceptable: the window is minutes)."""

    def __init__(self, max_failures: int, window_seconds: int) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, keys: list[str], now: float) -> bool:
        return any(len(self._recent(k, now)) >= self.max_failures for k in keys)

    def failed(self, keys: list[str], now: float) -> None:
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)


def mask_number(number: str) -> str:
    """13812341234 -> 138****1234: first three and last four kept."""
    if len(number) <= 7:
        return "*" * max(len(number) - 2, 0) + number[-2:]
    return number[:3] + "*" * (len(number) - 7) + number[-4:]
