"""The noise generator is deterministic and label-preserving, and the engine holds its verdicts
on noisy variants (a robustness regression test; `qa-pipeline eval --noisy` prints the same)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa_pipeline.batch.run import run_batch
from qa_pipeline.evaluation.labels import LabelSet
from qa_pipeline.evaluation.metrics import evaluate, format_report
from qa_pipeline.evaluation.noise import NOISE_RECOGNIZER, make_noisy, write_noisy_batch
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.verdict.serialize import read_results
from tests.conftest import ROOT, SHARED_DEV_CALLS

SAMPLES = ROOT / "samples" / "calls"


def test_same_seed_same_variant() -> None:
    call = json.loads((SAMPLES / "zh-s-001.json").read_text(encoding="utf-8"))
    assert make_noisy(call, 3) == make_noisy(call, 3)
    assert make_noisy(call, 3) != make_noisy(call, 4)


def test_noisy_variant_is_a_valid_call_file(tmp_path: Path) -> None:
    from qa_pipeline.ingest.call_file import load_call

    folder = write_noisy_batch(SAMPLES, tmp_path / "noisy", seed=1)
    for path in folder.glob("*.json"):
        call = load_call(path)
        assert {s.speaker for s in call.segments} <= {"SPEAKER_00", "SPEAKER_01"}
        assert call.duration_s >= call.segments[-1].end
        assert call.heard_by == NOISE_RECOGNIZER  # read as a recognizer's words are
    assert (folder / "labels.jsonl").is_file()


def _noisy_score(
    folder: Path, tmp_path: Path, ruleset: Ruleset, seeds: range
) -> tuple[float, float, str]:
    gold_all, pred_all, failed_all = {}, {}, []
    labels = LabelSet(ruleset.criteria)
    gold = labels.load(folder / "labels.jsonl")
    for seed in seeds:
        batch = write_noisy_batch(folder, tmp_path / f"n{seed}", seed)
        results = list(read_results(run_batch(batch, tmp_path / f"o{seed}", ruleset).results_path))
        gold_all.update({f"{k}~{seed}": v for k, v in gold.items()})
        pred_all.update({f"{r.call_id}~{seed}": labels.predicted(r) for r in results if r.ok})
        failed_all += [r.call_id for r in results if not r.ok]
    report = evaluate(gold_all, pred_all, failed_all, labels.names)
    return report.min_accuracy, report.min_recall, format_report(report)


def test_noisy_samples(tmp_path: Path, ruleset: Ruleset) -> None:
    accuracy, recall, text = _noisy_score(SAMPLES, tmp_path, ruleset, range(2))
    assert accuracy >= 0.92 and recall >= 0.88, text


@pytest.mark.skipif(not SHARED_DEV_CALLS.is_dir(), reason=f"{SHARED_DEV_CALLS} is absent")
def test_noisy_dev_calls(tmp_path: Path, ruleset: Ruleset) -> None:
    accuracy, recall, text = _noisy_score(SHARED_DEV_CALLS, tmp_path, ruleset, range(2))
    assert accuracy >= 0.92 and recall >= 0.88, text
