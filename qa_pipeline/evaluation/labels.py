"""Gold labels (labels.jsonl, SPEC.md) and the same fields read from a results row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from qa_pipeline.errors import LabelsFileError

# label -> True when the value is a violation (what a QA lead must catch)
LABELS: dict[str, Any] = {
    "outcome": None,
    "identity_ok": False,
    "permission_ok": False,
    "account_holder_verified": False,
    "caller_competent": False,
    "fees_disclosed": False,
    "trial_end_disclosed": False,
    "cancel_method_disclosed": False,
    "disclosures_ok": False,
    "explicit_consent": False,
    "agent_hung_up_first": True,
    "valid_sale": False,
    "revisit_required": True,
}


def load_labels(path: Path) -> dict[str, dict[str, Any]]:
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
        missing = [k for k in ("call_id", *LABELS, "forbidden") if k not in row]
        if missing:
            problems.append(f"line {number}: missing keys {missing}")
            continue
        labels[row["call_id"]] = row
    if problems:
        raise LabelsFileError(str(path), problems)
    return labels


def _passed(node: Any) -> Any:
    return None if node is None else node.get("passed")


def predicted(row: dict[str, Any]) -> dict[str, Any]:
    """A results.jsonl row in the label vocabulary."""
    criteria = row.get("criteria") or {}
    holder = criteria.get("account_holder_verified") or {}
    disclosures = criteria.get("disclosures") or {}
    holder_items = holder.get("items") or {}
    disclosure_items = disclosures.get("items") or {}
    hangup = row.get("agent_hung_up_first") or {}
    return {
        "outcome": row.get("outcome"),
        "identity_ok": _passed(holder_items.get("identity")),
        "permission_ok": _passed(holder_items.get("permission")),
        "account_holder_verified": holder.get("passed"),
        "caller_competent": _passed(criteria.get("caller_competent")),
        "fees_disclosed": _passed(disclosure_items.get("fees")),
        "trial_end_disclosed": _passed(disclosure_items.get("trial_end")),
        "cancel_method_disclosed": _passed(disclosure_items.get("cancel_method")),
        "disclosures_ok": disclosures.get("passed"),
        "explicit_consent": _passed(criteria.get("explicit_consent")),
        "agent_hung_up_first": hangup.get("value"),
        "valid_sale": row.get("valid_sale"),
        "revisit_required": row.get("revisit_required"),
        "forbidden": row.get("forbidden_phrases") or [],
    }
