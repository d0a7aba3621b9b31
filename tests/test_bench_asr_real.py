"""The ASR bench's label agreement: the eval's scorer with the clean verdicts as gold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench.asr_real import disagreement_lines, label_agreement, label_values
from qa_pipeline.evaluation.labels import LabelSet
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge, load_rules
from qa_pipeline.ruleset import Ruleset
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
    # --disagreements: the labels that differ, then the call, in the bench's words
    first, line = disagreement_lines(report)
    assert first.startswith("labels agreeing: ") and line.startswith(f"{deaf.call_id}: ")
    assert "clean" in line and "heard" in line and "expected" not in line


def test_rejudge_reads_what_the_bench_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`asr_rejudge.py` judges again the transcripts `--transcripts` wrote: the same segments
    (times to the hundredth), marked as heard, a line with no words kept."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from asr_rejudge import heard_call  # the bench's own folder, as when run as a script

    from bench.asr_real import _write_transcript

    call = load_call(ROOT / "tests" / "data" / "heldout" / "en-h-001.json")
    segments = (*call.segments[:3], dataclasses.replace(call.segments[3], text=""))
    heard = dataclasses.replace(call, segments=segments, heard_by="base")
    _write_transcript(tmp_path, "default", heard)
    again = heard_call(call, tmp_path, "default", "base")
    assert again is not None and again.heard_by == "base"
    assert [(s.speaker, s.text) for s in again.segments] == [(s.speaker, s.text) for s in segments]
    assert [s.start for s in again.segments] == [round(s.start, 2) for s in segments]
    assert heard_call(call, tmp_path, "plain", "base") is None


def test_rejudge_scores_clean_and_heard_against_the_labels(
    monkeypatch: pytest.MonkeyPatch, ruleset: Ruleset
) -> None:
    """`--gold`: each side's share of labels equal to labels.jsonl, over the calls heard."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    from asr_rejudge import _against_gold

    labels = LabelSet(ruleset.criteria)
    folder = ROOT / "tests" / "data" / "heldout"
    gold = labels.load(folder / "labels.jsonl")["en-h-001"]
    wrong = {**gold, "outcome": "no_pitch" if gold["outcome"] != "no_pitch" else "sale"}
    line = _against_gold(labels, [folder], {"en-h-001": gold}, {"en-h-001": wrong})
    n = len(labels.names)
    assert (
        line
        == f"against labels.jsonl: clean 1.000 ({n}/{n}), heard {(n - 1) / n:.3f} ({n - 1}/{n})"
    )
