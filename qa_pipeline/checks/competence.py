"""Criterion 2, caller competent: no sign the customer cannot fully understand."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks import speakers
from qa_pipeline.checks.common import first_hit, item, quote
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.disclosures import said_method
from qa_pipeline.checks.registry import item_check
from qa_pipeline.text.lexicon import Hit
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
    return speakers.about_self(sentence, hit)


def _own_signal_v4(sentence: Sentence, hit: Hit) -> bool:
    """`_own_signal`, except that a model's "child" on a goodbye is no signal (the heads read a
    bare "okay bye bye" / "嗯 拜拜" as a child's; a goodbye says nothing about who speaks) and a
    signal said in the first person is always the caller's."""
    if hit.source == "model":
        return not (hit.lexicon == "child" and sentence.has("goodbye"))
    # A signal said in the first person is the caller's, whatever third person came earlier in an
    # unpunctuated clause ("是我爷爷的 我爷爷在睡觉 我上一年级了").
    return bool(_FIRST_PERSON.match(hit.text)) or speakers.about_self(sentence, hit)


_FIRST_PERSON = re.compile(r"(?:我|俺|i\b|i'm\b|i've\b)", re.IGNORECASE)


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
    if not v4:
        return _judged(customer, persistent, _own_signal, _never, hears_now=False)
    return _judged(customer, persistent, _own_signal_v4, partial(_put_off, ctx), hears_now=True)


def _never(turn: Turn) -> bool:
    return False


Resolves = Callable[[str, Turn, list[Turn]], bool]  # (lexicon, its last turn, turns after)


def _unresolved(lexicon: str, last: Turn, after: list[Turn]) -> bool:
    return False


def _judged(
    customer: list[Turn],
    persistent: tuple[str, ...],
    own: Callable[[Sentence, Hit], bool],
    excused: Callable[[Turn], bool],
    hears_now: bool,
    excused_hearing: Callable[[Turn], bool] = _never,
    resolves: Resolves = _unresolved,
) -> Item:
    """The caller's first own persistent signal fails; else the last turn with a resolvable
    signal that is not `excused` (the line or the moment, not the caller; a cannot-hear also
    not `excused_hearing`) fails unless a later turn resolves it (`understood`; with
    `hears_now`, "I hear you now" a cannot-hear too; or `resolves`)."""
    for lexicon in persistent:
        found = _first_own(customer, lexicon, own)
        if found:
            evidence = (found[1].hit_evidence(found[2]),)
            return item(False, evidence, f"competence.{lexicon}", said=quote(found))
    for lexicon in RESOLVABLE:
        hits = [
            t
            for t in customer
            if _first_own([t], lexicon, own)
            and not excused(t)
            and not (lexicon == "cannot_hear" and excused_hearing(t))
        ]
        if not hits:
            continue
        last = hits[-1]
        after = [t for t in customer if t.index > last.index]
        resolved = first_hit(after, "understood")
        if hears_now and lexicon == "cannot_hear":
            resolved = resolved or first_hit(after, "hears_now")
        if resolved is None and not resolves(lexicon, last, after):
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
    return _counted_repeats(list(ctx.customer_turns()), params, found, _own_signal)


