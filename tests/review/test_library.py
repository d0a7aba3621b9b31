"""Workbench logic without HTTP, on SQLite and PostgreSQL: queue, SLA, calibration, review
actions (final verdict, tasks, scorecards, audit), disputes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qa_pipeline.errors import ReviewError
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.review import actions
from qa_pipeline.review.auth import User, authenticate
from qa_pipeline.review.calibration import agreement, drawn, share_for
from qa_pipeline.review.queue import QueueFilter, build_queue, sync_queue
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.review.sla import escalate_overdue, sla_minutes
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.audit import entries
from qa_pipeline.storage.review import finding_states
from qa_pipeline.storage.tables import (
    FindingRow,
    ReviewItemRow,
    ScorecardRow,
    TaskRow,
    UserRow,
    VerdictRow,
)
from tests.conftest import ROOT
from tests.review.conftest import PASSWORD

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
LEAD = User(1, "lead", "qa_lead", None)
SUP2 = User(3, "sup2", "supervisor", "T2")
RULES = load_rules(ROOT / "rules")
CRITERIA = list(RULES.criteria.criteria)
NO_DRAWS = ReviewSettings(calibration_share=0.0, calibration_share_recent_failures=0.0).with_rules(
    RULES.criteria
)


def _finding(engine: Engine, call_id: str, code: str) -> int:
    with Session(engine) as session:
        return (
            session.scalars(
                select(FindingRow.id)
                .join(VerdictRow, VerdictRow.id == FindingRow.verdict_id)
                .where(VerdictRow.call_id == call_id, FindingRow.code == code)
            ).first()
            or -1
        )


def _tasks(engine: Engine, call_id: str) -> dict[str, tuple[str, str | None]]:
    with Session(engine) as session:
        rows = session.scalars(select(TaskRow).where(TaskRow.call_id == call_id))
        return {t.kind: (t.status, t.outcome) for t in rows}


def _queue(engine: Engine, **wanted: object) -> list[str]:
    found = build_queue(engine, None, QueueFilter(**wanted), NO_DRAWS, NOW)  # type: ignore[arg-type]
    return [e.call_id for e in found]


def test_queue_holds_flagged_calls_by_severity_then_age(seeded: tuple[str, Engine]) -> None:
    _, engine = seeded
    assert sync_queue(engine, NO_DRAWS, NOW) == 7
    assert sync_queue(engine, NO_DRAWS, NOW) == 0  # idempotent
    entries_ = build_queue(engine, None, QueueFilter(), NO_DRAWS, NOW)
    # the valid sales (zh-s-001, zh-s-002, en-s-001) are not flagged, nor is zh-s-006: the
    # neighbour answered and no product was pitched, so no sale criterion applies
    assert {e.call_id for e in entries_} == {
        "en-s-002", "en-s-003", "en-s-004", "zh-s-003", "zh-s-004", "zh-s-005", "zh-x-001",
    }  # fmt: skip
    severities = [e.severity for e in entries_]
    assert severities == sorted(severities, reverse=True)
    high = [e for e in entries_ if e.severity == 3]
    starts = [datetime.fromisoformat(e.started_local) for e in high]
    assert starts == sorted(starts)  # oldest first within a severity
    # medium after the highs: only a disclosure (zh-s-003); a dismissive phrase and a hang-up
    # on a declined call (en-s-003), whose sale criteria do not apply
    assert {e.call_id for e in entries_[-2:]} == {"zh-s-003", "en-s-003"}
    assert {e.severity_name for e in entries_[-2:]} == {"medium"}


def test_queue_filters_and_team_scope(seeded: tuple[str, Engine]) -> None:
    _, engine = seeded
    sync_queue(engine, NO_DRAWS, NOW)
    assert set(_queue(engine, team="T2")) == {"zh-s-003", "zh-s-004"}
    assert _queue(engine, agent="S105") == ["zh-s-005"]
    assert set(_queue(engine, campaign="stormwatch")) == {"en-s-004"}
    assert set(_queue(engine, criterion="disclosures.trial_end")) == {"en-s-002", "zh-s-003"}
    assert "zh-s-003" not in _queue(engine, criterion="forbidden")
    assert set(_queue(engine, severity=2)) == {"zh-s-003", "en-s-003"}
    assert _queue(engine, date_from="2026-11-17", date_to="2026-11-19") == ["zh-s-005"]
    scoped = build_queue(engine, "T1", QueueFilter(team="T2"), NO_DRAWS, NOW)
    assert scoped == []  # a supervisor's scope wins over any filter
    mine = build_queue(engine, "T1", QueueFilter(), NO_DRAWS, NOW)
    assert {e.team for e in mine} == {"T1"}


def test_sla_escalates_dissatisfaction_flags_after_30_minutes(seeded: tuple[str, Engine]) -> None:
    _, engine = seeded
    settings = NO_DRAWS
    assert sla_minutes(["forbidden.arguing"], settings) == 30
    assert sla_minutes(["agent_hung_up_first"], settings) == 30
    assert sla_minutes(["disclosures.fees"], settings) == 240
    sync_queue(engine, settings, NOW)
    assert escalate_overdue(engine, NOW + timedelta(minutes=29)) == []
    late = escalate_overdue(engine, NOW + timedelta(minutes=31))
    assert set(late) == {"en-s-002", "en-s-003", "en-s-004", "zh-s-004", "zh-x-001"}
    assert escalate_overdue(engine, NOW + timedelta(minutes=32)) == []  # once
    overdue = build_queue(engine, None, QueueFilter(), settings, NOW + timedelta(minutes=31))
    flags = {e.call_id: (e.overdue, e.escalated) for e in overdue}
    assert flags["zh-s-004"] == (True, True)
    assert flags["zh-s-003"] == (False, False)  # a disclosure waits up to 4 hours
    logged = [e for e in entries(engine) if e.action == "escalate"]
    assert {e.call_id for e in logged} == set(late) and all(e.actor == "system" for e in logged)
    later = escalate_overdue(engine, NOW + timedelta(hours=5))
    assert set(later) == {"zh-s-003", "zh-s-005"}


def test_calibration_draws_passed_calls_blind(seeded: tuple[str, Engine]) -> None:
    _, engine = seeded
    everything = ReviewSettings(calibration_share=1.0, calibration_share_recent_failures=1.0)
    sync_queue(engine, everything, NOW)
    blind = build_queue(engine, None, QueueFilter(), everything, NOW)
    drawn_ids = {e.call_id for e in blind if e.blind}
    assert drawn_ids == {"zh-s-001", "zh-s-002", "en-s-001"}
    assert all(e.codes == () and e.severity_name == "blind" for e in blind if e.blind)
    # the draw is stable, and the share rises after recent failures
    assert drawn("c1", 0.5, "s") == drawn("c1", 0.5, "s")
    share = sum(drawn(f"call-{i}", 0.2, "seed") for i in range(2000)) / 2000
    assert 0.17 < share < 0.23
    settings = ReviewSettings()
    assert share_for("2026-11-10", ["2026-11-05"], settings) == 0.20
    assert share_for("2026-11-10", ["2026-11-01"], settings) == 0.05  # older than 7 days
    assert share_for("2026-11-10", ["2026-11-10"], settings) == 0.05  # not before this call


def test_overturn_makes_the_sale_valid_and_tasks_and_scorecards_follow(
    seeded: tuple[str, Engine], ruleset: Ruleset
) -> None:
    _, engine = seeded
    sync_queue(engine, NO_DRAWS, NOW)
    assert _tasks(engine, "zh-s-003") == {"revisit": ("open", None)}
    finding = _finding(engine, "zh-s-003", "disclosures.trial_end")
    done = actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-003", finding,
                                  "overturn", "the date was right: 12月10号", NOW)  # fmt: skip
    assert done.before["valid_sale"] is False and done.after["valid_sale"] is True
    assert done.before["tasks"] == {"revisit": "open:"}
    tasks = _tasks(engine, "zh-s-003")
    assert tasks["revisit"] == ("closed", actions.CLOSED_BY_REVIEW)
    assert tasks["confirm_1"] == ("open", None) and tasks["confirm_2"] == ("open", None)
    with Session(engine) as session:
        item = session.scalar(select(ReviewItemRow).where(ReviewItemRow.call_id == "zh-s-003"))
        assert item is not None and item.status == "reviewed" and item.final_valid_sale is True
        card = session.scalar(
            select(ScorecardRow).where(
                ScorecardRow.level == "agent", ScorecardRow.key == "S103",
                ScorecardRow.period == "day", ScorecardRow.period_start == "2026-11-10",
            )
        )  # fmt: skip
        assert card is not None and card.metrics["valid_sales"] == 1
    log = entries(engine, "zh-s-003")
    assert log[0].actor == "lead" and log[0].action == "overturn"
    assert log[0].before == done.before and log[0].after == done.after
    # confirming it after all makes it invalid again: the revisit reopens
    again = actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-003", finding,
                                   "confirm", "no: said 12月20号", NOW)  # fmt: skip
    assert again.after["valid_sale"] is False
    tasks = _tasks(engine, "zh-s-003")
    assert tasks["revisit"] == ("open", None)
    assert tasks["confirm_1"] == ("closed", actions.INVALID_IN_REVIEW)


def test_confirm_keeps_the_verdict_and_partial_review_stays_pending(
    seeded: tuple[str, Engine], ruleset: Ruleset
) -> None:
    _, engine = seeded
    sync_queue(engine, NO_DRAWS, NOW)
    finding = _finding(engine, "zh-s-004", "explicit_consent")
    done = actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-004", finding,
                                  "confirm", "", NOW)  # fmt: skip
    assert done.after["valid_sale"] is False
    assert done.after["item_status"] == "pending"  # three more findings wait
    assert _tasks(engine, "zh-s-004")["revisit"] == ("open", None)
    with pytest.raises(ReviewError, match="not a finding of call"):
        other = _finding(engine, "zh-s-003", "disclosures.trial_end")
        actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-004", other, "confirm",
                               "", NOW)  # fmt: skip
    with pytest.raises(ReviewError, match="may not review"):
        actions.review_finding(engine, ruleset, NO_DRAWS, SUP2, "zh-s-004", finding, "overturn",
                               "", NOW)  # fmt: skip
    with pytest.raises(ReviewError, match="not one of"):
        actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-004", finding, "delete",
                               "", NOW)  # fmt: skip


def test_dispute_upheld_overturns_and_rejected_keeps(
    seeded: tuple[str, Engine], ruleset: Ruleset
) -> None:
    _, engine = seeded
    sync_queue(engine, NO_DRAWS, NOW)
    consent = _finding(engine, "zh-s-004", "explicit_consent")
    arguing = _finding(engine, "zh-s-004", "forbidden.arguing")
    with pytest.raises(ReviewError, match="not confirmed"):
        actions.raise_dispute(engine, SUP2, "zh-s-004", consent, "the customer agreed", NOW)
    for finding in (consent, arguing):
        actions.review_finding(engine, ruleset, NO_DRAWS, LEAD, "zh-s-004", finding, "confirm",
                               "", NOW)  # fmt: skip
    first = actions.raise_dispute(engine, SUP2, "zh-s-004", consent, "嗯 meant yes", NOW)
    with pytest.raises(ReviewError, match="already has an open dispute"):
        actions.raise_dispute(engine, SUP2, "zh-s-004", consent, "again", NOW)
    second = actions.raise_dispute(engine, SUP2, "zh-s-004", arguing, "tone was fine", NOW)
    with pytest.raises(ReviewError, match="may not decide"):
        actions.decide_dispute(engine, ruleset, NO_DRAWS, SUP2, first, "upheld", "", NOW)
    actions.decide_dispute(engine, ruleset, NO_DRAWS, LEAD, second, "upheld", "ok", NOW)
    actions.decide_dispute(engine, ruleset, NO_DRAWS, LEAD, first, "rejected", "嗯 is not a yes",
                           NOW)  # fmt: skip
    with Session(engine) as session:
        verdict_id = session.get(FindingRow, consent).verdict_id  # type: ignore[union-attr]
        item = session.scalar(select(ReviewItemRow).where(ReviewItemRow.call_id == "zh-s-004"))
    states = finding_states(engine, verdict_id)
    assert states[consent].action == "confirm"
    assert states[arguing].action == "overturn" and "upheld" in (states[arguing].note or "")
    assert item is not None and item.final is not None and item.final["forbidden"] == {}
    kinds = [e.action for e in entries(engine, "zh-s-004")]
    assert kinds.count("dispute") == 2 and kinds.count("dispute_decide") == 2
    with pytest.raises(ReviewError, match="not open"):
        actions.decide_dispute(engine, ruleset, NO_DRAWS, LEAD, first, "upheld", "", NOW)


def _stored_before_scopes(engine: Engine, call_id: str, code: str) -> int:
    """A criterion finding on `call_id`'s verdict as stored before criteria had a scope."""
    with Session(engine) as session:
        verdict_id = session.scalar(select(VerdictRow.id).where(VerdictRow.call_id == call_id))
        row = FindingRow(verdict_id=verdict_id, kind="criterion", code=code, reason="",
                         evidence=[])  # fmt: skip
        session.add(row)
        session.commit()
        return row.id


