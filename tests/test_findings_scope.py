"""Findings by scope (criteria.yaml `scope`): a declined or no-pitch call is still judged on every
criterion, but only what applies to every call is a finding; a clear yes on a call booked as no
sale is an outcome in doubt."""

from __future__ import annotations

import dataclasses

import pytest

from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.verdict.findings import findings_of
from qa_pipeline.verdict.model import CallResult, CallVerdict
from tests.conftest import ROOT

CALLS = ROOT / "samples" / "calls"


def _result(call_id: str, verdict: CallVerdict) -> CallResult:
    return CallResult(call_id, "ok", None, "", "test", verdict=verdict)


def _codes(call_id: str, verdict: CallVerdict) -> list[str]:
    return [f.code for f in findings_of(_result(call_id, verdict))]


def test_the_bundled_criteria_are_scoped_to_sales(ruleset: Ruleset) -> None:
    assert {c.scope for c in ruleset.criteria.criteria.values()} == {"sale"}
    assert ruleset.criteria.outcome.in_doubt_when == ["explicit_consent"]


def test_no_pitch_call_keeps_its_criteria_but_has_no_criterion_finding(engine: Judge) -> None:
    verdict = engine.judge(load_call(CALLS / "zh-s-006.json"))  # the neighbour answered
    assert verdict.outcome.value == "no_pitch"
    # judged as before (labels grade every call), and marked as deciding sales only
    assert verdict.criteria["explicit_consent"].passed is False
    assert all(node.scope == "sale" for node in verdict.criteria.values())
    assert not verdict.applies("explicit_consent") and not verdict.applies("disclosures.fees")
    assert _codes("zh-s-006", verdict) == []


def test_declined_call_keeps_what_applies_to_every_call(engine: Judge) -> None:
    verdict = engine.judge(load_call(CALLS / "en-s-003.json"))
    assert verdict.outcome.value == "declined"
    assert _codes("en-s-003", verdict) == ["forbidden.dismissive", "agent_hung_up_first"]
    # a flag about a sale item does not apply either; one about the call does
    flagged = dataclasses.replace(
        verdict, review_flags=("model_unsure.explicit_consent", "low_role_confidence")
    )
    assert _codes("en-s-003", flagged)[-1:] == ["low_role_confidence"]


def test_every_call_scope_keeps_a_criterion_on_a_declined_call(engine: Judge) -> None:
    verdict = engine.judge(load_call(CALLS / "en-s-003.json"))
    node = verdict.criteria["explicit_consent"]
    assert node.passed is False
    wide = dataclasses.replace(
        verdict, criteria={**verdict.criteria, "explicit_consent": dataclasses.replace(
            node, scope="every_call")},
    )  # fmt: skip
    assert "explicit_consent" in _codes("en-s-003", wide)


def test_a_sale_keeps_its_criterion_findings(engine: Judge) -> None:
    verdict = engine.judge(load_call(CALLS / "zh-s-004.json"))
    assert {"account_holder_verified.permission", "explicit_consent"} <= set(
        _codes("zh-s-004", verdict)
    )


@pytest.mark.parametrize("booked", [True, False])
def test_a_yes_without_a_booking_is_an_outcome_in_doubt(engine: Judge, booked: bool) -> None:
    call = load_call(CALLS / "zh-s-001.json")  # a clear 同意，你给我开通吧
    if not booked:  # the agent asks, hears yes, and never says the service is opened
        segments = list(call.segments)
        segments[12] = dataclasses.replace(
            segments[12], text="没错。那请问您同意开通12121天气预报吗？"
        )
        segments[14] = dataclasses.replace(
            segments[14], text="好的，谢谢您。还有什么需要帮您的吗？"
        )
        call = dataclasses.replace(call, segments=tuple(segments))
    verdict = engine.judge(call)
    assert verdict.criteria["explicit_consent"].passed is True
    assert (verdict.outcome.value == "sale") is booked
    assert ("outcome_in_doubt" in verdict.review_flags) is not booked
    assert ("outcome_in_doubt" in _codes("zh-s-001", verdict)) is not booked
