"""Results as plain dicts (one results.jsonl row per call)."""

from __future__ import annotations

import dataclasses
from typing import Any

from qa_pipeline.verdict.model import CallResult


def to_dict(result: CallResult) -> dict[str, Any]:
    row = {
        f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "verdict"
    }
    verdict = result.verdict
    if verdict is None:
        row.update(
            outcome=None, criteria=None, script=None, forbidden_phrases=[],
            agent_hung_up_first=None, valid_sale=None, revisit_required=False,
        )  # fmt: skip
        return row
    body = dataclasses.asdict(verdict)
    body["outcome"] = verdict.outcome.value
    body["outcome_evidence"] = dataclasses.asdict(verdict.outcome)
    row.update(body)
    return row
