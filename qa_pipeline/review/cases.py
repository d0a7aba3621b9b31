"""Agent cases and yellow cards (from the hotline practice, docs/review.md "Agent cases").

A call flagged for customer dissatisfaction (`case_flags`), or a finding of a service-language
kind (`case_finding_kinds`: forbidden phrases, hang-up) that a QA lead confirms, opens a case
for the call's agent, who must explain within `case_explain_minutes`. A case still unexplained
then is escalated to the team's leader, marked overdue. The leader listens, decides (uphold: a
yellow card, counted in the agent's monthly scorecard and the ranking; dismiss: none) and may
schedule a callback (a revisit task). Every step is in the audit log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from qa_pipeline.callbacks.plan import PlannedTask
from qa_pipeline.errors import CaseError
from qa_pipeline.review.auth import User
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage import cases as stored
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.cases import AgentCase, CaseCall
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import latest_judged, verdict_result
from qa_pipeline.storage.tasks import add_tasks, tasks_of, utc
from qa_pipeline.storage.transaction import Transaction, transaction
from qa_pipeline.tasks.lists import do_not_call_list

DECISIONS = ("uphold", "dismiss")
LEADERS = ("qa_lead", "supervisor", "admin")  # a supervisor: of the case's team only


@dataclass(frozen=True)
class CaseRow:
    """A case as the pages show it at `now`."""

    case: AgentCase
    overdue: bool  # unexplained past its deadline (escalated, or about to be)
    minutes_left: int  # to the deadline; negative once past

    @property
    def awaiting(self) -> str:
        """Who acts next: the agent (explain), the leader (decide), or nobody (decided)."""
        if self.case.status in ("upheld", "dismissed"):
            return "nobody"
        return "agent" if self.case.status == "open" and not self.overdue else "leader"


def _late(case: AgentCase, now: datetime) -> bool:
    return case.status == "open" and utc(now) > case.due_at


def row(case: AgentCase, now: datetime) -> CaseRow:
    left = int((case.due_at - utc(now)).total_seconds() // 60)
    return CaseRow(case, case.escalated_at is not None or _late(case, now), left)


def _open(
    tx: Transaction,
    settings: ReviewSettings,
    call: CaseCall,
    codes: list[str],
    actor: str,
    now: datetime,
) -> AgentCase:
    due = now + timedelta(minutes=settings.case_explain_minutes)
    case, added = stored.open_case(tx, call, codes, now, due)
    if added:
        after = {"case": case.id, "agent": call.agent_id, "codes": codes,
                 "due_at": utc(due).isoformat()}  # fmt: skip
        record(tx, actor, "case_open", call.call_id, f"case {case.id}", None, after, now)
    return case


def open_flagged(engine: Engine, settings: ReviewSettings, now: datetime) -> list[str]:
    """A case for every call whose newest verdict raised a `case_flags` flag and that has none
    yet; returns their call ids."""
    opened: dict[CaseCall, list[str]] = {}  # a call's rows are alike: one key per call
    with transaction(engine) as tx:
        for call, code in stored.flagged_without_case(tx, settings.case_flags):
            opened.setdefault(call, []).append(code)
        for call, codes in opened.items():
            _open(tx, settings, call, codes, "system", now)
    return [call.call_id for call in opened]


def on_confirmed(
    tx: Transaction,
    settings: ReviewSettings,
    call_id: str,
    kind: str,
    code: str,
    actor: str,
    now: datetime,
) -> AgentCase | None:
    """Inside a review's transaction: a confirmed finding of a `case_finding_kinds` kind opens
    the call's case (or joins its undecided one)."""
    if kind not in settings.case_finding_kinds:
        return None
    call = stored.case_call(tx, call_id)
    return _open(tx, settings, call, [code], actor, now) if call is not None else None


def escalate_late(engine: Engine, now: datetime) -> list[str]:
    """Mark every open case unexplained past its deadline overdue (once), with an audit entry
    (the leader's home page and queue show it); returns their call ids."""
    escalated = []
    with transaction(engine) as tx:
        for case in stored.unexplained_open(tx):
            if _late(case, now):
                stored.update_case(tx, dataclasses.replace(case, escalated_at=now))
                after = {"case": case.id, "agent": case.agent_id, "overdue": True,
                         "due_at": case.due_at.isoformat()}  # fmt: skip
                record(tx, "system", "case_overdue", case.call_id, f"case {case.id}", None,
                       after, now)  # fmt: skip
                escalated.append(case.call_id)
    return escalated


def _locked(tx: Transaction, case_id: int) -> AgentCase:
    case = stored.case(tx, case_id)
    if case is None:
        raise CaseError(f"no case {case_id}")
    return case


def explain(engine: Engine, user: User, case_id: int, text: str, now: datetime) -> AgentCase:
    """The case's agent explains (once). After the deadline it is still taken, for the leader
    to read, but the case stays marked overdue."""
    text = text.strip()
    if not text:
        raise CaseError("an explanation needs some text (what happened on the call)")
    with transaction(engine) as tx:
        case = _locked(tx, case_id)
        if user.role != "agent" or user.agent_id != case.agent_id:
            raise CaseError(f"only the call's agent ({case.agent_id}) explains case {case_id}")
        if case.status != "open":
            raise CaseError(f"case {case_id} is {case.status}; only an open case is explained")
        late = _late(case, now)
        changed = dataclasses.replace(
            case, status="explained", explanation=text, explained_by=user.name,
            explained_at=now, escalated_at=case.escalated_at or (now if late else None),
        )  # fmt: skip
        stored.update_case(tx, changed)
        after = {"case": case_id, "status": "explained", "late": late, "explanation": text}
        record(tx, user.name, "case_explain", case.call_id, f"case {case_id}",
               {"status": case.status}, after, now)  # fmt: skip
    return changed


