"""What a batch's results add up to, read in one streamed pass: counts, each criterion's
failures, the first flagged calls and the call dates (the scorecard periods a run touched).

A chunk of the nightly flow digests its own results file right after writing it; digests of
chunks merge, so the night's summary needs no second read of the results.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE_ROWS = 200  # flagged calls kept for the table: memory stays flat however big the night


@dataclass(frozen=True)
class Digest:
    calls: int = 0
    failed: int = 0
    sales: int = 0
    valid: int = 0
    failures: tuple[tuple[str, int], ...] = ()  # (criterion, failed sales), first seen first
    flagged: tuple[Mapping[str, Any], ...] = ()  # the first TABLE_ROWS flagged calls
    dates: frozenset[str] = frozenset()


def _is_flagged(row: Mapping[str, Any]) -> bool:
    return (
        row["status"] == "failed"
        or row.get("valid_sale") is False
        or bool(row.get("forbidden_phrases"))
    )


def _flag(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "call_id": row["call_id"], "agent": row.get("agent_id"), "team": row.get("team"),
        "outcome": row.get("outcome"), "valid_sale": row.get("valid_sale"),
        "forbidden": len(row.get("forbidden_phrases") or []), "error": row.get("error"),
    }  # fmt: skip


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def digest_rows(rows: Iterable[Mapping[str, Any]], table_rows: int = TABLE_ROWS) -> Digest:
    calls = failed = sales = valid = 0
    failures: dict[str, int] = {}
    flagged: list[Mapping[str, Any]] = []
    dates: set[str] = set()
    for row in rows:
        calls += 1
        failed += row["status"] == "failed"
        if row.get("started_at"):  # the local date, as `pipeline.touched_dates` reads it
            dates.add(row["started_at"][:10])
        if row.get("outcome") == "sale":
            sales += 1
            valid += bool(row.get("valid_sale"))
            for name, node in (row.get("criteria") or {}).items():
                failures[name] = failures.get(name, 0) + (node.get("passed") is False)
        if len(flagged) < table_rows and _is_flagged(row):
            flagged.append(_flag(row))
    return Digest(
        calls, failed, sales, valid, tuple(failures.items()), tuple(flagged), frozenset(dates)
    )


def digest(results_path: Path, table_rows: int = TABLE_ROWS) -> Digest:
    """The digest of a results file, streamed (one row in memory at a time)."""
    return digest_rows(_rows(results_path), table_rows)


def merge(parts: Iterable[Digest], table_rows: int = TABLE_ROWS) -> Digest:
    """One digest of several (chunks in batch order): the same as digesting their rows at once."""
    calls = failed = sales = valid = 0
    failures: dict[str, int] = {}
    flagged: list[Mapping[str, Any]] = []
    dates: set[str] = set()
    for part in parts:
        calls, failed = calls + part.calls, failed + part.failed
        sales, valid = sales + part.sales, valid + part.valid
        for name, count in part.failures:
            failures[name] = failures.get(name, 0) + count
        flagged += part.flagged[: table_rows - len(flagged)]
        dates |= part.dates
    return Digest(
        calls, failed, sales, valid, tuple(failures.items()), tuple(flagged), frozenset(dates)
    )


def markdown(day: str, night: Digest, scorecard_rows: int, table_rows: int = TABLE_ROWS) -> str:
    """The nightly summary: calls, valid rate, each criterion's failures."""
    sales = night.sales
    lines = [
        f"# Nightly QA {day}",
        "",
        f"- calls: {night.calls} ({night.failed} failed to process)",
        f"- sales: {sales}, valid: {night.valid} ({night.valid / sales:.0%} valid)"
        if sales
        else "- sales: 0",
        *(f"- {name} failed on {count} sales" for name, count in night.failures),
        f"- scorecard rows rebuilt: {scorecard_rows}",
        f"- flagged calls (first {table_rows}): see the nightly-qa-flagged table",
    ]
    return "\n".join(lines)
