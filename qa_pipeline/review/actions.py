"""Review actions: confirm or overturn a finding, dispute a confirmed one and decide the
dispute, judge a blind calibration call. The call's final verdict, its callback tasks and the
scorecards of its day follow; every action is in the audit log with the state before and after."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from qa_pipeline.callbacks.plan import plan_tasks
from qa_pipeline.errors import ReviewError
from qa_pipeline.review.auth import User
from qa_pipeline.review.cases import on_confirmed
from qa_pipeline.review.queue import flagged_codes
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage import review as stored
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import BlindJudgment, Finding, ReviewItem
from qa_pipeline.storage.tasks import add_tasks, close_open, reopen, tasks_of
from qa_pipeline.storage.transaction import Transaction, transaction
from qa_pipeline.verdict.final import FinalVerdict, final_verdict
from qa_pipeline.verdict.model import CallResult

ACTIONS = ("confirm", "overturn")
DECISIONS = ("upheld", "rejected")
# Task outcomes written by reviews (the customer outcomes are in callbacks/plan.py).
CLOSED_BY_REVIEW = "overturned_in_review"
INVALID_IN_REVIEW = "invalid_in_review"


@dataclass(frozen=True)
class ActionResult:
    call_id: str
    before: dict[str, Any]
    after: dict[str, Any]


def _item(tx: Transaction, call_id: str) -> ReviewItem:
    item = stored.review_item(tx, call_id)
    if item is None:
        raise ReviewError(f"call {call_id} is not in the review queue")
    return item


def _finding(tx: Transaction, item: ReviewItem, finding_id: int) -> Finding:
    found = stored.finding(tx, finding_id)
    if found is None or found.verdict_id != item.verdict_id:
        raise ReviewError(f"finding {finding_id} is not a finding of call {item.call_id}")
    return found


def _result(tx: Transaction, item: ReviewItem) -> CallResult:
    result = stored.verdict_result(tx, item.verdict_id)
    assert result is not None  # the item's foreign key
    return result


def _snapshot(tx: Transaction, item: ReviewItem, finding_state: str | None) -> dict[str, Any]:
    """What an action's audit entry keeps of the call before and after it."""
    return {
        "finding": finding_state,
        "valid_sale": item.final_valid_sale if item.final else item.engine_valid_sale,
        "item_status": item.status,
        "tasks": {t.kind: f"{t.status}:{t.outcome or ''}" for t in tasks_of(tx, item.call_id)},
    }


def review_finding(
    engine: Engine,
    ruleset: Ruleset,
    settings: ReviewSettings,
    user: User,
    call_id: str,
    finding_id: int,
    action: str,
    note: str,
    now: datetime,
) -> ActionResult:
    """Confirm or overturn one finding (QA leads and admins)."""
    if not user.can_review:
        raise ReviewError(f"{user.role} may not review findings")
    if action not in ACTIONS:
        raise ReviewError(f"action {action!r} is not one of {list(ACTIONS)}")
    with transaction(engine) as tx:
        outcome = _review(tx, ruleset, settings, user.name, call_id, finding_id, action, note,
                          now)  # fmt: skip
    _rebuild_day(engine, call_id)
    return outcome


def _review(
    tx: Transaction,
    ruleset: Ruleset,
    settings: ReviewSettings,
    actor: str,
    call_id: str,
    finding_id: int,
    action: str,
    note: str,
    now: datetime,
) -> ActionResult:
    item = _item(tx, call_id)
    found = _finding(tx, item, finding_id)
    states = stored.finding_states(tx, item.verdict_id)
    previous = states.get(finding_id)
    before = _snapshot(tx, item, previous.action if previous else None)
    states[finding_id] = stored.add_review(tx, found, action, actor, note or None, now)
    if action == "confirm":  # a confirmed service-language problem: the agent explains
        on_confirmed(tx, settings, call_id, found.kind, found.code, actor, now)
    by_id = {f.id: f for f in stored.findings(tx, item.verdict_id)}
    overturned = [by_id[i].code for i, r in states.items() if r.action == "overturn"]
    result = _result(tx, item)
    final = final_verdict(result, overturned)
    flagged = [f.id for f in by_id.values() if flagged_codes([(f.kind, f.code)], settings)]
    done = all(i in states for i in flagged) and item.status == "pending"
    item = dataclasses.replace(
        item, final=final, final_valid_sale=final.valid_sale,
        status="reviewed" if done else item.status, reviewed_at=now if done else item.reviewed_at,
    )  # fmt: skip
    stored.update_item(tx, item)
    _follow_tasks(tx, result, final, ruleset, now)
    after = _snapshot(tx, item, action)
    record(tx, actor, action, call_id, f"finding {finding_id} {found.code}", before, after, now)
    return ActionResult(call_id, before, after)


