"""Accuracy and violation precision/recall per label, and forbidden-phrase span matching."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from qa_pipeline.evaluation.labels import Violation
from qa_pipeline.text.fuzzy import partial_ratio
from qa_pipeline.text.numbers import digitize_en, digitize_zh
from qa_pipeline.text.script_conversion import to_simplified

SPAN_MATCH = 80.0  # partial_ratio: the shorter span lies (almost) inside the longer one


@dataclass
class LabelScore:
    name: str
    correct: int = 0
    total: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    labels: dict[str, LabelScore]
    span_tp: int = 0
    span_fp: int = 0
    span_fn: int = 0
    wrong: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def span_precision(self) -> float:
        return self.span_tp / (self.span_tp + self.span_fp) if self.span_tp + self.span_fp else 1.0

    @property
    def span_recall(self) -> float:
        return self.span_tp / (self.span_tp + self.span_fn) if self.span_tp + self.span_fn else 1.0

    @property
    def min_accuracy(self) -> float:
        return min(s.accuracy for s in self.labels.values())

    @property
    def min_recall(self) -> float:
        return min(s.recall for s in self.labels.values() if s.name != "outcome")


_NOT_TEXT = re.compile(r"[\s\W_]+")


def _comparable(text: str) -> str:
    """Spans compared as ASR could have written them: simplified, numbers as digits, no
    punctuation or spaces (a noisy call's 一零零零零 is the label's 10000)."""
    plain = to_simplified(text).lower()
    return _NOT_TEXT.sub("", digitize_en(digitize_zh(plain)))


def spans_match(gold: dict[str, Any], pred: dict[str, Any]) -> bool:
    if gold["category"] != pred["category"]:
        return False
    a, b = _comparable(gold["text"]), _comparable(pred["text"])
    return bool(a and b) and partial_ratio(a, b) >= SPAN_MATCH


def _match_spans(gold: list[dict[str, Any]], pred: list[dict[str, Any]]) -> tuple[int, int, int]:
    unused = list(pred)
    tp = 0
    for g in gold:
        hit = next((p for p in unused if spans_match(g, p)), None)
        if hit is not None:
            unused.remove(hit)
            tp += 1
    return tp, len(unused), len(gold) - tp


def evaluate(
    gold: dict[str, dict[str, Any]],
    pred: dict[str, dict[str, Any]],
    failed: list[str],
    labels: dict[str, Violation],
) -> Report:
    """`labels`: each graded label and the value that is a violation (`LabelSet.names`)."""
    report = Report({name: LabelScore(name) for name in labels}, failed=list(failed))
    for call_id, expected in sorted(gold.items()):
        got = pred.get(call_id)
        if got is None:  # a failed or missing call is wrong on every label
            report.missing.append(call_id)
            got = {name: None for name in labels} | {"forbidden": []}
        for name, violation in labels.items():
            score = report.labels[name]
            score.total += 1
            if got[name] == expected[name]:
                score.correct += 1
            else:
                report.wrong.setdefault(call_id, []).append(
                    f"{name}: expected {expected[name]}, got {got[name]}"
                )
            if violation is None:
                continue
            gold_bad, pred_bad = expected[name] is violation, got[name] is violation
            score.tp += gold_bad and pred_bad
            score.fp += pred_bad and not gold_bad
            score.fn += gold_bad and not pred_bad
        tp, fp, fn = _match_spans(expected["forbidden"], got["forbidden"])
        report.span_tp += tp
        report.span_fp += fp
        report.span_fn += fn
        if fp or fn:
            report.wrong.setdefault(call_id, []).append(
                f"forbidden: expected {[f['text'] for f in expected['forbidden']]}, "
                f"got {[f['text'] for f in got['forbidden']]}"
            )
    return report


def format_report(report: Report) -> str:
    lines = [f"{'label':26} {'acc':>6} {'prec':>6} {'recall':>6}  n"]
    for score in report.labels.values():
        p = "" if score.name == "outcome" else f"{score.precision:6.3f} {score.recall:6.3f}"
        lines.append(f"{score.name:26} {score.accuracy:6.3f} {p:>13}  {score.total}")
    lines.append(
        f"{'forbidden spans':26} {'':6} {report.span_precision:6.3f} {report.span_recall:6.3f}"
        f"  tp={report.span_tp} fp={report.span_fp} fn={report.span_fn}"
    )
    lines.append(
        f"min accuracy {report.min_accuracy:.3f}  min violation recall {report.min_recall:.3f}"
    )
    for call_id in report.failed:
        lines.append(f"FAILED {call_id}")
    for call_id in report.missing:
        lines.append(f"MISSING {call_id}: no result")
    for call_id, problems in report.wrong.items():
        lines.append(f"WRONG {call_id}:")
        lines.extend(f"    {p}" for p in problems)
    return "\n".join(lines)


def format_comparison(clean: Report, noisy: Report, variants: int) -> str:
    """Clean and noisy scores side by side (noisy pooled over `variants` variants per call)."""
    lines = [
        f"{'label':26} {'clean acc':>9} {'noisy acc':>9} {'clean rec':>9} {'noisy rec':>9}",
    ]
    for name, score in clean.labels.items():
        other = noisy.labels[name]
        recalls = "" if name == "outcome" else f"{score.recall:9.3f} {other.recall:9.3f}"
        lines.append(f"{name:26} {score.accuracy:9.3f} {other.accuracy:9.3f} {recalls}")
    lines.append(
        f"{'forbidden spans (P/R)':26} {clean.span_precision:4.2f}/{clean.span_recall:4.2f}"
        f" {noisy.span_precision:4.2f}/{noisy.span_recall:4.2f}"
    )
    lines.append(
        f"min accuracy: clean {clean.min_accuracy:.3f}, noisy {noisy.min_accuracy:.3f} "
        f"({variants} noisy variants per call); min violation recall: clean "
        f"{clean.min_recall:.3f}, noisy {noisy.min_recall:.3f}"
    )
    return "\n".join(lines)