def may_decide(user: User, case: AgentCase) -> bool:
    """A QA lead or admin, or the supervisor of the case's team."""
    if user.role == "supervisor":
        return user.team == case.team
    return user.role in LEADERS


def decide(
    engine: Engine,
    ruleset: Ruleset,
    user: User,
    case_id: int,
    decision: str,
    note: str,
    callback: bool,
    now: datetime,
) -> AgentCase:
    """The leader upholds (a yellow card) or dismisses (none) a case that was explained or is
    overdue, optionally scheduling a callback to the customer (an urgent revisit task)."""
    if decision not in DECISIONS:
        raise CaseError(f"decision {decision!r} is not one of {list(DECISIONS)}")
    seen = stored.case(engine, case_id)
    verdict_id = latest_judged(engine, seen.call_id) if seen is not None else None
    with transaction(engine) as tx:
        case = _locked(tx, case_id)
        if not may_decide(user, case):
            raise CaseError(f"{user.role} {user.name} may not decide case {case_id} (team "
                            f"{case.team}: its supervisor, a QA lead or an admin)")  # fmt: skip
        if case.status not in ("open", "explained"):
            raise CaseError(f"case {case_id} is already decided ({case.status})")
        if case.status == "open" and not _late(case, now):
            raise CaseError(f"case {case_id} waits for the agent's explanation until "
                            f"{case.due_at.isoformat()}")  # fmt: skip
        task_id = _callback(tx, ruleset, case, verdict_id, now) if callback else None
        upheld = decision == "uphold"
        changed = dataclasses.replace(
            case, status="upheld" if upheld else "dismissed", decided_by=user.name,
            decided_at=now, decision_note=note.strip() or None, yellow_card=upheld,
            callback_task_id=task_id, escalated_at=case.escalated_at or (
                now if _late(case, now) else None),
        )  # fmt: skip
        stored.update_case(tx, changed)
        before = {"case": case_id, "status": case.status, "overdue": _late(case, now)}
        after = {"case": case_id, "status": changed.status, "decision": decision,
                 "yellow_card": upheld, "callback_task": task_id, "note": note}  # fmt: skip
        record(tx, user.name, "case_decide", case.call_id, f"case {case_id}", before, after, now)
    rebuild(engine, {case.local_date})  # the card counts in the agent's scorecards at once
    return changed


def _callback(
    tx: Transaction, ruleset: Ruleset, case: AgentCase, verdict_id: int | None, now: datetime
) -> int:
    """An urgent revisit of the call's customer (the tasks layer's own kind); the call's open
    revisit, if it has one already (an invalid sale), is that callback. Never to a do-not-call
    number; a call whose revisit is closed already gets no second one (one per call)."""
    result = verdict_result(tx, verdict_id) if verdict_id else None
    if result is None:
        raise CaseError(f"call {case.call_id} has no judged verdict to call the customer back on")
    if "do_not_call" in result.review_flags or result.customer_number in do_not_call_list():
        raise CaseError(f"call {case.call_id}: the customer's number is on the do-not-call "
                        "list; no callback")  # fmt: skip
    due = now + timedelta(hours=ruleset.tasks.revisit.due_hours)
    summary = f"service callback after agent case {case.id}: {', '.join(case.codes)}"
    planned = PlannedTask(case.call_id, "revisit", "urgent", case.codes, summary, due)
    add_tasks(tx, result, [planned])
    revisit = next(t for t in tasks_of(tx, case.call_id) if t.kind == "revisit")
    if revisit.status != "open":
        raise CaseError(f"call {case.call_id}: its revisit task {revisit.id} is closed "
                        f"({revisit.outcome}); one revisit per call, so decide without a "
                        "callback and call the customer from that task's outcome")  # fmt: skip
    return revisit.id


def cards_by_month(cases: list[AgentCase]) -> list[tuple[str, int]]:
    """Yellow cards per month (the call's month), newest first."""
    months: dict[str, int] = {}
    for case in cases:
        if case.yellow_card:
            months[case.local_date[:7]] = months.get(case.local_date[:7], 0) + 1
    return sorted(months.items(), reverse=True)


def case_rows(engine: Engine, user: User, now: datetime) -> list[CaseRow]:
    """The undecided cases a user acts on, overdue first, then by deadline: an agent's own
    (to explain, or waiting for the leader), a leader's that wait for a decision (explained,
    or overdue) within their scope."""
    rows = [r for r in all_rows(engine, user, now) if r.case.status in ("open", "explained")]
    if user.role != "agent":
        rows = [r for r in rows if r.awaiting == "leader"]
    return sorted(rows, key=lambda r: (not r.overdue, r.case.due_at))


def all_rows(engine: Engine, user: User, now: datetime) -> list[CaseRow]:
    """Every case within the user's scope, newest first."""
    return [row(c, now) for c in stored.cases_in_scope(engine, user.scope_team, user.scope_agent)]


def call_case(engine: Engine, call_id: str, now: datetime) -> CaseRow | None:
    """The call's case (the caller has checked the call is within the user's scope)."""
    case = stored.case_of_call(engine, call_id)
    return row(case, now) if case is not None else None
