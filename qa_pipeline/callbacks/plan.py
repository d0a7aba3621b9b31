"""Planning callbacks from a result (pure: no database here).

Every invalid sale gets a revisit (urgent when consent or the holder is in doubt); every valid
sale of a trial product gets two confirmations before charging. A number on the do-not-call
list gets none.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from qa_pipeline.ruleset.schema import CampaignFile, TasksFile
from qa_pipeline.verdict.findings import findings_of
from qa_pipeline.verdict.model import CallResult

REVISIT_OUTCOMES = ("confirmed", "cancelled", "unreachable")
CONFIRM_OUTCOMES = ("confirmed", "cancelled", "unreachable", "will_cancel_self")


@dataclass(frozen=True)
class PlannedTask:
    call_id: str
    kind: str  # revisit | confirm_1 | confirm_2 | confirm_extended
    priority: str  # urgent | normal
    reason_codes: tuple[str, ...]
    summary: str
    due_at: datetime
    trial_end: date | None = None


def _at_ten(day: date, like: datetime) -> datetime:
    """10:00 on `day` in the call's own time zone: callbacks go out in working hours."""
    return datetime.combine(day, time(10), tzinfo=like.tzinfo)


def plan_tasks(
    result: CallResult,
    campaign: CampaignFile | None,
    policy: TasksFile,
    now: datetime,
    do_not_call: Collection[str] = (),
) -> list[PlannedTask]:
    if not result.ok or result.customer_number in do_not_call:
        return []
    call_id = result.call_id
    if result.revisit_required:
        failed = [f for f in findings_of(result) if f.kind == "criterion"]
        codes = tuple(f.code for f in failed)
        urgent = any(code.startswith(u) for code in codes for u in policy.revisit.urgent_codes)
        summary = "; ".join(f"{f.code}: {f.reason}" for f in failed)
        due = now + timedelta(hours=policy.revisit.due_hours)
        return [
            PlannedTask(call_id, "revisit", "urgent" if urgent else "normal", codes, summary, due)
        ]
    if result.valid_sale and campaign is not None and campaign.trial_days and result.started_at:
        started = datetime.fromisoformat(result.started_at)
        trial_end = started.date() + timedelta(days=campaign.trial_days)
        rule = policy.confirmation
        first = _at_ten(started.date() + timedelta(days=rule.first_after_days), started)
        second = _at_ten(trial_end - timedelta(days=rule.second_before_end_days), started)
        summary = f"confirm the {campaign.product} trial before charging starts on {trial_end}"
        return [
            PlannedTask(
                call_id, "confirm_1", "normal", ("trial_confirmation",), summary, first, trial_end
            ),
            PlannedTask(
                call_id, "confirm_2", "normal", ("trial_confirmation",), summary, second, trial_end
            ),
        ]
    return []
