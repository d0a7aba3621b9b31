"""Criterion 4, explicit consent: a clear yes to opening the service, after the price, to the
right question, and not taken back."""

from __future__ import annotations

from typing import Literal

from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import item_check
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.verdict.model import Evidence, Item

Reply = Literal["withdrawal", "hedge", "consent", "deny", "affirm", "backchannel"]
# First match wins: a hedge voids a yes in the same turn ("I guess, sign me up"), an explicit
# request beats a refusal word elsewhere in the turn ("不贵，给我开吧").
_ORDER: tuple[Reply, ...] = ("withdrawal", "hedge", "consent", "deny", "affirm", "backchannel")
_LEXICON = {"consent": "consent_strong"}


def classify(turn: Turn) -> tuple[Reply, Sentence, Hit] | None:
    """The strongest dialogue act of a customer turn, ignoring what is asked, not said
    ("那我要是不想要了呢？"); sarcasm is a hedge, asked or not ("好啊，你咋不直接扣我卡呢？")."""
    for sentence in turn.sentences:
        for hit in sentence.hits("sarcasm"):
            return "hedge", sentence, hit
    for reply in _ORDER:
        lexicon = _LEXICON.get(reply, reply)
        for sentence in turn.sentences:
            for hit in sentence.hits(lexicon):
                if not sentence.questioned(hit):
                    return reply, sentence, hit
    return None


def _answers_consent_question(ctx: CallContext, turn: Turn) -> bool:
    asked = ctx.previous_agent_turn(turn)
    return asked is not None and asked.index == turn.index - 1 and asked.has("consent_question")


@item_check(
    "explicit_consent.v1",
    lexicons=(*(_LEXICON.get(r, r) for r in _ORDER), "sarcasm", "consent_question"),
)
def explicit_consent(ctx: CallContext, params: object) -> Item:
    """The customer clearly says yes to opening the service after hearing the price, and does
    not take it back; 嗯 / 随便 / 你看着办 / "I guess" / a yes to another question do not count."""
    price = ctx.first_price
    consent: tuple[Turn, Evidence] | None = None
    early: Evidence | None = None
    weak: Evidence | None = None
    declined: Evidence | None = None
    for turn in ctx.customer_turns():
        act = classify(turn)
        if act is None:
            continue
        kind, sentence, matched = act
        evidence = sentence.hit_evidence(matched)
        if consent is not None:
            # Only an explicit take-back counts: a later "no" may answer "anything else?".
            if kind == "withdrawal":
                return Item(
                    False,
                    (consent[1], evidence),
                    f"the customer took back their yes: “{sentence.text}”",
                )
            continue
        is_yes = kind == "consent" or (kind == "affirm" and _answers_consent_question(ctx, turn))
        if is_yes and (price is None or turn.index < price.index):
            early = early or evidence
        elif is_yes:
            consent = (turn, evidence)
        elif kind in ("hedge", "backchannel") and _answers_consent_question(ctx, turn):
            weak = evidence
        elif kind in ("deny", "withdrawal"):
            declined = evidence
    if consent is not None:
        asked = ctx.previous_agent_turn(consent[0])
        shown = (asked.evidence("consent_question"), consent[1]) if asked else (consent[1],)
        return Item(True, shown, "the customer clearly agreed after hearing the price")
    if early is not None:
        reason = "the customer said yes before hearing the price" + (
            "" if price else " (the price was never stated)"
        )
        return Item(False, (early,), reason)
    if weak is not None:
        return Item(
            False, (weak,), f"only a non-committal answer to the consent question: “{weak.text}”"
        )
    if declined is not None:
        return Item(False, (declined,), "the customer declined")
    questions = [
        t.evidence("consent_question") for t in ctx.agent_turns() if t.has("consent_question")
    ]
    return Item(False, tuple(questions[-1:]), "the customer never agreed to open the service")