def test_agreement_per_rule(seeded: tuple[str, Engine], ruleset: Ruleset) -> None:
    _, engine = seeded
    everything = ReviewSettings(calibration_share=1.0, calibration_share_recent_failures=1.0)
    # zh-s-006 is no sale: it has no consent finding any more, only an old one can (queued)
    assert _finding(engine, "zh-s-006", "explicit_consent") == -1
    consent = {
        "zh-s-004": _finding(engine, "zh-s-004", "explicit_consent"),
        "en-s-004": _finding(engine, "en-s-004", "explicit_consent"),
        "zh-s-006": _stored_before_scopes(engine, "zh-s-006", "explicit_consent"),
    }
    sync_queue(engine, everything, NOW)
    for call_id, action in (("zh-s-004", "confirm"), ("en-s-004", "overturn"),
                            ("zh-s-006", "overturn")):  # fmt: skip
        actions.review_finding(engine, ruleset, everything, LEAD, call_id, consent[call_id],
                               action, "", NOW)  # fmt: skip
    judged = {"account_holder_verified": True, "caller_competent": True,
              "disclosures": False, "explicit_consent": True}  # fmt: skip
    actions.judge_blind(engine, LEAD, "zh-s-001", judged, "", NOW, CRITERIA)
    with pytest.raises(ReviewError, match="not a pending calibration call"):
        actions.judge_blind(engine, LEAD, "zh-s-001", judged, "", NOW, CRITERIA)
    with pytest.raises(ReviewError, match="missing"):
        actions.judge_blind(engine, LEAD, "zh-s-002", {"disclosures": True}, "", NOW, CRITERIA)
    # the overturned finding on a call that was no sale dragged the rule's precision
    assert {a.rule: a for a in agreement(engine)}["explicit_consent"].precision == 0.333
    sale_only = [n for n, c in ruleset.criteria.criteria.items() if c.scope == "sale"]
    rules = {a.rule: a for a in agreement(engine, sale_only)}
    assert rules["explicit_consent"].precision == 0.5
    assert rules["explicit_consent"].blind_agreement == 1.0
    assert rules["disclosures"].blind_agreement == 0.0  # the reviewer saw a failure
    assert rules["disclosures"].precision is None


def test_users_hash_passwords(seeded: tuple[str, Engine]) -> None:
    _, engine = seeded
    with Session(engine) as session:
        stored = session.scalar(select(UserRow.password_hash).where(UserRow.name == "lead"))
    assert stored is not None and stored.startswith("$argon2") and PASSWORD not in stored
    assert authenticate(engine, "lead", PASSWORD) is not None
    assert authenticate(engine, "lead", "wrong-password") is None
    assert authenticate(engine, "nobody", PASSWORD) is None
