"""Findings by scope (criteria.yaml `scope`): a declined or no-pitch call is still judged on every
criterion, but only what applies to every call is a finding; a clear yes on a call booked as no
sale is an outcome in doubt. Reasons as templates in every language, the consent reply and the
stretch searched for an absence as evidence."""

from __future__ import annotations

import dataclasses
import re

import pytest

from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.verdict.findings import findings_of
from qa_pipeline.verdict.model import CallResult, CallVerdict
from qa_pipeline.verdict.reasons import LANGUAGES, templates, word
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


def test_reason_text_is_complete_in_every_language(ruleset: Ruleset) -> None:
    """zh and en hold the same reason keys with the same parameters, and a name for every
    finding code the rules can produce."""
    english = templates("en")
    fields = {key: set(re.findall(r"{(\w+)}", text)) for key, text in english.items()}
    codes = set(ruleset.criteria.item_codes().values()) | set(ruleset.criteria.criteria)
    codes |= {f"forbidden.{c}" for c in CATEGORIES} | {"agent_hung_up_first"}
    codes |= {flag for flag in ReviewSettings().review_flags} | {"do_not_call"}
    for language in LANGUAGES:
        table = templates(language)
        assert set(table) == set(english), (language, set(table) ^ set(english))
        for key, text in table.items():
            assert set(re.findall(r"{(\w+)}", text)) == fields[key], (language, key)
        named = {code for code in codes if word(code, language) != code}
        assert named == codes, (language, codes - named)
    assert set(LANGUAGES) == {"en", "zh"}


def test_reasons_render_in_the_readers_language(engine: Judge) -> None:
    verdict = engine.judge(load_call(CALLS / "en-s-002.json"))
    fees = verdict.item("disclosures", "fees")
    assert fees.why is not None and fees.reason == fees.why.text("en")
    assert fees.reason.startswith("the agent never stated the price ($1.99/month); searched ")
    assert fees.why.text("zh").startswith("坐席始终没有说明资费（$1.99/month）；已检查")
    searched = [e for e in fees.evidence if e.source == "searched"]
    assert len(searched) == 1 and searched[0].end >= verdict.transcript[-1].end  # to the end
    assert verdict.outcome.why is not None and verdict.outcome.why.text("zh") == "坐席已为客户办理"


def test_the_customers_reply_to_the_consent_question_is_evidence(engine: Judge) -> None:
    """嗯 to "那给您开通了啊？" is shown with the question; with no yes at all, the question, the
    reply and the stretch searched from the price on."""
    weak = engine.judge(load_call(CALLS / "zh-s-004.json")).item("explicit_consent")
    assert [e.speaker for e in weak.evidence] == ["agent", "customer"]
    assert weak.evidence[1].text == "嗯。" and "开通" in weak.evidence[0].text
    call = load_call(CALLS / "zh-s-001.json")
    segments = list(call.segments)
    segments[13] = dataclasses.replace(segments[13], text="这个是哪家公司的？")
    never = engine.judge(dataclasses.replace(call, segments=tuple(segments)))
    consent = never.item("explicit_consent")
    assert consent.why is not None and consent.why.key == "consent.never"
    speakers = [(e.speaker, e.source) for e in consent.evidence]
    assert speakers == [("agent", "rule"), ("customer", "rule"), ("customer", "searched")]
    assert consent.evidence[1].text == "这个是哪家公司的？"
    assert "从坐席说明资费到通话结束" in consent.why.text("zh")