def _counted_repeats(
    customer: list[Turn],
    params: CompetenceParams,
    found: Item,
    own: Callable[[Sentence, Hit], bool],
    excused: Callable[[Turn], bool] | None = None,
) -> Item:
    """`found` when it failed; else a fail when `params.repeats` or more of `customer`'s turns
    ask the agent to repeat or who is calling (`own` decides whose words a request is; a turn
    `excused` says is the moment's, not the caller's, does not count)."""
    if not found.passed:
        return found
    asking = [
        hit
        for turn in customer
        if not (excused is not None and excused(turn))
        and (hit := _first_own([turn], "clarify", own)) is not None
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
    return _lucid_after(list(ctx.customer_turns()), needed, since=None)


def _asked(turn: Turn) -> bool:
    return turn.has("question")


def _lucid_after(
    customer: list[Turn], needed: int, since: int | None, asks: Callable[[Turn], bool] = _asked
) -> bool:
    """`needed` questions after waking (after turn `since` too, when given), with no request to
    repeat, no more sleep and no unresolved not-understand up to the last turn that `asks`."""
    woken = _first_own(customer, "just_woken")
    if woken is None:
        return False
    later = [t for t in customer if t.index > woken[0].index]
    after = [t for t in later if since is None or t.index > since]
    if sum(_asked(t) for t in after) < needed:
        return False
    return _clear_until(later, max(t.index for t in after if asks(t)))


def _clear_until(later: list[Turn], last: int) -> bool:
    """No request to repeat, no more sleep and no unresolved not-understand in `later` up to
    turn `last`."""
    during = [t for t in later if t.index <= last]
    if any(t.has("clarify") or t.has("just_woken") for t in during):
        return False
    return not any(
        turn.has("not_understand")
        and not any(t.has("understood") for t in later if t.index > turn.index)
        for turn in during
    )


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


def _cued_child(
    ctx: CallContext, threshold: float, customer: Iterable[Turn] | None = None
) -> tuple[Turn, Sentence, Hit] | None:
    """A customer turn answering an agent's child cue that the model reads as a child's at
    `threshold` or more (a goodbye says nothing about who speaks, as in `_own_signal_v4`).
    `customer`: the turns to look in (all the customer's by default)."""
    for turn in ctx.customer_turns() if customer is None else customer:
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


# --- v6 ------------------------------------------------------------------------------------------


def _speaker_turns(ctx: CallContext) -> list[Turn]:
    """The customer turns of whoever is on the line last: after a handover ("老婆子！找你的！
    …哎呀你拿去听，我又听不清楚"), the first speaker's signals are not the new speaker's."""
    customer = list(ctx.customer_turns())
    return speakers.after(customer, speakers.handover(customer))


def _own_signal_v6(adult: bool) -> Callable[[Sentence, Hit], bool]:
    """`_own_signal_v4`, and a child read by the model alone is no signal from a customer who
    states an adult age ("我二十六了", "I'm fifty-two")."""

    def own(sentence: Sentence, hit: Hit) -> bool:
        if adult and speakers.model_child(hit):
            return False
        return _own_signal_v4(sentence, hit)

    return own


def _no_pitch_after(ctx: CallContext, turn: Turn) -> bool:
    return not any(ctx.is_pitch(t) for t in ctx.turns[turn.index + 1 :])


def _line_trouble(ctx: CallContext, customer: list[Turn], turn: Turn) -> bool:
    """A cannot-hear or does-not-understand after which nothing is pitched or booked and the
    customer puts the call off or ends it ("听不清 挂了挂了", "听不清楚啦！我在海上…过两天回来
    再说"): the line or the moment, not the caller (v4 took only a put-off in the same turn). A sale
    booked after it ("Can't hear you." "You're all set then. Bye." "Bye.") is sold to a caller
    who could not hear, whatever goodbye ends it."""
    ending = any(t.has("busy") or t.has("goodbye") for t in customer if t.index >= turn.index)
    return ending and _no_pitch_after(ctx, turn) and not _booked_after(ctx, turn)


def _booked_after(ctx: CallContext, turn: Turn) -> bool:
    """The agent says after `turn` that the service is or will be opened (`ctx.bookings`, as
    call_outcome.v1 reads a sale)."""
    return any(booked.index > turn.index for booked, _, _ in ctx.bookings)


def _woke_restates(ctx: CallContext, customer: list[Turn]) -> bool:
    """Woken, then pitched, and the customer says the price back with its period after the
    pitch, never asking the time or what was said, nor saying they do not follow, after it ("nine
    ninety nine a month next cycle got it"): awake enough to weigh the offer."""
    since = _since_pitch_after_waking(ctx, customer)
    return since is not None and _restates_price(ctx, since) and _unconfused(since)


def _since_pitch_after_waking(ctx: CallContext, customer: list[Turn]) -> list[Turn] | None:
    """The customer's turns after the pitch, when they said they were woken before it; else
    None."""
    woken = _first_own(customer, "just_woken", _own_signal_v4)
    pitch = ctx.pitch_start
    if woken is None or pitch is None or pitch.index < woken[0].index:
        return None
    return [t for t in customer if t.index > pitch.index]


def _unconfused(turns: list[Turn]) -> bool:
    return not any(_confused(s) for t in turns for s in t.sentences)


def _woken_calm(ctx: CallContext, customer: list[Turn]) -> bool:
    """Woken, but not confused: nothing is pitched after the customer says they were asleep and
    from then on they never ask what was said or the time, nor say they do not follow ("我上夜班
    的，七点才睡下，你打么子电话咯！"); SPEC fails "just woken and confused", not being woken."""
    woken = _first_own(customer, "just_woken", _own_signal_v4)
    if woken is None or not _no_pitch_after(ctx, woken[0]):
        return False
    since = [t for t in customer if t.index >= woken[0].index]
    return not any(_confused(s) for t in since for s in t.sentences)


def _confused(sentence: Sentence) -> bool:
    """Asks what was said or who calls, says they do not follow, or asks the time (现在几点了？):
    the wording counts even where the model read the sentence as woken instead."""
    said = any(sentence.has(n) or sentence.rule_hits(n) for n in ("clarify", "not_understand"))
    return said or (sentence.has("just_woken") and sentence.is_question)


def _woke_lucid_v6(ctx: CallContext, customer: list[Turn], needed: int) -> bool:
    """`_woke_lucid_v4`, counting only questions from the pitch on, about the offer: "我女儿呢？
    是不是医院打来的？" before anything is offered is a confused caller's, not a lucid one's."""
    pitch = ctx.pitch_start
    return pitch is not None and _lucid_after(customer, needed, since=pitch.index)


@item_check(
    "caller_competent.v6",
    CompetenceParamsV5,
    lexicons=(
        *_SIGNALS, "clarify", "question", "busy", "hears_now", "child_cue", "goodbye",
        "handover", "adult", "sale_confirmed",
    ),
)  # fmt: skip
def caller_competent_v6(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v5, except that: only the customer who is on the line after a
    handover is judged; a model's child reading does not count from a customer who states an
    adult age; a cannot-hear or does-not-understand after which nothing is pitched and the
    customer puts the call off or ends it is the line; a woken customer who is pitched nothing
    after it and shows no confusion is not "just woken and confused"; and questions show a
    woken customer lucid only from the pitch on."""
    customer = _speaker_turns(ctx)
    own = _own_signal_v6(speakers.states_adult(customer))
    woke = _woke_lucid_v6(ctx, customer, params.lucid_questions) or _woken_calm(ctx, customer)
    persistent = tuple(p for p in PERSISTENT if not (woke and p == "just_woken"))
    excused = partial(_line_trouble, ctx, customer)
    found = _judged(customer, persistent, own, excused, hears_now=True)
    found = _counted_repeats(customer, params, found, own)
    return _unless_cued_child(ctx, params, customer, found)


def _unless_cued_child(
    ctx: CallContext, params: CompetenceParamsV5, customer: list[Turn], found: Item
) -> Item:
    """`found` when it failed; else a fail on the customer's answer to an agent's child cue,
    unless the customer states an adult age (v6, v7)."""
    if not found.passed:
        return found
    cued = _cued_child(ctx, params.cued_child, customer)
    if cued is None or speakers.states_adult(customer):
        return found
    return item(False, (cued[1].hit_evidence(cued[2]),), "competence.child", said=quote(cued))


# --- v7 ------------------------------------------------------------------------------------------

_V7_LEXICONS = ("memory_loss", "noisy_place", "grasped", "deny")


def _noisy_moment(turn: Turn) -> bool:
    """A cannot-hear said with where the customer is ("工地上乱哄哄的你大声点", "骑车呢风大"):
    the place drowns the line, the caller's hearing is not in question."""
    return any(s.rule_hits("noisy_place") for s in turn.sentences)


def _restates_price(ctx: CallContext, turns: Iterable[Turn], bare: bool = False) -> bool:
    """The customer says the campaign's price back with its period, neither asking it nor
    asking what was said ("五块一个月，一个月以后才收钱"): they heard it, so a cannot-hear before
    it was resolved by repeating. A wrong amount ("五毛钱一个月") or "五块 么子五块" is no proof.
    `bare`: the amount alone counts too in a turn that asks and mistakes nothing ("Oh, a dollar
    ninety-nine. No, no, I don't need no song.")."""
    price = ctx.campaign.price.amount
    return any(
        abs(m.amount - price) < 0.005
        and (m.period is not None or (bare and not any(_asks_or_confused(x) for x in t.sentences)))
        for t in turns
        for s in t.sentences
        if not s.is_question and not _confused(s)
        for m in s.money
    )


def _restates_terms(ctx: CallContext, turns: Iterable[Turn]) -> bool:
    """The customer says back the price with its period or a way to cancel ("TD12121发10001",
    "Text STOP to one two one two one. Or ring six one one."), neither asking it nor confused:
    they heard the offer and followed it (`caller_competent.v15`)."""
    # A hotline's number heard as a sum ("10000听成一万块") is a mishearing, not the number.
    hotlines = {m.number for m in ctx.campaign.cancel_methods if m.kind == "hotline"}
    said_cancel = any(
        said_method(ctx, s) and not any(f"{m.amount:g}" in hotlines for m in s.money)
        for t in turns
        for s in t.sentences
        if not s.is_question and not _confused(s)
    )
    return said_cancel or _restates_price(ctx, turns)


def _asks_or_confused(sentence: Sentence) -> bool:
    return sentence.is_question or _confused(sentence)


def _grasped_after(
    ctx: CallContext, customer: list[Turn], turn: Turn, strict: bool = False
) -> bool:
    """After a does-not-understand, the agent explains and the customer's next turn picks it up
    ("哦，我在浙江做工，…是要打。"), asking nothing and showing no new confusion. `strict`: not in
    a sentence that also agrees to the offer ("oh alright yes put it on then" picks up nothing)."""
    later = [t for t in customer if t.index > turn.index]
    if not later or not ctx.previous_agent_turn(later[0]):
        return False
    nxt = later[0]
    confused = any(_confused(s) for s in nxt.sentences)
    return not confused and any(
        s.rule_hits("grasped") and not (strict and s.has("consent_strong")) for s in nxt.sentences
    )


def _woke_refuses(ctx: CallContext, customer: list[Turn]) -> bool:
    """Woken, then pitched, and from the pitch on the customer refuses in words and never asks
    what was said, the time, nor says they do not follow ("我不要。…我说了不要，别再打了。"): a
    clear refusal is no "just woken and confused"."""
    since = _since_pitch_after_waking(ctx, customer)
    if since is None:
        return False
    refused = any(not s.is_question and s.rule_hits("deny") for t in since for s in t.sentences)
    return refused and _unconfused(since)


@dataclass(frozen=True)
class _Since:
    """What later versions changed in v7's judgment, one switch each."""

    strict_grasp: bool = False  # v9: `_grasped_after`'s `strict`
    noisy_repeats: bool = False  # v10: a request to repeat over a noisy place is not counted
    bare_price: bool = False  # v11: `_restates_price`'s `bare`
    woke_restates: bool = False  # v13: `_woke_restates`
    terms_back: bool = False  # v15: terms said back resolve a cannot-hear or not-understand


# Each version's switches are the one before's plus its own.
_V9 = _Since(strict_grasp=True)
_V10 = replace(_V9, noisy_repeats=True)
_V11 = replace(_V10, bare_price=True)
_V13 = replace(_V11, woke_restates=True)
_V15 = replace(_V13, terms_back=True)


def _judged_v7(
    ctx: CallContext,
    customer: list[Turn],
    persistent: tuple[str, ...],
    own: Callable[[Sentence, Hit], bool],
    since: _Since,
) -> Item:
    """`_judged` as v6 runs it, except that a cannot-hear said with a noisy place is the moment,
    a price said back resolves a cannot-hear, and an explanation picked up (`grasped`) a
    does-not-understand."""

    def resolves(lexicon: str, last: Turn, after: list[Turn]) -> bool:
        terms = since.terms_back and _restates_terms(ctx, after)
        if lexicon == "cannot_hear":
            return _restates_price(ctx, after, since.bare_price) or terms
        return _grasped_after(ctx, customer, last, since.strict_grasp) or terms

    excused = partial(_line_trouble, ctx, customer)
    return _judged(customer, persistent, own, excused, True, _noisy_moment, resolves)


def _stated_child(customer: list[Turn], found: Item) -> Item:
    """A school grade or age the customer states of themselves ("我今年初二", "我上三年级了")
    is a child whatever the model read the sentence as: the words are the fact."""
    for turn in customer:
        for sentence in turn.sentences:
            for hit in sentence.rule_hits("child"):
                if _FIRST_PERSON.match(hit.text):
                    evidence = (sentence.hit_evidence(hit),)
                    said = quote((turn, sentence, hit))
                    return item(False, evidence, "competence.child", said=said)
    return found


_V7_ALL = (
    *_SIGNALS, "clarify", "question", "busy", "hears_now", "child_cue", "goodbye",
    "handover", "adult", "sale_confirmed", *_V7_LEXICONS,
)  # fmt: skip
_Lucid = Callable[[CallContext, list[Turn], int], bool]


@item_check("caller_competent.v7", CompetenceParamsV5, lexicons=_V7_ALL)
def caller_competent_v7(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v6, and: a failing memory (`memory_loss`) lasts the call like being
    drunk; a cannot-hear said with a noisy place is the moment, and one followed by the customer
    saying the price back is resolved; a does-not-understand whose explanation the customer picks
    up ("哦，…") is resolved; a woken customer who, pitched, refuses clearly without confusion is
    not "just woken and confused"."""
    return _competent_v7(ctx, params, _woke_lucid_v6)


def _competent_v7(
    ctx: CallContext, params: CompetenceParamsV5, lucid: _Lucid, since: _Since = _Since()
) -> Item:
    """v7's judgment, with `lucid` telling whether a woken customer showed themselves lucid and
    `since` what later versions changed."""
    customer = _speaker_turns(ctx)
    own = _own_signal_v6(speakers.states_adult(customer))
    woke = (
        lucid(ctx, customer, params.lucid_questions)
        or _woken_calm(ctx, customer)
        or _woke_refuses(ctx, customer)
        or (since.woke_restates and _woke_restates(ctx, customer))
    )
    persistent = tuple(p for p in PERSISTENT if not (woke and p == "just_woken"))
    found = _judged_v7(ctx, customer, (*persistent, "memory_loss"), own, since)
    if found.passed and not speakers.states_adult(customer):
        found = _stated_child(customer, found)
    if found.passed:
        excused = _noisy_moment if since.noisy_repeats else None
        found = _counted_repeats(customer, params, found, own, excused)
    return _unless_cued_child(ctx, params, customer, found)


# --- v8 ------------------------------------------------------------------------------------------


def _asks(turn: Turn) -> bool:
    """The turn asks something: a question, or a request to repeat or say who calls ("sorry who
    is this"), which is one whether or not a recognizer wrote its question mark."""
    return turn.has("question") or turn.has("clarify")


def _woke_lucid_v8(ctx: CallContext, customer: list[Turn], needed: int) -> bool:
    """`_woke_lucid_v6`, with a request to repeat or say who calls among the turns that bound the
    confusion looked at: without its "?" ("seven okay sorry who is this"), v7 stopped at an
    earlier question and read the caller lucid."""
    pitch = ctx.pitch_start
    return pitch is not None and _lucid_after(customer, needed, since=pitch.index, asks=_asks)


@item_check("caller_competent.v8", CompetenceParamsV5, lexicons=_V7_ALL)
def caller_competent_v8(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v7, except that a woken customer's confusion is looked at up to their
    last question or request to repeat or say who calls, whether or not a recognizer wrote its
    question mark: "sorry who is this" after the pitch shows them still confused."""
    return _competent_v7(ctx, params, _woke_lucid_v8)


# --- v9 ------------------------------------------------------------------------------------------


_V9_LEXICONS = (
    *_V7_ALL, "medicated", "age_question", "age_answer", "drink_question", "consent_strong",
)  # fmt: skip


@item_check("caller_competent.v9", CompetenceParamsV5, lexicons=_V9_LEXICONS)
def caller_competent_v9(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v8, and: the caller's own mind-clouding medication (`medicated`:
    "they got me on these pain pills", 麻药还没过) lasts the call like drink; a young age given
    bare in answer to the agent's age question ("How old are you?" "Six and a half.") is a
    child's; and a first answer to the agent's "have you been drinking?" that does not deny it
    ("a little bit, a natty boh or six") is a drinker's; and an explanation is not picked up in
    a sentence that agrees to the offer ("oh alright yes put it on then")."""
    return _competent_v9(ctx, params, _V9)


@item_check("caller_competent.v10", CompetenceParamsV5, lexicons=_V9_LEXICONS)
def caller_competent_v10(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v9, except that a request to repeat said with a noisy place ("多少？
    您再说一遍，这电视吵的", "say again, the traffic's loud") is the moment, not the caller, and
    does not count toward `repeats` (v7 already excuses a cannot-hear said so)."""
    return _competent_v9(ctx, params, _V10)


@item_check("caller_competent.v11", CompetenceParamsV5, lexicons=_V9_LEXICONS)
def caller_competent_v11(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v10, except that a cannot-hear is also resolved by the price said back
    without its period in a turn that asks and mistakes nothing ("Oh, a dollar ninety-nine. No,
    no, I don't need no song."): v10 wanted "a month" beside it."""
    return _competent_v9(ctx, params, _V11)


@item_check(
    "caller_competent.v12", CompetenceParamsV5, lexicons=(*_V9_LEXICONS, "who_again", "wary")
)
def caller_competent_v12(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v11, and a customer who asks again who is calling after the agent
    stated the price ("yes put it on ... and now who did you say you were again", "你你 你是哪个
    哪个单位的来着") has lost track of who they are agreeing with; not a wary customer checking
    the caller (`wary`: "is this a scam?", "我要核实一下"). On the read call sets, 13 calls asked
    so and all 13 were labeled not competent (2026-12-06)."""
    return _competent_v12(ctx, params, _V11)


@item_check(
    "caller_competent.v13", CompetenceParamsV5, lexicons=(*_V9_LEXICONS, "who_again", "wary")
)
def caller_competent_v13(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v12, except that a woken customer who, pitched, says the price back
    with its period and shows no confusion after the pitch ("man i just woke up ... go ahead
    talk" ... "nine ninety nine a month next cycle got it") is awake enough: not "just woken and
    confused"."""
    return _competent_v12(ctx, params, _V13)


_V14_LEXICONS = (*_V9_LEXICONS, "who_again", "wary", "mistaken_caller")


@item_check("caller_competent.v14", CompetenceParamsV5, lexicons=_V14_LEXICONS)
def caller_competent_v14(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v13, and a customer who takes the caller for someone they know or
    the call for another service (`mistaken_caller`: "Is that Gaz?", "Is this the taxi?",
    "侬是居委会额小王伐？") after their first turn, or in two turns: the agent's word on who
    is calling did not reach them. A first turn's guess the agent's introduction clears ("Is
    that you, Kevin?" "No, this is Aroha from Northwind." "Oh. The phone company.") is not;
    nor a wary customer's check (`wary`)."""
    return _competent_v14(ctx, params, _V13)


@item_check("caller_competent.v15", CompetenceParamsV5, lexicons=_V14_LEXICONS)
def caller_competent_v15(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v14, except that a cannot-hear or a does-not-understand is also
    resolved when the customer later says back the price with its period or a way to cancel,
    neither asking it nor confused ("Text STOP to one two one two one. Or ring six one one.",
    "5块一个月，12月18号开始扣，发TDCL退"): they heard and followed the offer."""
    return _competent_v14(ctx, params, _V15)


@item_check(
    "caller_competent.v16",
    CompetenceParamsV5,
    lexicons=(*_V14_LEXICONS, "drink_past", "drink_question"),
)
def caller_competent_v16(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v15, except that a drink, a language barrier or repeated requests to
    say it again are overruled when, from the first of them on, the customer says back the price
    with its period or a way to cancel and asks nothing again nor says they do not follow after
    that ("I'm like three beers deep ... one ninety nine a month after the seventh", "我是越南人，
    中文不太好 … 一个月三块，第三十一天要钱", "two what" … "one two one two one got it"): they
    followed the offer. A child, a young age, medication and an answer to
    "have you been drinking?" stand. A drink said to be last night's or a habit (`drink_past`:
    "昨晚上赔客户喝多了 脑壳疼"), with nothing confused from then on, is no drunk caller either."""
    found = _competent_v14(ctx, params, _V15)
    if found.passed or found.why is None or found.why.key not in _FOLLOWABLE:
        return found
    if found.why.key == "competence.drunk" and any(
        t.has("drink_question") for t in ctx.agent_turns()
    ):
        return found  # asked and not denied, or said beside the question: it stands
    if not found.evidence:
        return found
    start = found.evidence[0].start
    since = [t for t in _speaker_turns(ctx) if t.end >= start]
    said = found.why.params.get("said", "")
    if _followed(ctx, since):
        return item(True, found.evidence, "competence.followed", said=said)
    drunk = found.why.key == "competence.drunk"
    if drunk and since and _unconfused(since) and _drink_past(since[0]):
        return item(True, found.evidence, "competence.not_now", said=said)
    return found


def _followed(ctx: CallContext, since: list[Turn]) -> bool:
    """A turn of `since` says the terms back, and nothing after it is confused: whatever was
    asked again before, the terms were heard in the end ("two what" … "one two one two one got
    it"). Read from the last turn back, each turn once."""
    return _shown_after(since, lambda turn: _restates_terms(ctx, [turn]), _unconfused_turn)


def _unconfused_turn(turn: Turn) -> bool:
    return _unconfused([turn])


def _shown_after(
    since: list[Turn], shows: Callable[[Turn], bool], clear: Callable[[Turn], bool]
) -> bool:
    """A turn of `since` `shows` it, and every turn after it is `clear`. Read from the last turn
    back, each turn once."""
    after_clear = True
    for turn in reversed(since):
        if after_clear and shows(turn):
            return True
        after_clear = after_clear and clear(turn)
    return False


def _drink_past(turn: Turn) -> bool:
    """A sentence of the signal's turn that says the drinking was last night or is a habit."""
    return any(s.has("drunk") and s.has("drink_past") for s in turn.sentences)


# The signals a customer can show they followed the call through (`caller_competent.v16`).
_FOLLOWABLE = ("competence.drunk", "competence.language_barrier", "competence.repeats")


def _competent_v14(ctx: CallContext, params: CompetenceParamsV5, since: _Since) -> Item:
    found = _competent_v12(ctx, params, since)
    if not found.passed:
        return found
    mistaken = mistaken_caller(_speaker_turns(ctx))
    if mistaken is None:
        return found
    evidence = (mistaken[1].hit_evidence(mistaken[2]),)
    return item(False, evidence, "competence.mistaken_caller", said=quote(mistaken))


def mistaken_caller(customer: list[Turn]) -> tuple[Turn, Sentence, Hit] | None:
    """The customer's own mistaking of the caller after their first turn, or a second one."""
    own = _own_signal_v6(speakers.states_adult(customer))
    found = [
        hit
        for turn in customer
        if not turn.has("wary")
        for hit in [_first_own([turn], "mistaken_caller", own)]
        if hit is not None
    ]
    if not found:
        return None
    first = found[0]
    if customer and first[0] is customer[0]:
        return found[1] if len(found) > 1 else None
    return first


def _competent_v12(ctx: CallContext, params: CompetenceParamsV5, since: _Since) -> Item:
    found = _competent_v9(ctx, params, since)
    if not found.passed:
        return found
    lost = _lost_track(ctx, _speaker_turns(ctx))
    if lost is None:
        return found
    return item(False, (lost[1].hit_evidence(lost[2]),), "competence.lost_track", said=quote(lost))


def _lost_track(ctx: CallContext, customer: list[Turn]) -> tuple[Turn, Sentence, Hit] | None:
    """The first own who-is-calling question after the first price, in a turn that is not wary."""
    price = ctx.first_price
    if price is None:
        return None
    own = _own_signal_v6(speakers.states_adult(customer))
    after = [t for t in customer if t.index > price.index and not t.has("wary")]
    return _first_own(after, "who_again", own)


def _competent_v9(ctx: CallContext, params: CompetenceParamsV5, since: _Since) -> Item:
    found = _competent_v7(ctx, params, _woke_lucid_v8, since)
    if not found.passed:
        return found
    customer = _speaker_turns(ctx)
    own = _own_signal_v6(speakers.states_adult(customer))
    medicated = _first_own(customer, "medicated", lambda s, h: own(s, h) or _given_me(h))
    if medicated is not None:
        evidence = (medicated[1].hit_evidence(medicated[2]),)
        return item(False, evidence, "competence.medicated", said=quote(medicated))
    young = speakers.stated_young_age(ctx, customer)
    if young is not None:
        return item(
            False, (young[1].hit_evidence(young[2]),), "competence.child", said=quote(young)
        )
    return _owns_drinking(ctx, customer) or found


_GIVEN_ME = re.compile(r"(?:got|put|have|has|had|given) me\b")


def _given_me(hit: Hit) -> bool:
    """Medication given to the caller ("they got me on these pain pills"), whoever gave it."""
    return bool(_GIVEN_ME.match(hit.text))


def _owns_drinking(ctx: CallContext, customer: list[Turn]) -> Item | None:
    """The customer's first answer to "have you been drinking?" that does not deny it."""
    for turn in speakers.first_answer(ctx, customer, "drink_question"):
        first = turn.sentences[0]
        if not first.rule_hits("deny") and not first.is_question:
            evidence = (turn.span_evidence(),)
            return item(False, evidence, "competence.drunk", said=f"“{first.text}”")
    return None


# v16's overrulings of a drink or a language barrier, which a failing memory outweighs (v17).
_OVERRULED = ("competence.followed", "competence.not_now")


def _takes_up_offer(ctx: CallContext, turn: Turn) -> bool:
    """A statement of the customer's that names the product or one of its pitch terms, neither
    a question nor confused ("天气预报？我天天看新闻联播后头那个天气预报", "俺家有个小收音机"):
    they heard what was offered."""
    return any(ctx.pitch_terms.search(s.norm) and not _asks_or_confused(s) for s in turn.sentences)


def _heard_offer(ctx: CallContext, since: list[Turn]) -> bool:
    """A turn of `since`, after an agent turn that pitched, takes up the offer, and nothing after
    it is confused (read from the last turn back, as `_followed`)."""

    def shows(turn: Turn) -> bool:
        before = ctx.previous_agent_turn(turn)
        return before is not None and ctx.is_pitch(before) and _takes_up_offer(ctx, turn)

    return _shown_after(
        since, shows, lambda turn: _unconfused([turn]) and not turn.has("cannot_hear")
    )


@item_check(
    "caller_competent.v17",
    CompetenceParamsV5,
    lexicons=(*_V14_LEXICONS, "drink_past", "drink_question"),
)
def caller_competent_v17(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v16, except that a cannot-hear is also resolved when, answering a
    pitch after it, the customer takes up the offer in a statement that names the product or a
    pitch term, and nothing after that is confused or unheard ("你说大点声，我这耳朵不大好使" …
    "天气预报？我天天看新闻联播后头那个天气预报，还花那钱干啥"): the agent spoke up and was
    heard. And a drink the customer followed through (v16) still fails when they say their
    memory will not hold it ("ive had a few now … i wont remember any of this tomorrow")."""
    found = caller_competent_v16(ctx, params)
    if found.passed and found.why is not None and found.why.key in _OVERRULED:
        forgets = _first_own(_speaker_turns(ctx), "memory_loss", _own_signal_v4)
        if forgets is not None:
            evidence = (forgets[1].hit_evidence(forgets[2]),)
            return item(False, evidence, "competence.memory_loss", said=quote(forgets))
        return found
    if found.passed or found.why is None or found.why.key != "competence.cannot_hear":
        return found
    if not found.evidence:
        return found
    start = found.evidence[0].start
    since = [t for t in _speaker_turns(ctx) if t.start >= start]
    if _heard_offer(ctx, since[1:]):
        return item(
            True, found.evidence, "competence.heard_offer", said=found.why.params.get("said", "")
        )
    return found


@item_check(
    "caller_competent.v18",
    CompetenceParamsV5,
    lexicons=(*_V14_LEXICONS, "drink_past", "drink_question", "what_opened", "sale_confirmed"),
)
def caller_competent_v18(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v17, except that a customer who asks, after the agent booked the
    service, what was just put on ("Wait. What did I just say yes to? … I don't even know what
    day it is", "我都不晓得我答应了什么 我脑壳是昏的") did not follow the call, however clear
    their yes: the writers of seven calls so read it six times (their consent split 3 to 4)."""
    found = caller_competent_v17(ctx, params)
    if not found.passed or not ctx.bookings:
        return found
    booked = ctx.bookings[0][0].index
    later = [t for t in _speaker_turns(ctx) if t.index > booked]
    asked = _first_own(later, "what_opened", _own_signal_v4)
    if asked is None:
        return found
    evidence = (asked[1].hit_evidence(asked[2]),)
    return item(False, evidence, "competence.unknowing", said=quote(asked))


# --- v19 -----------------------------------------------------------------------------------------


def _slot(sentence: Sentence, hit: Hit) -> tuple[str, ...]:
    """Who or what the customer took the call for: the hit's words less its frame
    (`mistaken_frame`: "is that you", 你是…的吧), as the words to look for again."""
    rest = sentence.pack.lexicons["mistaken_frame"].pattern.sub(" ", hit.text)
    pieces = [p for p in re.split(r"[\W\d_]+", rest) if p]
    if sentence.pack.lang.joiner == "":  # unspaced: a piece's first two characters (乡上, 居委)
        return tuple(p[:2] for p in pieces if len(p) >= 2)
    return tuple(p for p in pieces if len(p) >= 3)  # spaced: whole words (darren, transfer)


def _said_again(sentence: Sentence, word: str) -> bool:
    if sentence.pack.lang.joiner == "":
        return word in sentence.norm
    return re.search(rf"\b{re.escape(word)}\b", sentence.norm) is not None


def mistaken_persists(
    ctx: CallContext, customer: list[Turn]
) -> tuple[Sentence, Hit, Sentence, str] | None:
    """The customer takes the call for someone or something else (`mistaken_caller`, or a
    guess such as "Is this about the transfer?", `mistaken_guess`), and names that again in a
    later turn, after the agent spoke, though the agent never said it ("你是乡上的吧？" …
    "这是乡上给我们老汉们弄的吧？", "Is that you, Darren, love?" … "Whatever you and Darren
    think is best"): the agent's word on who calls did not reach them, first turn or not.
    Returns the mistaking, its hit, the later sentence and the word said again."""
    agent = [s.norm for t in ctx.agent_turns() for s in t.sentences]
    own = _own_signal_v6(speakers.states_adult(customer))
    for n, turn in enumerate(customer):
        if turn.has("wary"):
            continue
        for sentence in turn.sentences:
            for hit in (*sentence.hits("mistaken_caller"), *sentence.hits("mistaken_guess")):
                if not own(sentence, hit):
                    continue
                words = [w for w in _slot(sentence, hit) if not any(w in a for a in agent)]
                found = _named_again(customer[n + 1 :], turn, words) if words else None
                if found is not None:
                    return sentence, hit, *found
    return None


def _named_again(later: list[Turn], turn: Turn, words: list[str]) -> tuple[Sentence, str] | None:
    """The first later sentence, after an agent turn, naming one of `words` before the customer
    named the company (`company_intro`: "Oh, Northwind. Kevin's my son, he does the bills":
    the mistake was cleared, and what follows is about someone else)."""
    for other in later:
        for again in other.sentences:
            if again.has("company_intro"):
                return None
            if other.index == turn.index + 1:
                continue  # no agent turn between them
            word = next((w for w in words if _said_again(again, w)), None)
            if word is not None:
                return again, word
    return None


_V19_LEXICONS = (
    *_V14_LEXICONS, "drink_past", "drink_question", "what_opened", "sale_confirmed",
    "mistaken_guess", "mistaken_frame", "company_intro",
)  # fmt: skip


@item_check("caller_competent.v19", CompetenceParamsV5, lexicons=_V19_LEXICONS)
def caller_competent_v19(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v18, and a customer who takes the call for someone or something
    else and names it again later, though the agent never named it (`mistaken_persists`), did
    not follow who was calling, even when the first mistaking was in their first turn."""
    found = caller_competent_v18(ctx, params)
    if not found.passed:
        return found
    persisted = mistaken_persists(ctx, _speaker_turns(ctx))
    if persisted is None:
        return found
    first, hit, again, word = persisted
    evidence = (first.hit_evidence(hit), again.span_evidence(word))
    return item(
        False, evidence, "competence.mistaken_caller", said=f"“{first.text}” … “{again.text}”"
    )


# --- v20 -----------------------------------------------------------------------------------------


def _at_price(amount: float, price: float) -> bool:
    return abs(amount - price) < 0.005


def _amounts(turn: Turn) -> list[tuple[Sentence, float]]:
    return [(s, m.amount) for s in turn.sentences for m in s.money]


def _prices_said(turn: Turn) -> list[tuple[Sentence, float]]:
    """Amounts said as a price: with a period or asked ("一个月三十块？", "Nineteen ninety-nine a
    month?"), not the shop's own "呢包烟二十五蚊" said to someone else."""
    return [
        (s, m.amount)
        for s in turn.sentences
        for m in s.money
        if m.period is not None or s.is_question
    ]


def misheard_price(ctx: CallContext) -> tuple[Sentence, Sentence] | None:
    """The customer says the price back wrong ("三十块？一个月三十块？" for 3元), the agent's next
    turn corrects it (the campaign's price, with a "no" or after an amount like it: "不是三十，
    是3块"; not "It would add $9.99 a month" after "I already pay $60 a month"), and a later
    customer turn still says a wrong price ("要啥要，30块钱1个月，不要不要") and not the right
    one: the price never reached them. An amount the agent said before the first correction is
    no mishearing (the minutes, an extra fee), nor one within a tenth of the price ("ten bucks"
    for $9.99). Returns the first wrong sentence and the one after the correction."""
    price = ctx.campaign.price.amount
    turns = ctx.turns
    said: set[float] = set()
    corrected: Sentence | None = None
    for n, turn in enumerate(turns):
        if turn.speaker == "agent":
            if corrected is None:
                said |= {round(a, 2) for _, a in _amounts(turn)}
            continue
        priced = _prices_said(turn)
        if any(_at_price(a, price) for _, a in priced):
            if corrected is not None:
                return None  # said right after the correction: it reached them
            continue
        wrong = [
            (s, a) for s, a in priced if abs(a - price) > price / 10 and round(a, 2) not in said
        ]
        if not wrong:
            continue
        if corrected is not None:
            return corrected, wrong[0][0]
        reply = turns[n + 1] if n + 1 < len(turns) else None
        if reply is None or reply.speaker != "agent":
            continue
        restated = any(_at_price(a, price) for _, a in _amounts(reply))
        if restated and (reply.has("deny") or _resembles(wrong[0][1], price)):
            corrected = wrong[0][0]
    return None


def _digits(amount: float) -> str:
    return f"{amount:.2f}".replace(".", "").strip("0")


def _resembles(heard: float, price: float) -> bool:
    """An amount a mishearing of the price could give: its digits hold the price's or the other
    way round (30 for 3, 19.99 for 1.99, 33 for 3), unlike a bill of 60 for 9.99."""
    a, b = _digits(heard), _digits(price)
    return bool(a and b) and (a in b or b in a)


# What caller_competent.v20 reads (explicit_consent.v11 reads it too).
V20_LEXICONS = (*_V19_LEXICONS, "deny")


@item_check("caller_competent.v20", CompetenceParamsV5, lexicons=V20_LEXICONS)
def caller_competent_v20(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As caller_competent.v19, and a customer who says the price back wrong, is corrected by the
    agent, and still says a wrong amount later (`misheard_price`) did not take in the price,
    whatever they say of their hearing."""
    found = caller_competent_v19(ctx, params)
    if not found.passed:
        return found
    misheard = misheard_price(ctx)
    if misheard is None:
        return found
    first, again = misheard
    evidence = (first.span_evidence(), again.span_evidence())
    return item(
        False, evidence, "competence.misheard_price", said=f"“{first.text}” … “{again.text}”"
    )


class CompetenceParamsV21(CompetenceParamsV5):
    unfit_at: float | None = Field(
        0.8, gt=0.5, le=1.0, description="the call head's probability that the caller cannot "
        "follow at which it fails a call the rules pass (None: never)",
    )  # fmt: skip
    fit_at: float | None = Field(
        None, gt=0.5, le=1.0, description="the call head's probability that the caller follows "
        "at which it passes a call the rules fail (None: never)",
    )  # fmt: skip


# The competence readings that say a caller cannot follow (not none, clarify or understood).
_UNFIT = ("drunk", "woken", "child", "cannot_hear", "not_understand", "language_barrier")


def _clearest_unfit(ctx: CallContext) -> tuple[Sentence, str, float] | None:
    """The customer sentence the model reads most surely as a caller who cannot follow."""
    best: tuple[Sentence, str, float] | None = None
    for turn in ctx.customer_turns():
        for sentence in turn.sentences:
            found = sentence.reading.tasks.get("competence") if sentence.reading else None
            if found is None:
                continue
            for label in _UNFIT:
                p = found.p(label)
                if best is None or p > best[2]:
                    best = (sentence, label, p)
    return best


@item_check("caller_competent.v21", CompetenceParamsV21, lexicons=V20_LEXICONS)
def caller_competent_v21(ctx: CallContext, params: CompetenceParamsV21) -> Item:
    """As caller_competent.v20, unless the call head (a model of the whole call fitted on the
    labeled call sets, `ctx.call_readings["competence"]`) reads the opposite surely: a caller
    who cannot follow at `unfit_at` fails a call the rules pass (rules see a caller's words one
    at a time, and a muddle in no lexicon slips past them); one who follows at `fit_at` passes
    a call the rules fail (off by default: on the read sets the rules' failures hold up better
    than the head's reading of them)."""
    found = caller_competent_v20(ctx, params)
    p = ctx.call_readings.get("competence")
    if p is None:
        return found
    if found.passed and params.unfit_at is not None and 1.0 - p >= params.unfit_at:
        clearest = _clearest_unfit(ctx)
        if clearest is None:
            return found
        sentence, label, _ = clearest
        evidence = replace(
            sentence.span_evidence(), source="call", confidence=round(1.0 - p, 3), read=label
        )
        return item(False, (evidence,), "competence.call_unfit", read=label,
                    said=f"“{sentence.text}”")  # fmt: skip
    if not found.passed and params.fit_at is not None and p >= params.fit_at:
        seen = tuple(replace(e, source="call", confidence=round(p, 3)) for e in found.evidence)
        said = "; ".join(f"“{e.text}”" for e in found.evidence if e.speaker == "customer")
        return item(True, seen, "competence.call_fit", said=said or "—")
    return found
