"""Criterion 2, caller competent: no sign the customer cannot fully understand."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks.common import first_hit, item, quote
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import item_check
from qa_pipeline.text.lexicon import CLAUSE_END, Hit
from qa_pipeline.verdict.model import Item

# Signals that last the whole call, and signals the agent can resolve by explaining again; the
# reason of each is `competence.<lexicon>` (verdict/reason_text).
PERSISTENT = ("drunk", "just_woken", "child", "language_barrier")
RESOLVABLE = ("cannot_hear", "not_understand")
_SIGNALS = (*PERSISTENT, *RESOLVABLE, "understood", "third_person")


def _own_signal(sentence: Sentence, hit: Hit) -> bool:
    """A signal about the caller, not a remark about someone else ("这号是我爸的，他耳朵背")."""
    if hit.source == "model":  # the model read the sentence whole, its subject included
        return True
    clause = max((m.end() for m in CLAUSE_END.finditer(sentence.norm, 0, hit.start)), default=0)
    return not any(clause <= t.start and t.end <= hit.start for t in sentence.hits("third_person"))


def _first_own(turns: Iterable[Turn], lexicon: str) -> tuple[Turn, Sentence, Hit] | None:
    for turn in turns:
        for sentence in turn.sentences:
            for hit in sentence.hits(lexicon):
                if _own_signal(sentence, hit):
                    return turn, sentence, hit
    return None


@item_check("caller_competent.v1", lexicons=_SIGNALS)
def caller_competent(ctx: CallContext, params: object) -> Item:
    """No sign that the customer is drunk, half-asleep, a child, cannot hear, or does not
    understand without the agent resolving it."""
    return _competent(ctx, PERSISTENT)


def _competent(ctx: CallContext, persistent: tuple[str, ...]) -> Item:
    customer = list(ctx.customer_turns())
    for lexicon in persistent:
        found = _first_own(customer, lexicon)
        if found:
            evidence = (found[1].hit_evidence(found[2]),)
            return item(False, evidence, f"competence.{lexicon}", said=quote(found))
    for lexicon in RESOLVABLE:
        hits = [t for t in customer if _first_own([t], lexicon)]
        if not hits:
            continue
        last = hits[-1]
        resolved = first_hit((t for t in customer if t.index > last.index), "understood")
        if resolved is None:
            found = _first_own([last], lexicon)
            assert found is not None
            evidence = (found[1].hit_evidence(found[2]),)
            return item(False, evidence, f"competence.{lexicon}", said=quote(found))
    return item(True, (), "competence.ok")


class CompetenceParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repeats: int = Field(
        3, ge=2, description="customer turns asking to repeat or who is calling that show the "
        "customer cannot follow (one or two are normal on a phone line)",
    )  # fmt: skip


@item_check("caller_competent.v2", CompetenceParams, lexicons=(*_SIGNALS, "clarify"))
def caller_competent_v2(ctx: CallContext, params: CompetenceParams) -> Item:
    """As caller_competent.v1, and a customer who keeps asking the agent to repeat, or who is
    calling, cannot follow the call (a hard-of-hearing or confused caller rarely says so)."""
    return _repeats(ctx, params, caller_competent(ctx, params))


def _repeats(ctx: CallContext, params: CompetenceParams, found: Item) -> Item:
    if not found.passed:
        return found
    asking = [
        hit for turn in ctx.customer_turns() if (hit := _first_own([turn], "clarify")) is not None
    ]
    if len(asking) < params.repeats:
        return found
    evidence = tuple(f[1].hit_evidence(f[2]) for f in asking[:4])
    said = ", ".join(f"“{f[2].text}”" for f in asking[:4])
    return item(False, evidence, "competence.repeats", count=len(asking), said=said)


class CompetenceParamsV3(CompetenceParams):
    lucid_questions: int = Field(
        1, ge=1, description="questions about the call asked after the customer said they had "
        "just woken, with no sign of confusion after it, that show them awake",
    )  # fmt: skip


_CONFUSED = ("clarify", "not_understand", "just_woken")  # "现在几点了" after waking is still asleep


def _woke_lucid(ctx: CallContext, needed: int) -> bool:
    """The customer said they had just woken, then asked about the call ("From today, or from
    when I pick a song?", "30天过了它是自动扣钱噻？") and never asked what was said or said they
    did not follow: awake, not "just woken and confused"."""
    customer = list(ctx.customer_turns())
    woken = _first_own(customer, "just_woken")
    if woken is None:
        return False
    later = [t for t in customer if t.index > woken[0].index]
    if any(t.has(lexicon) for t in later for lexicon in _CONFUSED):
        return False
    return sum(1 for t in later if t.has("question")) >= needed


@item_check("caller_competent.v3", CompetenceParamsV3, lexicons=(*_SIGNALS, "clarify", "question"))
def caller_competent_v3(ctx: CallContext, params: CompetenceParamsV3) -> Item:
    """As caller_competent.v2, except that a customer who says they were asleep and then asks
    about the offer, with no sign of confusion after it, is awake (SPEC: "just woken and
    confused")."""
    woke = _woke_lucid(ctx, params.lucid_questions)
    persistent = tuple(p for p in PERSISTENT if not (woke and p == "just_woken"))
    return _repeats(ctx, params, _competent(ctx, persistent))
