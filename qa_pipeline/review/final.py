"""The final verdict of a call after review: overturned findings no longer count (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FinalVerdict:
    valid_sale: bool | None
    revisit_required: bool
    criteria: dict[str, bool | None]
    forbidden: dict[str, int]  # category -> phrases that still count
    agent_hung_up_first: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _passed(name: str, node: dict[str, Any], overturned: Collection[str]) -> bool | None:
    """A criterion's pass with overturned items counted as passed (the engine's own rule: an
    item that does not apply is left out; nothing applicable is None)."""
    if name in overturned:
        return True
    items = node.get("items")
    if not items:
        passed: bool | None = node.get("passed")
        return passed
    applicable = [
        True if f"{name}.{item}" in overturned else value["passed"]
        for item, value in items.items()
        if value.get("passed") is not None
    ]
    return all(applicable) if applicable else None


def final_verdict(result: dict[str, Any], overturned: Collection[str]) -> FinalVerdict:
    """`overturned` lists the codes of overturned findings, once per finding (two forbidden
    phrases of one category are two entries)."""
    criteria = {
        name: _passed(name, node, overturned)
        for name, node in (result.get("criteria") or {}).items()
    }
    valid = all(criteria.values()) if result.get("outcome") == "sale" else None
    dropped = Counter(overturned)
    kept: Counter[str] = Counter()
    for phrase in result.get("forbidden_phrases") or []:
        code = f"forbidden.{phrase['category']}"
        if dropped[code]:
            dropped[code] -= 1
        else:
            kept[phrase["category"]] += 1
    hangup = bool((result.get("agent_hung_up_first") or {}).get("value"))
    return FinalVerdict(
        valid_sale=valid,
        revisit_required=valid is False,
        criteria=criteria,
        forbidden=dict(kept),
        agent_hung_up_first=hangup and "agent_hung_up_first" not in overturned,
    )
