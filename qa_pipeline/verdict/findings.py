"""The findings of a results row: what failed, in a flat list (stored per verdict, and read by
callback planning and review)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def findings_of(row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The failed items, forbidden phrases, hang-up and review flags of a result row."""
    for name, node in (row.get("criteria") or {}).items():
        items = node.get("items") or {name: node}
        for item_name, item in items.items():
            if item.get("passed") is False:
                code = name if item_name == name else f"{name}.{item_name}"
                yield {
                    "kind": "criterion",
                    "code": code,
                    "reason": item["reason"],
                    "evidence": item["evidence"],
                }
    for phrase in row.get("forbidden_phrases") or []:
        evidence = [{k: phrase[k] for k in ("start", "end", "speaker", "text")}]
        yield {
            "kind": "forbidden",
            "code": f"forbidden.{phrase['category']}",
            "reason": phrase["rule_id"],
            "evidence": evidence,
        }
    hangup = row.get("agent_hung_up_first") or {}
    if hangup.get("value"):
        yield {
            "kind": "hangup",
            "code": "agent_hung_up_first",
            "reason": hangup["reason"],
            "evidence": hangup["evidence"],
        }
    for flag in row.get("review_flags") or []:
        yield {"kind": "review_flag", "code": flag, "reason": flag, "evidence": []}
