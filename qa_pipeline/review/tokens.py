"""Per-user API tokens: made here, shown once, kept only as a SHA-256.

A plain hash is enough for a token (passwords get argon2 in auth.py): the token is 32 random
bytes, so there is nothing to guess from a leaked hash that a slow hash would protect (a slow
hash only helps low-entropy secrets such as passwords), and an unsalted hash can be looked up
by index on every API request without costing argon2's time and memory per call. A token
works while it is unrevoked and its user active (disabling a user stops every token at once).
Creating and revoking are in the audit log."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from qa_pipeline.errors import TokenError
from qa_pipeline.review.auth import User, active_user
from qa_pipeline.storage import tokens
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.tokens import TokenRecord
from qa_pipeline.storage.transaction import Bind, transaction
from qa_pipeline.storage.users import user_named

PREFIX = "qap_"  # marks a string as this app's token (secret scanners, logs)
MAX_LABEL = 64


@dataclass(frozen=True)
class NewToken:
    record: TokenRecord
    secret: str  # the token itself: shown once, never stored


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user_id(bind: Bind, name: str) -> int:
    user = user_named(bind, name)
    if user is None:
        raise TokenError(f"no user {name!r} (qa-pipeline users list shows them)")
    return user.id


def create_token(engine: Engine, name: str, label: str, actor: str) -> NewToken:
    """A new token of user `name`; `label` says what it is for (a script, a dashboard)."""
    label = label.strip()
    if len(label) > MAX_LABEL:
        raise TokenError(f"the label must be at most {MAX_LABEL} characters")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with transaction(engine) as tx:
        made = tokens.add_token(
            tx, _user_id(tx, name), label, secret[: len(PREFIX) + 6], _hash(secret), now
        )
        record(tx, actor, "token_add", None, name, None,
               {"token": made.id, "label": label}, now)  # fmt: skip
    return NewToken(made, secret)


def list_tokens(engine: Engine, name: str) -> list[TokenRecord]:
    return tokens.tokens_of(engine, _user_id(engine, name))


def all_tokens(engine: Engine) -> list[TokenRecord]:
    return tokens.all_tokens(engine)


def revoke_token(engine: Engine, token_id: int, actor: str) -> TokenRecord:
    """Revoke a token (at once: the next request with it is refused)."""
    now = datetime.now(UTC)
    with transaction(engine) as tx:
        found = tokens.find_token(tx, token_id)
        if found is None:
            raise TokenError(f"no API token {token_id} (qa-pipeline users tokens NAME lists them)")
        if found.revoked_at is not None:
            raise TokenError(f"API token {token_id} is already revoked")
        tokens.revoke(tx, token_id, now)
        record(tx, actor, "token_revoke", None, f"token {token_id}", {"revoked": False},
               {"revoked": True, "label": found.label}, now)  # fmt: skip
    revoked = tokens.find_token(engine, token_id)
    assert revoked is not None
    return revoked


def token_user(engine: Engine, token: str) -> User | None:
    """The active user of an unrevoked token, or None."""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    user_id = tokens.token_user(engine, _hash(token), datetime.now(UTC))
    return active_user(engine, user_id) if user_id is not None else None
