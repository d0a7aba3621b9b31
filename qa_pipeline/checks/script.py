"""Script sections: check types that rule files use to say how a section is recognised."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.registry import SectionFound, section_check
from qa_pipeline.ruleset.schema import LEXICON_NAMES
from qa_pipeline.text.lexicon import compile_patterns
from qa_pipeline.verdict.model import Item


class ActsParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    acts: list[str] = Field(min_length=1, description=f"lexicon names: {sorted(LEXICON_NAMES)}")
    mode: str = Field("all", pattern="^(all|any)$")

    def model_post_init(self, context: object) -> None:
        unknown = [a for a in self.acts if a not in LEXICON_NAMES]
        if unknown:
            raise ValueError(f"unknown acts {unknown}; valid: {sorted(LEXICON_NAMES)}")


class TermsParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    terms: list[str] = Field(min_length=1, description="regular expressions")


class ItemParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    item: str = Field(description="a criterion item named in criteria.yaml")

    @field_validator("item")
    @classmethod
    def _known(cls, item: str, info: ValidationInfo) -> str:
        # The loader passes the loaded criteria's item names as validation context.
        known = (info.context or {}).get("items")
        if known is not None and item not in known:
            raise ValueError(f"unknown item {item!r}; criteria.yaml has {sorted(known)}")
        return item


@section_check("acts_present.v1", ActsParams)
def acts_present(ctx: CallContext, params: ActsParams, items: Mapping[str, Item]) -> SectionFound:
    """The agent performs the named dialogue acts (all of them, or any)."""
    evidence = []
    for act in params.acts:
        turn = next((t for t in ctx.agent_turns() if t.has(act)), None)
        if turn is not None:
            evidence.append(turn.evidence(act))
    present = len(evidence) == len(params.acts) if params.mode == "all" else bool(evidence)
    return present, tuple(evidence)


@section_check("terms_present.v1", TermsParams)
def terms_present(ctx: CallContext, params: TermsParams, items: Mapping[str, Item]) -> SectionFound:
    """The agent says at least one of the campaign's terms (features, usage)."""
    pattern = compile_patterns(params.terms, ctx.pack.word_boundaries)
    for turn in ctx.agent_turns():
        for sentence in turn.sentences:
            m = pattern.search(sentence.norm)
            if m:
                return True, (sentence.evidence(m.group(0)),)
    return False, ()


@section_check("item_passed.v1", ItemParams)
def item_passed(ctx: CallContext, params: ItemParams, items: Mapping[str, Item]) -> SectionFound:
    """The section is present when a criterion item passed (or does not apply)."""
    item = items[params.item]
    return item.passed is not False, item.evidence
