"""The findings of a result: what failed, in a flat list (stored per verdict, and read by
callback planning and review)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from qa_pipeline.verdict.model import CallResult, Evidence
from qa_pipeline.verdict.reasons import Reason, templates

FindingKind = Literal["criterion", "forbidden", "hangup", "review_flag"]


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    code: str  # account_holder_verified.identity, forbidden.arguing, agent_hung_up_first, ...
    reason: str
    evidence: tuple[Evidence, ...]
    why: Reason | None = None  # the reason in any language (None: only the stored text)


def findings_of(result: CallResult) -> Iterator[Finding]:
    """The failed items, forbidden phrases, hang-up and review flags of a result. A criterion
    scoped to sales (criteria.yaml `scope`) yields nothing on a declined or no-pitch call, nor
    does a flag about one of its items (`model_unsure.explicit_consent`)."""
    verdict = result.verdict
    if verdict is None:
        return
    for code, item in verdict.judged_items():
        if item.passed is False and verdict.applies(code):
            yield Finding("criterion", code, item.reason, item.evidence, item.why)
    for phrase in verdict.forbidden_phrases:
        evidence = Evidence(phrase.start, phrase.end, phrase.speaker, phrase.text)
        why = Reason.of("forbidden.phrase", category=phrase.category, said=f"“{phrase.text}”")
        code = f"forbidden.{phrase.category}"
        yield Finding("forbidden", code, phrase.rule_id, (evidence,), why)
    hangup = verdict.agent_hung_up_first
    if hangup.value:
        yield Finding("hangup", "agent_hung_up_first", hangup.reason, hangup.evidence, hangup.why)
    for flag in verdict.review_flags:
        about = flag.partition(".")[2]  # model_unsure.explicit_consent is about an item
        if about and not verdict.applies(about):
            continue
        yield Finding("review_flag", flag, flag, (), _flag_reason(flag))


def _flag_reason(flag: str) -> Reason | None:
    """`flag.<family>` with the item it is about (`model_unsure.explicit_consent`)."""
    family, _, about = flag.partition(".")
    key = f"flag.{family}"
    return Reason.of(key, item=about) if key in templates("en") else None
