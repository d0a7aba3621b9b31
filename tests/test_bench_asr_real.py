"""The ASR bench's label agreement: the eval's scorer with the clean verdicts as gold."""

from __future__ import annotations

import dataclasses

import pytest

from bench.asr_real import label_agreement, label_values
from qa_pipeline.evaluation.labels import LabelSet
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge, load_rules
from tests.conftest import ROOT


def test_label_agreement_counts_every_label_of_every_call() -> None:
    ruleset = load_rules(ROOT / "rules")
    judge, labels = Judge(ruleset), LabelSet(ruleset.criteria)
    calls = [load_call(ROOT / "tests" / "data" / "heldout" / f"en-h-00{n}.json") for n in (1, 2)]
    clean = {c.call_id: label_values(labels, c.call_id, judge.judge(c)) for c in calls}

    same, report = label_agreement(labels, clean, dict(clean))
    assert same == 1.0 and not report.wrong

    # the second call heard without its customer: what the customer says is lost
    deaf = dataclasses.replace(
        calls[1], segments=tuple(s for s in calls[1].segments if s.speaker == "agent")
    )
    heard = dict(clean) | {deaf.call_id: label_values(labels, deaf.call_id, judge.judge(deaf))}
    share, report = label_agreement(labels, clean, heard)
    differ = sum(s.total - s.correct for s in report.labels.values())
    assert differ > 0 and share == pytest.approx(1 - differ / (2 * len(labels.names)))
    assert list(report.wrong) == [deaf.call_id]
