"""Results at the edges: a `CallResult` as a results.jsonl row (the same dict goes into the
database's JSON column), and back. Nothing else in the library reads a row by its keys.

The row layout is the documented one (README "Output"): the verdict's fields flattened into the
row, the outcome as its value with its evidence under `outcome_evidence`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter

from qa_pipeline.asr.transcribe import AsrInfo
from qa_pipeline.audio.signals import AudioSignals
from qa_pipeline.transcript.cleanup import CleanupReport
from qa_pipeline.transcript.roles import RoleAssignment
from qa_pipeline.verdict.facts import VerdictFacts
from qa_pipeline.verdict.model import (
    CallResult,
    CallVerdict,
    Criterion,
    ForbiddenFinding,
    HangupResult,
    Item,
    OutcomeResult,
    ScriptResult,
    TranscriptLine,
    TurnReading,
)

T = TypeVar("T")
_VERDICT_FIELDS = tuple(f.name for f in dataclasses.fields(CallVerdict))
_RESULT_FIELDS = tuple(f.name for f in dataclasses.fields(CallResult) if f.name != "verdict")


def to_row(result: CallResult) -> dict[str, Any]:
    """The results.jsonl row of a result."""
    row = {name: _plain(getattr(result, name)) for name in _RESULT_FIELDS}
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


def _plain(value: object) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value  # type: ignore[arg-type]


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _read(kind: type[T], value: object) -> T:
    """`value` validated as `kind` (pydantic reads dataclasses too), adapters built once."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    found: T = adapter.validate_python(value)
    return found


def _node(value: Mapping[str, Any]) -> Criterion | Item:
    return _read(Criterion, value) if "items" in value else _read(Item, value)


def from_row(row: Mapping[str, Any]) -> CallResult:
    """The result a row was written from (a stored or re-read results row)."""
    return CallResult(
        call_id=row["call_id"],
        status=row["status"],
        error=row.get("error"),
        source=row.get("source") or "",
        rules_version=row.get("rules_version") or "",
        campaign=row.get("campaign"),
        language=row.get("language"),
        agent_id=row.get("agent_id"),
        team=row.get("team"),
        customer_number=row.get("customer_number"),
        started_at=row.get("started_at"),
        revisit_of=row.get("revisit_of"),
        verdict=_verdict(row),
        asr=_read(AsrInfo, row["asr"]) if row.get("asr") else None,
        audio=_read(AudioSignals, row["audio"]) if row.get("audio") else None,
        recordings=tuple(row.get("recordings") or ()),
        input_warnings=tuple(row.get("input_warnings") or ()),
    )


def _verdict(row: Mapping[str, Any]) -> CallVerdict | None:
    if row.get("criteria") is None:
        return None
    return CallVerdict(
        outcome=_read(OutcomeResult, row["outcome_evidence"]),
        criteria={name: _node(node) for name, node in row["criteria"].items()},
        script=_read(ScriptResult, row["script"]),
        forbidden_phrases=_read(tuple[ForbiddenFinding, ...], row["forbidden_phrases"]),
        agent_hung_up_first=_read(HangupResult, row["agent_hung_up_first"]),
        valid_sale=row["valid_sale"],
        revisit_required=row["revisit_required"],
        roles=_read(RoleAssignment, row["roles"]),
        normalization=_read(CleanupReport, row["normalization"]),
        review_flags=tuple(row.get("review_flags") or ()),
        transcript=_read(tuple[TranscriptLine, ...], row.get("transcript") or ()),
        readings=_read(tuple[TurnReading, ...], row.get("readings") or ()),
    )


def to_json(result: CallResult) -> str:
    """One results.jsonl line (without the newline): strict JSON in UTF-8, so a non-finite
    number or an unpaired surrogate is a ValueError here, not a broken results file."""
    line = json.dumps(to_row(result), ensure_ascii=False, allow_nan=False)
    line.encode("utf-8")
    return line


def read_results(path: Path) -> Iterator[CallResult]:
    """The results of a results.jsonl file, streamed (one row in memory at a time)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield from_row(json.loads(line))


def facts_from_row(row: Mapping[str, Any]) -> VerdictFacts:
    """`facts_of(from_row(row))`, reading only what scorecards count (a stored row is read
    back for every scorecard rebuild)."""
    criteria = row.get("criteria") or {}
    hangup = row.get("agent_hung_up_first") or {}
    return VerdictFacts(
        call_id=row["call_id"],
        agent_id=row.get("agent_id"),
        team=row.get("team"),
        customer_number=row.get("customer_number"),
        outcome=row.get("outcome"),
        valid_sale=row.get("valid_sale"),
        criteria={name: node.get("passed") for name, node in criteria.items()},
        forbidden=tuple(f["category"] for f in row.get("forbidden_phrases") or ()),
        agent_hung_up_first=bool(hangup.get("value")),
        script_adherence=(row.get("script") or {}).get("adherence"),
    )
