"""Claims: a QA lead claims a queued call, or a lead or admin assigns it to a named reviewer,
so two people do not review the same call. A claim lasts `claim_minutes` from when it was made;
after that it is as good as none and the call returns to everyone. A live claim of someone
else's cannot be taken (its holder releases it, an admin releases it, or it expires). Every
claim, assignment and release is in the audit log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeGuard

from qa_pipeline.errors import ClaimError
from qa_pipeline.review.auth import User
from qa_pipeline.review.queue import QueueEntry
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.storage import claims as stored
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.claims import Claim
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import review_item
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.transaction import transaction
from qa_pipeline.storage.users import user_named

HOLDER_FILTERS = ("mine", "unassigned")
REVIEW_ROLES = ("qa_lead", "admin")


def is_live(claim: Claim | None, now: datetime) -> TypeGuard[Claim]:
    """A claim not expired at `now` (None is no claim; a True answer tells mypy it is one)."""
    return claim is not None and utc(claim.expires_at) > utc(now)


def live_claims(engine: Engine, now: datetime) -> dict[str, Claim]:
    """The claims not expired at `now`, by call id."""
    return {c.call_id: c for c in stored.all_claims(engine) if is_live(c, now)}


def held_by_other(engine: Engine, call_id: str, user: User, now: datetime) -> Claim | None:
    """The call's live claim if someone other than `user` holds it."""
    claim = stored.claim_of(engine, call_id)
    return claim if is_live(claim, now) and claim.holder != user.name else None


def by_holder(
    entries: Iterable[QueueEntry], wanted: str | None, claims: Mapping[str, Claim], user: User
) -> list[QueueEntry]:
    """The queue narrowed to the user's own live claims (`mine`), to calls nobody holds
    (`unassigned`), or as it is."""
    if wanted == "mine":
        return [e for e in entries if e.call_id in claims and claims[e.call_id].holder == user.name]
    if wanted == "unassigned":
        return [e for e in entries if e.call_id not in claims]
    return list(entries)


def _snapshot(claim: Claim | None, now: datetime) -> dict[str, str | None]:
    if not is_live(claim, now):
        return {"holder": None}
    return {"holder": claim.holder, "expires_at": utc(claim.expires_at).isoformat()}


def claim(
    engine: Engine,
    user: User,
    call_id: str,
    settings: ReviewSettings,
    now: datetime,
    holder: str | None = None,
) -> Claim:
    """Claim a pending queued call for `user`, or assign it to `holder` (an active QA lead or
    admin); a claim already there is renewed when it is the same holder's."""
    holder = holder or user.name
    if not user.can_review:
        raise ClaimError(f"{user.role} may not claim calls", "claim_not_allowed")
    if holder != user.name:
        target = user_named(engine, holder)
        if target is None or not target.active or target.role not in REVIEW_ROLES:
            raise ClaimError(
                f"cannot assign call {call_id} to {holder!r}: not an active user with a role "
                f"of {list(REVIEW_ROLES)}", "claim_bad_assignee", holder=holder,
            )  # fmt: skip
    with transaction(engine) as tx:
        item = review_item(tx, call_id)
        if item is None or item.status != "pending":
            raise ClaimError(f"call {call_id} is not pending in the review queue",
                             "claim_not_pending")  # fmt: skip
        current = stored.claim_of(tx, call_id)
        if is_live(current, now) and current.holder not in (holder, user.name):
            until = utc(current.expires_at)
            raise ClaimError(
                f"call {call_id} is claimed by {current.holder} until {until:%Y-%m-%d %H:%M} "
                "UTC; ask them to release it or wait until the claim expires",
                "claim_taken", holder=current.holder, until=f"{until:%H:%M}",
            )  # fmt: skip
        new = Claim(call_id, holder, user.name, now,
                    now + timedelta(minutes=settings.claim_minutes))  # fmt: skip
        stored.set_claim(tx, new)
        action = "claim" if holder == user.name else "assign"
        record(tx, user.name, action, call_id, holder, _snapshot(current, now),
               _snapshot(new, now), now)  # fmt: skip
    return new


def release(engine: Engine, user: User, call_id: str, now: datetime) -> None:
    """End a live claim: its holder, or an admin, may."""
    with transaction(engine) as tx:
        current = stored.claim_of(tx, call_id)
        if not is_live(current, now):
            raise ClaimError(f"call {call_id} is not claimed", "claim_none")
        if current.holder != user.name and user.role != "admin":
            raise ClaimError(
                f"call {call_id} is claimed by {current.holder}; only they or an admin may "
                "release it", "claim_not_yours", holder=current.holder,
            )  # fmt: skip
        stored.drop_claim(tx, call_id)
        record(tx, user.name, "release", call_id, current.holder, _snapshot(current, now),
               {"holder": None}, now)  # fmt: skip
