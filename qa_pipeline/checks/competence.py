"""Criterion 2, caller competent: no sign the customer cannot fully understand."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

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
    return _about_self(sentence, hit)


def _own_signal_v4(sentence: Sentence, hit: Hit) -> bool:
    """`_own_signal`, except that a model's "child" on a goodbye is no signal (the heads read a
    bare "okay bye bye" / "嗯 拜拜" as a child's; a goodbye says nothing about who speaks) and a
    signal said in the first person is always the caller's."""
    if hit.source == "model":
        return not (hit.lexicon == "child" and sentence.has("goodbye"))
    # A signal said in the first person is the caller's, whatever third person came earlier in an
    # unpunctuated clause ("是我爷爷的 我爷爷在睡觉 我上一年级了").
    return bool(_FIRST_PERSON.match(hit.text)) or _about_self(sentence, hit)


_FIRST_PERSON = re.compile(r"(?:我|俺|i\b|i'm\b|i've\b)", re.IGNORECASE)


def _about_self(sentence: Sentence, hit: Hit) -> bool:
    clause = max((m.end() for m in CLAUSE_END.finditer(sentence.norm, 0, hit.start)), default=0)
    return not any(clause <= t.start and t.end <= hit.start for t in sentence.hits("third_person"))


def _first_own(
    turns: Iterable[Turn], lexicon: str, own: Callable[[Sentence, Hit], bool] = _own_signal
) -> tuple[Turn, Sentence, Hit] | None:
    for turn in turns:
        for sentence in turn.sentences:
            for hit in sentence.hits(lexicon):
                if own(sentence, hit):
                    return turn, sentence, hit
    return None


@item_check("caller_competent.v1", lexicons=_SIGNALS)
def caller_competent(ctx: CallContext, params: object) -> Item:
    """No sign that the customer is drunk, half-asleep, a child, cannot hear, or does not
    understand without the agent resolving it."""
    return _competent(ctx, PERSISTENT)


def _competent(ctx: CallContext, persistent: tuple[str, ...], v4: bool = False) -> Item:
    """`v4`: a cannot-hear or does-not-understand said while putting the call off ("工地上嗡嗡的
    听不清 你明天上午打吧"), with no pitch after it, is the line or the moment, not the caller;
    and "I hear you now" resolves a cannot-hear only ("didn't catch half of that" stays); a
    model's "child" on a goodbye is no signal (`_own_signal_v4`)."""
    customer = list(ctx.customer_turns())
    own = _own_signal_v4 if v4 else _own_signal
    for lexicon in persistent:
        found = _first_own(customer, lexicon, own)
        if found:
            evidence = (found[1].hit_evidence(found[2]),)
            return item(False, evidence, f"competence.{lexicon}", said=quote(found))
    for lexicon in RESOLVABLE:
        hits = [
            t for t in customer if _first_own([t], lexicon, own) and not (v4 and _put_off(ctx, t))
        ]
        if not hits:
            continue
        last = hits[-1]
        after = [t for t in customer if t.index > last.index]
        resolved = first_hit(after, "understood")
        if v4 and lexicon == "cannot_hear":
            resolved = resolved or first_hit(after, "hears_now")
        if resolved is None:
            found = _first_own([last], lexicon, own)
            assert found is not None
            evidence = (found[1].hit_evidence(found[2]),)
            return item(False, evidence, f"competence.{lexicon}", said=quote(found))
    return item(True, (), "competence.ok")


def _put_off(ctx: CallContext, turn: Turn) -> bool:
    """The customer asks to talk another time in this turn and the agent pitches nothing after."""
    return turn.has("busy") and not any(ctx.is_pitch(t) for t in ctx.turns[turn.index + 1 :])


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


def _woke_lucid_v4(ctx: CallContext, needed: int) -> bool:
    """As `_woke_lucid`, but what counts as confusion is what the customer says up to their last
    question about the call: "Cool. I'm going back to sleep." after the sale is no confusion;
    and a "没整明白" / "I'm confused" that a later "got it" / "说得清楚" resolves is none either."""
    customer = list(ctx.customer_turns())
    woken = _first_own(customer, "just_woken")
    if woken is None:
        return False
    later = [t for t in customer if t.index > woken[0].index]
    asking = [t for t in later if t.has("question")]
    if len(asking) < needed:
        return False
    during = [t for t in later if t.index <= asking[-1].index]
    if any(t.has("clarify") or t.has("just_woken") for t in during):
        return False
    for turn in during:
        if turn.has("not_understand") and not any(
            t.has("understood") for t in later if t.index > turn.index
        ):
            return False
    return True


@item_check(
    "caller_competent.v4",
    CompetenceParamsV3,
    lexicons=(*_SIGNALS, "clarify", "question", "busy", "hears_now"),
)
def caller_competent_v4(ctx: CallContext, params: CompetenceParamsV3) -> Item:
    """As caller_competent.v3, except that confusion after waking counts up to the customer's
    last question about the call and only unresolved, and a cannot-hear or does-not-understand
    said while putting the call off, with no pitch after it, is not the caller's, and only a
    "hear you now" (`hears_now`) resolves a cannot-hear."""
    woke = _woke_lucid_v4(ctx, params.lucid_questions)
    persistent = tuple(p for p in PERSISTENT if not (woke and p == "just_woken"))
    return _repeats(ctx, params, _competent(ctx, persistent, v4=True))


class CompetenceParamsV5(CompetenceParamsV3):
    cued_child: float = Field(
        0.5, ge=0.0, le=1.0, description="the model's probability of a child on the customer's "
        "answer to an agent's child cue (\"is your mom there?\", \"小朋友\") that counts as a "
        "child: the agent heard one, the model agrees, neither alone is sure",
    )  # fmt: skip


def _cued_child(ctx: CallContext, threshold: float) -> tuple[Turn, Sentence, Hit] | None:
    """A customer turn answering an agent's child cue that the model reads as a child's at
    `threshold` or more (a goodbye says nothing about who speaks, as in `_own_signal_v4`)."""
    for turn in ctx.customer_turns():
        before = ctx.turns[turn.index - 1] if turn.index else None
        if before is None or before.speaker != "agent" or not before.has("child_cue"):
            continue
        for sentence in turn.sentences:
            read = sentence.reading.tasks.get("competence") if sentence.reading else None
            p = read.p("child") if read is not None else 0.0
            if p >= threshold and not sentence.has("goodbye"):
                hit = Hit("child", 0, len(sentence.norm), sentence.text, "model", round(p, 3),
                          "competence=child")  # fmt: skip
                return turn, sentence, hit
    return None


@item_check(
    "caller_competent.v5",
    CompetenceParamsV5,
    lexicons=(*_SIGNALS, "clarify", "question", "busy", "hears_now", "child_cue", "goodbye"),
)
def caller_competent_v5(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v4, and the answer to an agent's child cue that the model reads as a
    child's at `cued_child` counts as a child (the model's reading alone needs the fill
    threshold of rules/understanding.yaml)."""
    found = caller_competent_v4(ctx, params)
    if not found.passed:
        return found
    cued = _cued_child(ctx, params.cued_child)
    if cued is None:
        return found
    return item(False, (cued[1].hit_evidence(cued[2]),), "competence.child", said=quote(cued))
