"""Gold labels (labels.jsonl, SPEC.md) and the same fields read from a result.

Which labels exist comes from criteria.yaml (each criterion and item names the labels.jsonl key
that grades it), around the call-level ones every set has: outcome, hang-up, validity.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.errors import LabelsFileError
from qa_pipeline.ruleset.schema import CriteriaFile
from qa_pipeline.verdict.model import CallResult, Criterion

Violation = bool | None  # the value that is a violation (what a QA lead must catch)


@dataclass(frozen=True)
class LabelSet:
    """The labels of a set judged under `criteria`: name -> the value that is a violation."""

    criteria: CriteriaFile

    @property
    def names(self) -> dict[str, Violation]:
        graded = dict.fromkeys(self.criteria.labels(), False)
        return {"outcome": None, **graded, "agent_hung_up_first": True, "valid_sale": False,
                "revisit_required": True}  # fmt: skip

    def predicted(self, result: CallResult) -> dict[str, Any]:
        """A result in the label vocabulary."""
        verdict = result.verdict
        values: dict[str, Any] = {name: None for name in self.names}
        values |= {"outcome": result.outcome, "valid_sale": result.valid_sale}
        values["revisit_required"] = result.revisit_required
        values["forbidden"] = []
        if verdict is None:
            return values
        for label, (criterion, item) in self.criteria.labels().items():
            node = verdict.criteria.get(criterion)
            if node is not None and item is not None:
                node = node.items.get(item) if isinstance(node, Criterion) else None
            values[label] = node.passed if node is not None else None
        values["agent_hung_up_first"] = verdict.agent_hung_up_first.value
        values["forbidden"] = [
            {"category": f.category, "text": f.text} for f in verdict.forbidden_phrases
        ]
        return values

    def load(self, path: Path) -> dict[str, dict[str, Any]]:
        """A labels.jsonl file; every problem in it reported at once."""
        labels: dict[str, dict[str, Any]] = {}
        problems = []
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise LabelsFileError(str(path), [f"cannot read: {exc.strerror}"]) from exc
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"line {number}: not valid JSON ({exc.msg})")
                continue
            missing = [k for k in ("call_id", *self.names, "forbidden") if k not in row]
            if missing:
                problems.append(f"line {number}: missing keys {missing}")
                continue
            labels[row["call_id"]] = row
        if problems:
            raise LabelsFileError(str(path), problems)
        return labels
