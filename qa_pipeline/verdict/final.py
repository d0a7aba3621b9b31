"""The final verdict of a call after review: overturned findings no longer count (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from qa_pipeline.verdict.model import CallResult, Criterion, Item


@dataclass(frozen=True)
class FinalVerdict:
    valid_sale: bool | None
    revisit_required: bool
    criteria: dict[str, bool | None]
    forbidden: dict[str, int]  # category -> phrases that still count
    agent_hung_up_first: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FinalVerdict:
        """As stored (the review item's `final` column)."""
        return cls(
            valid_sale=data["valid_sale"],
            revisit_required=data["revisit_required"],
            criteria=dict(data["criteria"]),
            forbidden=dict(data["forbidden"]),
            agent_hung_up_first=data["agent_hung_up_first"],
        )


def _passed(name: str, node: Criterion | Item, overturned: Collection[str]) -> bool | None:
    """A criterion's pass with overturned items counted as passed (the engine's own rule: an
    item that does not apply is left out; nothing applicable is None)."""
    if name in overturned:
        return True
    if isinstance(node, Item):
        return node.passed
    applicable = [
        True if f"{name}.{item}" in overturned else value.passed
        for item, value in node.items.items()
        if value.passed is not None
    ]
    return all(applicable) if applicable else None


def final_verdict(result: CallResult, overturned: Collection[str]) -> FinalVerdict:
    """`overturned` lists the codes of overturned findings, once per finding (two forbidden
    phrases of one category are two entries)."""
    verdict = result.verdict
    criteria = {
        name: _passed(name, node, overturned)
        for name, node in (verdict.criteria.items() if verdict else ())
    }
    valid = all(criteria.values()) if result.outcome == "sale" else None
    dropped = Counter(overturned)
    kept: Counter[str] = Counter()
    for phrase in verdict.forbidden_phrases if verdict else ():
        code = f"forbidden.{phrase.category}"
        if dropped[code]:
            dropped[code] -= 1
        else:
            kept[phrase.category] += 1
    hangup = bool(verdict and verdict.agent_hung_up_first.value)
    return FinalVerdict(
        valid_sale=valid,
        revisit_required=valid is False,
        criteria=criteria,
        forbidden=dict(kept),
        agent_hung_up_first=hangup and "agent_hung_up_first" not in overturned,
    )
