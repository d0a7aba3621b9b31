"""One line per call for the terminal: what failed, at a glance."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SHORT = {
    "account_holder_verified": "holder",
    "caller_competent": "competence",
    "disclosures": "disclosures",
    "explicit_consent": "consent",
}


def _failed_criteria(row: dict[str, Any]) -> list[str]:
    failed = []
    for name, node in (row.get("criteria") or {}).items():
        if node.get("passed") is False:
            items = node.get("items")
            parts = [k for k, v in items.items() if v["passed"] is False] if items else []
            failed.append(SHORT[name] + (f"({','.join(parts)})" if parts else ""))
    return failed


def summary_lines(rows: Iterable[dict[str, Any]]) -> list[str]:
    lines = [f"{'call':14} {'outcome':9} {'valid':6} {'failed criteria / notes'}"]
    for row in rows:
        if row["status"] == "failed":
            lines.append(f"{row['call_id']:14} {'FAILED':9} {'':6} {row['error']}")
            continue
        notes = _failed_criteria(row) if row["outcome"] == "sale" else []
        notes += [f"forbidden:{f['category']}" for f in row["forbidden_phrases"]]
        if (row.get("agent_hung_up_first") or {}).get("value"):
            notes.append("agent hung up first")
        notes += [f"review:{flag}" for flag in row.get("review_flags") or ()]
        valid = {True: "yes", False: "NO", None: "-"}[row["valid_sale"]]
        lines.append(f"{row['call_id']:14} {row['outcome']:9} {valid:6} {'; '.join(notes)}")
    return lines
