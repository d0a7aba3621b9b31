"""What scorecards count of a verdict: a small projection of a result, cheap to read back
from storage for every stored call (the whole result is not)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from qa_pipeline.verdict.model import CallResult


@dataclass(frozen=True, slots=True)
class VerdictFacts:
    call_id: str
    agent_id: str | None
    team: str | None
    customer_number: str | None
    outcome: str | None
    valid_sale: bool | None
    criteria: Mapping[str, bool | None]  # each criterion's pass
    forbidden: tuple[str, ...]  # the category of each forbidden phrase
    agent_hung_up_first: bool
    script_adherence: float | None


def facts_of(result: CallResult) -> VerdictFacts:
    verdict = result.verdict
    return VerdictFacts(
        call_id=result.call_id,
        agent_id=result.agent_id,
        team=result.team,
        customer_number=result.customer_number,
        outcome=result.outcome,
        valid_sale=result.valid_sale,
        criteria={n: c.passed for n, c in verdict.criteria.items()} if verdict else {},
        forbidden=tuple(f.category for f in verdict.forbidden_phrases) if verdict else (),
        agent_hung_up_first=bool(verdict and verdict.agent_hung_up_first.value),
        script_adherence=verdict.script.adherence if verdict else None,
    )
