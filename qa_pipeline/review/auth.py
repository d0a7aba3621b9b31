"""Users, password hashes (argon2), login rate limiting, the signed-in user's scope, and masking
of customer numbers for roles that may not see them."""

from __future__ import annotations

import re
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qa_pipeline.errors import AgentLinkError, UserError
from qa_pipeline.ingest.limits import AGENT_ID
from qa_pipeline.review.roles import ROLES
from qa_pipeline.storage import sessions, users
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
    agent_id: str | None = None  # an agent's id in the call records

    @property
    def scope_team(self) -> str | None:
        """The one team this user may see, or None for all teams."""
        return self.team if self.role == "supervisor" else None

    @property
    def scope_agent(self) -> str | None:
        """The one agent whose calls this user may see (an agent: their own), or None. An
        agent without an id (the id is required when the user is added) sees nothing: the
        stand-in has surrounding spaces, which no valid agent id has."""
        return (self.agent_id or " unlinked ") if self.role == "agent" else None

    @property
    def can_review(self) -> bool:
        return self.role in ("qa_lead", "admin")


def _user(record: UserRecord) -> User:
    return User(record.id, record.name, record.role, record.team, record.agent_id)


def agent_link_problems(role: str, agent_id: str | None) -> list[str]:
    """An agent user needs the agent id of their call records; no other role has one."""
    if role != "agent":
        return [f"--agent is only for the agent role, not {role}"] if agent_id else []
    if not agent_id:
        return ["an agent needs --agent AGENT_ID (the agent_id of their calls, e.g. S104)"]
    if agent_id != agent_id.strip() or not agent_id.isprintable() or len(agent_id) > AGENT_ID:
        return [f"agent id {agent_id!r} must be 1-{AGENT_ID} printable characters without "
                "surrounding spaces, as in the call files' agent_id"]  # fmt: skip
    return []


def add_user(
    engine: Engine,
    name: str,
    role: str,
    team: str | None,
    password: str,
    actor: str,
    agent_id: str | None = None,
) -> User:
    linked = agent_link_problems(role, agent_id)
    if linked:
        raise AgentLinkError("; ".join(linked))
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
        holder = users.user_of_agent(tx, agent_id) if agent_id else None
        if holder is not None:
            raise AgentLinkError(f"agent id {agent_id!r} is already linked to user "
                                 f"{holder.name!r}; one user per agent")  # fmt: skip
        added = users.add_user(tx, name, role, team or None, _HASHER.hash(password),
                               datetime.now(UTC), agent_id or None)  # fmt: skip
        after = {"name": name, "role": role, "team": team}
        after |= {"agent_id": agent_id} if agent_id else {}
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
    if not active:
        sessions.end_user_sessions(engine, user_id)  # signed out everywhere, now


def sign_in(engine: Engine, user: User, max_age_s: int) -> str:
    """A new server-side session of the user: the token the session cookie carries."""
    return sessions.start_session(engine, user.id, datetime.now(UTC), max_age_s)


def signed_in(engine: Engine, token: object) -> User | None:
    """The active user of a live session token (a cookie's), or None."""
    if not isinstance(token, str):
        return None
    user_id = sessions.session_user(engine, token, datetime.now(UTC))
    return active_user(engine, user_id) if user_id is not None else None


def sign_out(engine: Engine, token: object) -> None:
    """End the session server-side: a copy of its cookie opens nothing any more."""
    if isinstance(token, str):
        sessions.end_session(engine, token)


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


# Numbers said in a call (phone, ID card, bank card: seven figures or more), as ASR writes them:
# digits, maybe grouped by spaces; Chinese numerals; English digit words. Shorter numbers
# (prices, dates, times, employee numbers) stay readable. Each pattern is linear: its repeated
# parts cannot match the same text two ways.
_DIGIT_WORDS = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"
# An ID card's last figure may be X (叉 when said); hyphens group bank cards and phones
# (6222-0212-..., 138-1234-1234) but also dates (2026-11-20), so a hyphenated run needs ten figures.
_CN_DIGIT = "[零〇一二三四五六七八九幺两]"
_SPOKEN_NUMBERS = re.compile(
    r"(?:\d(?:-?\d){9,}|\d(?:[ \u3000]?\d){6,})(?:[ \u3000]?[Xx](?![A-Za-z]))?"
    rf"|{_CN_DIGIT}(?:[ \u3000，、]?{_CN_DIGIT}){{6,}}(?:[ \u3000]?[Xx叉])?"
    rf"|\b{_DIGIT_WORDS}(?:[ ,-]+{_DIGIT_WORDS}){{6,}}(?:[ ,-]+x)?\b",
    re.IGNORECASE,
)


def _masked_run(match: re.Match[str]) -> str:
    said = match.group()
    words = said.split()
    if len(words) >= 7 and not any(ch.isdigit() for ch in said):  # digit words
        return " ".join(["*"] * (len(words) - 2) + words[-2:])
    figures = re.sub(r"[ \u3000，、-]", "", said)
    return mask_number(figures)


def mask_spoken_numbers(text: str) -> str:
    """`text` with every long number said in it masked like a customer number."""
    return _SPOKEN_NUMBERS.sub(_masked_run, text)
