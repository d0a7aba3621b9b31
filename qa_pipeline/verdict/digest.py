"""What a batch's results add up to, read in one streamed pass: counts, each criterion's
failures, the first flagged calls and the call dates (the scorecard periods a run touched).

A chunk of the nightly flow digests its own results file right after writing it; digests of
chunks merge, so the night's summary needs no second read of the results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from qa_pipeline.verdict.findings import findings_of
from qa_pipeline.verdict.model import CallResult
from qa_pipeline.verdict.serialize import read_results

TABLE_ROWS = 200  # flagged calls kept for the table: memory stays flat however big the night


@dataclass(frozen=True)
class FlaggedCall:
    """A row of the flagged-calls table."""

    call_id: str
    agent: str | None
    team: str | None
    outcome: str | None
    valid_sale: bool | None
    forbidden: int
    error: str | None
    why: str = ""  # each finding: its code, and its reason where that says more


def why_flagged(result: CallResult) -> str:
    """Why a call is flagged, in one line: the processing error, or each finding."""
    if not result.ok:
        return f"failed: {result.error}"
    return "; ".join(
        f.code if f.reason in ("", f.code) else f"{f.code} ({f.reason})"
        for f in findings_of(result)
    )


@dataclass(frozen=True)
class Digest:
    calls: int = 0
    failed: int = 0
    sales: int = 0
    valid: int = 0
    failures: tuple[tuple[str, int], ...] = ()  # (criterion, failed sales), first seen first
    flagged: tuple[FlaggedCall, ...] = ()  # the first TABLE_ROWS flagged calls
    dates: frozenset[str] = frozenset()


def _is_flagged(result: CallResult) -> bool:
    """A failed call, or one with a finding (what the review queue takes, by scope)."""
    return not result.ok or next(findings_of(result), None) is not None


def _flag(result: CallResult) -> FlaggedCall:
    forbidden = len(result.verdict.forbidden_phrases) if result.verdict else 0
    return FlaggedCall(
        result.call_id, result.agent_id, result.team, result.outcome, result.valid_sale,
        forbidden, result.error, why_flagged(result),
    )  # fmt: skip


def digest_results(results: Iterable[CallResult], table_rows: int = TABLE_ROWS) -> Digest:
    calls = failed = sales = valid = 0
    failures: dict[str, int] = {}
    flagged: list[FlaggedCall] = []
    dates: set[str] = set()
    for result in results:
        calls += 1
        failed += not result.ok
        if result.started_at:  # the local date, as `batch.run.touched_dates` reads it
            dates.add(result.started_at[:10])
        if result.outcome == "sale" and result.verdict is not None:
            sales += 1
            valid += bool(result.valid_sale)
            for name, node in result.verdict.criteria.items():
                failures[name] = failures.get(name, 0) + (node.passed is False)
        if len(flagged) < table_rows and _is_flagged(result):
            flagged.append(_flag(result))
    return Digest(
        calls, failed, sales, valid, tuple(failures.items()), tuple(flagged), frozenset(dates)
    )


def digest(results_path: Path, table_rows: int = TABLE_ROWS) -> Digest:
    """The digest of a results file, streamed (one row in memory at a time)."""
    return digest_results(read_results(results_path), table_rows)


def merge(parts: Iterable[Digest], table_rows: int = TABLE_ROWS) -> Digest:
    """One digest of several (chunks in batch order): the same as digesting their rows at once."""
    calls = failed = sales = valid = 0
    failures: dict[str, int] = {}
    flagged: list[FlaggedCall] = []
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


def call_link(call_id: str, workbench_url: str | None) -> str:
    """The call's workbench page (`/calls/ID` under the workbench's address when known)."""
    return f"{(workbench_url or '').rstrip('/')}/calls/{quote(call_id, safe='')}"


def markdown(
    day: str,
    night: Digest,
    scorecard_rows: int,
    table_rows: int = TABLE_ROWS,
    workbench_url: str | None = None,
    listed: int = 20,
) -> str:
    """The nightly summary: calls, valid rate, each criterion's failures, and the first
    `listed` flagged calls with why and a link to their workbench page."""
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
    if night.flagged:
        lines += ["", f"## Flagged calls (first {min(listed, len(night.flagged))})", ""]
        lines += [
            f"- [{row.call_id}]({call_link(row.call_id, workbench_url)}): {row.why}"
            for row in night.flagged[:listed]
        ]
    return "\n".join(lines)