def _follow_tasks(
    tx: Transaction,
    result: CallResult,
    final: FinalVerdict,
    ruleset: Ruleset,
    now: datetime,
) -> None:
    """A sale made valid by review closes its revisit (and gets its trial confirmations); made
    invalid again, the revisit reopens and open confirmations close."""
    if result.outcome != "sale" or result.verdict is None:
        return
    call_id = result.call_id
    valid = bool(final.valid_sale)
    outcome = CLOSED_BY_REVIEW if valid else INVALID_IN_REVIEW
    # Valid: the revisit closes and confirmations reopen; invalid: the other way round.
    close_open(tx, call_id, valid, outcome, "review", now)
    reopen(tx, call_id, not valid, (CLOSED_BY_REVIEW, INVALID_IN_REVIEW))
    if "do_not_call" in result.review_flags:
        return
    verdict = dataclasses.replace(
        result.verdict, valid_sale=final.valid_sale, revisit_required=final.revisit_required
    )
    reviewed = dataclasses.replace(result, verdict=verdict, revisit_of=None)
    campaign = ruleset.campaigns.get(result.campaign or "")
    add_tasks(tx, reviewed, plan_tasks(reviewed, campaign, ruleset.tasks, now))


def _rebuild_day(engine: Engine, call_id: str) -> None:
    day = stored.call_date(engine, call_id)
    if day:
        rebuild(engine, {day})


def raise_dispute(
    engine: Engine, user: User, call_id: str, finding_id: int, reason: str, now: datetime
) -> int:
    """A supervisor, or the call's agent, disputes a confirmed finding; returns the dispute's
    id (the caller checks the call is within the user's scope)."""
    if user.role not in ("supervisor", "admin", "agent"):
        raise ReviewError(f"{user.role} may not dispute findings")
    if not reason.strip():
        raise ReviewError("a dispute needs a reason")
    with transaction(engine) as tx:
        item = _item(tx, call_id)
        _finding(tx, item, finding_id)
        state = stored.finding_states(tx, item.verdict_id).get(finding_id)
        if state is None or state.action != "confirm":
            raise ReviewError(f"finding {finding_id} is not confirmed; only confirmed findings "
                              "can be disputed")  # fmt: skip
        if stored.open_dispute(tx, finding_id) is not None:
            raise ReviewError(f"finding {finding_id} already has an open dispute")
        dispute_id = stored.add_dispute(tx, finding_id, call_id, user.name, reason, now)
        after = {"dispute": dispute_id, "status": "open", "reason": reason}
        record(tx, user.name, "dispute", call_id, f"finding {finding_id}",
               {"finding": "confirm"}, after, now)  # fmt: skip
        return dispute_id


def decide_dispute(
    engine: Engine,
    ruleset: Ruleset,
    settings: ReviewSettings,
    user: User,
    dispute_id: int,
    decision: str,
    note: str,
    now: datetime,
) -> ActionResult:
    """A QA lead upholds a dispute (the finding is overturned, the verdict follows) or rejects
    it (the finding stays confirmed)."""
    if not user.can_review:
        raise ReviewError(f"{user.role} may not decide disputes")
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is not one of {list(DECISIONS)}")
    with transaction(engine) as tx:
        dispute = stored.dispute(tx, dispute_id)
        if dispute is None or dispute.status != "open":
            raise ReviewError(f"dispute {dispute_id} is not open")
        before = {"dispute": dispute_id, "status": "open"}
        after = {"dispute": dispute_id, "status": decision, "note": note}
        outcome = ActionResult(dispute.call_id, before, after)
        if decision == "upheld":
            why = f"dispute {dispute_id} upheld: {note}".strip()
            outcome = _review(tx, ruleset, settings, user.name, dispute.call_id,
                              dispute.finding_id, "overturn", why, now)  # fmt: skip
        stored.decide_dispute(tx, dispute_id, decision, user.name, note or None, now)
        record(tx, user.name, "dispute_decide", dispute.call_id,
               f"finding {dispute.finding_id}", before, after, now)  # fmt: skip
    _rebuild_day(engine, dispute.call_id)
    return outcome


def judge_blind(
    engine: Engine,
    user: User,
    call_id: str,
    passed: Mapping[str, bool],
    note: str,
    now: datetime,
    criteria: Sequence[str],
) -> ActionResult:
    """A reviewer's own pass/fail per criterion (`criteria`: criteria.yaml's) on a blind
    calibration call, kept next to the engine's for the agreement report."""
    if not user.can_review:
        raise ReviewError(f"{user.role} may not judge calibration calls")
    missing = [c for c in criteria if c not in passed]
    if missing:
        raise ReviewError(f"judge every criterion; missing {missing}")
    with transaction(engine) as tx:
        item = _item(tx, call_id)
        if item.source != "calibration" or item.status != "pending":
            raise ReviewError(f"call {call_id} is not a pending calibration call")
        judged = _result(tx, item).verdict
        nodes = {c: judged.criteria.get(c) if judged else None for c in criteria}
        stored.add_judgments(tx, item.id, [
            BlindJudgment(c, passed[c], node.passed if node is not None else None)
            for c, node in nodes.items()
        ], user.name, now)  # fmt: skip
        stored.update_item(tx, dataclasses.replace(item, status="reviewed", reviewed_at=now))
        after = {"judged": dict(passed), "note": note}
        record(tx, user.name, "calibration", call_id, None, {"item_status": "pending"}, after,
               now)  # fmt: skip
    return ActionResult(call_id, {"item_status": "pending"}, after)
