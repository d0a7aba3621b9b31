"""Review actions: confirm or overturn a finding, dispute a confirmed one and decide the
dispute, judge a blind calibration call. The call's final verdict, its callback tasks and the
scorecards of its day follow; every action is in the audit log with the state before and after."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.orm import Session

from qa_pipeline.callbacks.plan import plan_tasks
from qa_pipeline.errors import ReviewError
from qa_pipeline.review.audit import record
from qa_pipeline.review.auth import User
from qa_pipeline.review.queue import flagged_codes
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage.tables import (
    CalibrationJudgmentRow,
    CallRow,
    DisputeRow,
    FindingRow,
    ReviewItemRow,
    ReviewRow,
    TaskRow,
    VerdictRow,
)
from qa_pipeline.storage.tasks import insert_tasks
from qa_pipeline.verdict.final import FinalVerdict, final_verdict
from qa_pipeline.verdict.model import CallResult
from qa_pipeline.verdict.serialize import from_row

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


def finding_states(session: Session, verdict_id: int) -> dict[int, ReviewRow]:
    """Each reviewed finding of a verdict with its latest review."""
    latest = (
        select(func.max(ReviewRow.id))
        .where(ReviewRow.verdict_id == verdict_id, ReviewRow.finding_id.is_not(None))
        .group_by(ReviewRow.finding_id)
    )
    rows = session.scalars(select(ReviewRow).where(ReviewRow.id.in_(latest)))
    return {row.finding_id: row for row in rows if row.finding_id is not None}


def _item(session: Session, call_id: str) -> ReviewItemRow:
    item = session.scalar(
        select(ReviewItemRow).where(ReviewItemRow.call_id == call_id).with_for_update()
    )
    if item is None:
        raise ReviewError(f"call {call_id} is not in the review queue")
    return item


def _finding(session: Session, item: ReviewItemRow, finding_id: int) -> FindingRow:
    finding = session.get(FindingRow, finding_id)
    if finding is None or finding.verdict_id != item.verdict_id:
        raise ReviewError(f"finding {finding_id} is not a finding of call {item.call_id}")
    return finding


def _tasks(connection: Connection, call_id: str) -> dict[str, str]:
    rows = connection.execute(
        select(TaskRow.kind, TaskRow.status, TaskRow.outcome).where(TaskRow.call_id == call_id)
    )
    return {kind: f"{status}:{outcome or ''}" for kind, status, outcome in rows}


def _snapshot(
    connection: Connection, item: ReviewItemRow, finding_state: str | None
) -> dict[str, Any]:
    return {
        "finding": finding_state,
        "valid_sale": item.final_valid_sale if item.final else item.engine_valid_sale,
        "item_status": item.status,
        "tasks": _tasks(connection, item.call_id),
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
    with Session(engine) as session, session.begin():
        outcome = _review(session, ruleset, settings, user.name, call_id, finding_id, action,
                          note, now)  # fmt: skip
    _rebuild_day(engine, call_id)
    return outcome


def _review(
    session: Session,
    ruleset: Ruleset,
    settings: ReviewSettings,
    actor: str,
    call_id: str,
    finding_id: int,
    action: str,
    note: str,
    now: datetime,
) -> ActionResult:
    connection = session.connection()
    item = _item(session, call_id)
    finding = _finding(session, item, finding_id)
    states = finding_states(session, item.verdict_id)
    previous = states.get(finding_id)
    before = _snapshot(connection, item, previous.action if previous else None)
    review = ReviewRow(
        verdict_id=item.verdict_id, finding_code=finding.code, finding_id=finding_id,
        action=action, reviewer=actor, note=note or None, created_at=now,
    )  # fmt: skip
    session.add(review)
    session.flush()
    states[finding_id] = review
    verdict = session.get(VerdictRow, item.verdict_id)
    assert verdict is not None  # the item's foreign key
    findings = session.scalars(select(FindingRow).where(FindingRow.verdict_id == verdict.id))
    by_id = {f.id: f for f in findings}
    overturned = [by_id[i].code for i, r in states.items() if r.action == "overturn"]
    result = from_row(verdict.result)
    final = final_verdict(result, overturned)
    item.final = final.as_dict()
    item.final_valid_sale = final.valid_sale
    flagged = [f.id for f in by_id.values() if flagged_codes([(f.kind, f.code)], settings)]
    if all(i in states for i in flagged) and item.status == "pending":
        item.status, item.reviewed_at = "reviewed", now
    _follow_tasks(connection, result, final, ruleset, now)
    session.flush()
    after = _snapshot(connection, item, action)
    target = f"finding {finding_id} {finding.code}"
    record(connection, actor, action, call_id, target, before, after, now)
    return ActionResult(call_id, before, after)


def _follow_tasks(
    connection: Connection,
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
    by_review = TaskRow.outcome.in_([CLOSED_BY_REVIEW, INVALID_IN_REVIEW])
    tasks = TaskRow.call_id == call_id
    if final.valid_sale:
        closing, reopening = TaskRow.kind == "revisit", TaskRow.kind != "revisit"
        outcome = CLOSED_BY_REVIEW
    else:
        closing, reopening = TaskRow.kind != "revisit", TaskRow.kind == "revisit"
        outcome = INVALID_IN_REVIEW
    connection.execute(
        update(TaskRow)
        .where(tasks, closing, TaskRow.status == "open")
        .values(status="closed", outcome=outcome, closed_at=now, note="review")
    )
    connection.execute(
        update(TaskRow)
        .where(tasks, reopening, TaskRow.status == "closed", by_review)
        .values(status="open", outcome=None, closed_at=None, note=None)
    )
    if "do_not_call" in result.review_flags:
        return
    verdict = dataclasses.replace(
        result.verdict, valid_sale=final.valid_sale, revisit_required=final.revisit_required
    )
    reviewed = dataclasses.replace(result, verdict=verdict, revisit_of=None)
    campaign = ruleset.campaigns.get(result.campaign or "")
    insert_tasks(connection, reviewed, plan_tasks(reviewed, campaign, ruleset.tasks, now))


def _rebuild_day(engine: Engine, call_id: str) -> None:
    with engine.connect() as connection:
        day = connection.scalar(select(CallRow.local_date).where(CallRow.call_id == call_id))
    if day:
        rebuild(engine, {day})


def raise_dispute(
    engine: Engine, user: User, call_id: str, finding_id: int, reason: str, now: datetime
) -> int:
    """A supervisor disputes a confirmed finding; returns the dispute's id."""
    if user.role not in ("supervisor", "admin"):
        raise ReviewError(f"{user.role} may not dispute findings")
    if not reason.strip():
        raise ReviewError("a dispute needs a reason")
    with Session(engine) as session, session.begin():
        item = _item(session, call_id)
        _finding(session, item, finding_id)
        state = finding_states(session, item.verdict_id).get(finding_id)
        if state is None or state.action != "confirm":
            raise ReviewError(f"finding {finding_id} is not confirmed; only confirmed findings "
                              "can be disputed")  # fmt: skip
        open_one = session.scalar(
            select(DisputeRow).where(
                DisputeRow.finding_id == finding_id, DisputeRow.status == "open"
            )
        )
        if open_one is not None:
            raise ReviewError(f"finding {finding_id} already has an open dispute")
        dispute = DisputeRow(
            finding_id=finding_id, call_id=call_id, raised_by=user.name, reason=reason,
            raised_at=now, status="open",
        )  # fmt: skip
        session.add(dispute)
        session.flush()
        after = {"dispute": dispute.id, "status": "open", "reason": reason}
        record(session.connection(), user.name, "dispute", call_id, f"finding {finding_id}",
               {"finding": "confirm"}, after, now)  # fmt: skip
        return dispute.id


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
    with Session(engine) as session, session.begin():
        dispute = session.get(DisputeRow, dispute_id, with_for_update=True)
        if dispute is None or dispute.status != "open":
            raise ReviewError(f"dispute {dispute_id} is not open")
        if decision == "upheld":
            why = f"dispute {dispute_id} upheld: {note}".strip()
            outcome = _review(session, ruleset, settings, user.name, dispute.call_id,
                              dispute.finding_id, "overturn", why, now)  # fmt: skip
        before = {"dispute": dispute_id, "status": "open"}
        dispute.status, dispute.decided_by, dispute.decided_at = decision, user.name, now
        dispute.decision_note = note or None
        after = {"dispute": dispute_id, "status": decision, "note": note}
        record(session.connection(), user.name, "dispute_decide", dispute.call_id,
               f"finding {dispute.finding_id}", before, after, now)  # fmt: skip
        call_id = dispute.call_id
        if decision == "rejected":
            outcome = ActionResult(call_id, before, after)
    _rebuild_day(engine, call_id)
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
    with Session(engine) as session, session.begin():
        item = _item(session, call_id)
        if item.source != "calibration" or item.status != "pending":
            raise ReviewError(f"call {call_id} is not a pending calibration call")
        verdict = session.get(VerdictRow, item.verdict_id)
        assert verdict is not None
        judged = from_row(verdict.result).verdict
        for criterion in criteria:
            node = judged.criteria.get(criterion) if judged else None
            engine_passed = node.passed if node is not None else None
            session.add(
                CalibrationJudgmentRow(
                    item_id=item.id,
                    criterion=criterion,
                    reviewer_passed=passed[criterion],
                    engine_passed=engine_passed,
                    reviewer=user.name,
                    created_at=now,
                )
            )
        item.status, item.reviewed_at = "reviewed", now
        after = {"judged": dict(passed), "note": note}
        record(session.connection(), user.name, "calibration", call_id, None,
               {"item_status": "pending"}, after, now)  # fmt: skip
    return ActionResult(call_id, {"item_status": "pending"}, after)
