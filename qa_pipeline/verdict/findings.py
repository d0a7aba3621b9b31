"""The findings of a result: what failed, in a flat list (stored per verdict, and read by
callback planning and review)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from qa_pipeline.verdict.model import CallResult, Evidence

FindingKind = Literal["criterion", "forbidden", "hangup", "review_flag"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    code: str  # account_holder_verified.identity, forbidden.arguing, agent_hung_up_first, ...
    reason: str
    evidence: tuple[Evidence, ...]


def findings_of(result: CallResult) -> Iterator[Finding]:
    """The failed items, forbidden phrases, hang-up and review flags of a result. A criterion
    scoped to sales (criteria.yaml `scope`) yields nothing on a declined or no-pitch call, nor
    does a flag about one of its items (`model_unsure.explicit_consent`)."""
    verdict = result.verdict
    if verdict is None:
        return
    for code, item in verdict.judged_items():
        if item.passed is False and verdict.applies(code):
            yield Finding("criterion", code, item.reason, item.evidence)
    for phrase in verdict.forbidden_phrases:
        evidence = Evidence(phrase.start, phrase.end, phrase.speaker, phrase.text)
        yield Finding("forbidden", f"forbidden.{phrase.category}", phrase.rule_id, (evidence,))
    hangup = verdict.agent_hung_up_first
    if hangup.value:
        yield Finding("hangup", "agent_hung_up_first", hangup.reason, hangup.evidence)
    for flag in verdict.review_flags:
        about = flag.partition(".")[2]  # model_unsure.explicit_consent is about an item
        if about and not verdict.applies(about):
            continue
        yield Finding("review_flag", flag, flag, ())
