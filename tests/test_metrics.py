"""Evaluation: failed or missing calls count as wrong; spans match by overlap and category."""

from __future__ import annotations

from typing import Any

from qa_pipeline.evaluation.labels import LabelSet
from qa_pipeline.evaluation.metrics import evaluate, spans_match
from qa_pipeline.judging.judge import load_rules
from tests.conftest import ROOT

LABELS = LabelSet(load_rules(ROOT / "rules").criteria).names

GOLD: dict[str, Any] = {name: False for name in LABELS} | {
    "outcome": "sale",
    "valid_sale": False,
    "revisit_required": True,
    "agent_hung_up_first": False,
    "forbidden": [{"category": "arguing", "text": "你爱办不办"}],
}


def test_missing_call_is_wrong_on_every_label() -> None:
    report = evaluate({"a": GOLD}, {}, failed=["a: broken"], labels=LABELS)
    assert report.missing == ["a"]
    assert all(score.correct == 0 and score.total == 1 for score in report.labels.values())
    assert report.span_fn == 1


def test_perfect_prediction() -> None:
    report = evaluate({"a": GOLD}, {"a": dict(GOLD)}, failed=[], labels=LABELS)
    assert report.min_accuracy == 1.0 and report.span_tp == 1 and not report.wrong


def test_violation_recall_counts_misses() -> None:
    pred = dict(GOLD, revisit_required=False)
    report = evaluate({"a": GOLD}, {"a": pred}, failed=[], labels=LABELS)
    assert report.labels["revisit_required"].recall == 0.0


def test_spans_match_by_overlap_and_category() -> None:
    gold = {"category": "threat", "text": "您不开的话，您这个号码下个月可能会被限制使用"}
    assert spans_match(gold, {"category": "threat", "text": "您这个号码下个月可能会被限制使用"})
    other = {"category": "arguing", "text": "您这个号码下个月可能会被限制使用"}
    assert not spans_match(gold, other)
    assert not spans_match(gold, {"category": "threat", "text": "祝您生活愉快"})
