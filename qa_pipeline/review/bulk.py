"""Bulk actions on the queue: claim, assign, release, or confirm / overturn one finding code on
several calls with one note. Each call goes through the same action as one at a time (claims.py,
actions.review_finding), with its own transaction and audit entry; one call's failure is
reported for that call and the others go on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from qa_pipeline.errors import BulkActionError, QAPipelineError, QueueActionError
from qa_pipeline.review import actions, claims
from qa_pipeline.review.auth import User
from qa_pipeline.review.queue import flagged_codes
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.storage import review as stored
from qa_pipeline.storage.db import Engine

OPERATIONS = ("claim", "assign", "release", "confirm", "overturn")
MAX_CALLS = 500  # one request's selection: a page of the queue at most


@dataclass(frozen=True)
class BulkRequest:
    operation: str
    call_ids: tuple[str, ...]
    assignee: str = ""
    code: str = ""
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    """One call's result: done, or why not (`key` and `params`: the reason's interface text)."""

    call_id: str
    ok: bool
    key: str
    params: dict[str, str] = field(default_factory=dict)
    detail: str = ""  # the error code (E131), or an action's own refusal as it said it


def check(request: BulkRequest) -> None:
    """What makes the whole request unusable, before any call is touched."""
    if request.operation not in OPERATIONS:
        raise BulkActionError(f"action {request.operation!r} is not one of {list(OPERATIONS)}",
                              "bulk_bad_operation")  # fmt: skip
    if not request.call_ids:
        raise BulkActionError("select at least one call", "bulk_no_calls")
    if len(request.call_ids) > MAX_CALLS:
        raise BulkActionError(f"{len(request.call_ids)} calls selected; at most {MAX_CALLS}",
                              "bulk_too_many", limit=str(MAX_CALLS))  # fmt: skip
    if request.operation == "assign" and not request.assignee:
        raise BulkActionError("assign needs a reviewer's name", "bulk_no_assignee")
    if request.operation in ("confirm", "overturn") and not request.code:
        raise BulkActionError("confirm and overturn need a finding code", "bulk_no_code")


def apply(
    engine: Engine,
    ruleset: Ruleset,
    settings: ReviewSettings,
    user: User,
    request: BulkRequest,
    now: datetime,
) -> list[Outcome]:
    """Each selected call (once each, in the order given) with its outcome."""
    check(request)
    outcomes = []
    for call_id in dict.fromkeys(request.call_ids):
        if stored.visible_call(engine, call_id, user.scope_team) is None:
            outcomes.append(Outcome(call_id, False, "bulk_not_found"))
            continue
        try:
            outcomes.append(_one(engine, ruleset, settings, user, request, call_id, now))
        except QueueActionError as exc:
            outcomes.append(Outcome(call_id, False, exc.key, exc.params, exc.code))
        except QAPipelineError as exc:  # review actions' own refusals (E080)
            outcomes.append(Outcome(call_id, False, "bulk_refused", {}, str(exc)))
    return outcomes


def _one(
    engine: Engine,
    ruleset: Ruleset,
    settings: ReviewSettings,
    user: User,
    request: BulkRequest,
    call_id: str,
    now: datetime,
) -> Outcome:
    operation = request.operation
    if operation in ("claim", "assign"):
        holder = request.assignee if operation == "assign" else None
        made = claims.claim(engine, user, call_id, settings, now, holder)
        return Outcome(call_id, True, "bulk_done_claim", {"holder": made.holder})
    if operation == "release":
        claims.release(engine, user, call_id, now)
        return Outcome(call_id, True, "bulk_done_release")
    held = claims.held_by_other(engine, call_id, user, now)
    if held is not None:
        raise BulkActionError(f"call {call_id} is claimed by {held.holder}", "claim_held",
                              holder=held.holder)  # fmt: skip
    ids = _findings_with(engine, call_id, request.code, settings)
    if not ids:
        raise BulkActionError(f"call {call_id} has no finding {request.code} to review",
                              "bulk_no_finding", code=request.code)  # fmt: skip
    for finding_id in ids:
        actions.review_finding(engine, ruleset, settings, user, call_id, finding_id, operation,
                               request.note, now)  # fmt: skip
    return Outcome(call_id, True, f"bulk_done_{operation}", {"count": str(len(ids))})


def _findings_with(
    engine: Engine, call_id: str, code: str, settings: ReviewSettings
) -> Sequence[int]:
    """The call's queued findings of `code` or of its family (`disclosures` covers
    `disclosures.fees`), as the queue's criterion filter reads a code."""
    item = stored.review_item(engine, call_id)
    if item is None or item.blind:
        return []
    return [
        f.id
        for f in stored.findings(engine, item.verdict_id)
        if (f.code == code or f.code.startswith(code + "."))
        and flagged_codes([(f.kind, f.code)], settings)
    ]
