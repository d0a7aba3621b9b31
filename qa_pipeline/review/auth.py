"""Users, password hashes (argon2), login rate limiting and the signed-in user's scope."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qa_pipeline.errors import UserError
from qa_pipeline.review.roles import ROLES
from qa_pipeline.storage import users
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.transaction import transaction
from qa_pipeline.storage.users import UserRecord

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


def _user(record: UserRecord) -> User:
    return User(record.id, record.name, record.role, record.team)


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
    with transaction(engine) as tx:
        if users.user_named(tx, name) is not None:
            raise UserError(f"user {name!r} already exists")
        added = users.add_user(tx, name, role, team or None, _HASHER.hash(password),
                               datetime.now(UTC))  # fmt: skip
        after = {"name": name, "role": role, "team": team}
        record(tx, actor, "user_add", None, name, None, after)
    return _user(added)


def set_active(engine: Engine, user_id: int, active: bool, actor: str) -> None:
    with transaction(engine) as tx:
        user = users.find_user(tx, user_id)
        if user is None:
            raise UserError(f"no user {user_id}")
        users.set_active(tx, user_id, active)
        record(tx, actor, "user_active", None, user.name, {"active": user.active},
               {"active": active})  # fmt: skip


def authenticate(engine: Engine, name: str, password: str) -> User | None:
    found = users.credentials(engine, name)
    try:
        _HASHER.verify(found[1] if found else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(found[0]) if found is not None else None


def active_user(engine: Engine, user_id: int) -> User | None:
    found = users.find_user(engine, user_id)
    return _user(found) if found is not None and found.active else None


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
