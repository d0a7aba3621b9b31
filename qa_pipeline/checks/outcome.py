"""What happened on the call: a sale, a declined pitch, or no pitch at all."""

from __future__ import annotations

from qa_pipeline.checks.common import first_hit
from qa_pipeline.checks.consent import read_v3, says_yes
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.disclosures import said_method
from qa_pipeline.checks.registry import outcome_check
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.verdict.model import Evidence, Outcome, OutcomeResult
from qa_pipeline.verdict.reasons import Reason


@outcome_check("call_outcome.v1", lexicons=("sale_confirmed",))
def call_outcome(ctx: CallContext, params: object) -> OutcomeResult:
    """sale when the agent says the service has been or will be opened (a statement, not a
    question); declined when a pitch was made without that; no_pitch otherwise."""
    return _call_outcome(ctx, withdrawn=False)


@outcome_check("call_outcome.v2", lexicons=("sale_confirmed", "booking_withdrawn"))
def call_outcome_v2(ctx: CallContext, params: object) -> OutcomeResult:
    """As call_outcome.v1, except that a booking the agent takes back in a later turn ("那就先不
    给您开了", "Okay, I won't add it then") is no sale: a recognizer drops the question mark of
    "那我就给您开通了啊？", and the customer's correction is answered by the agent's withdrawal."""
    return _call_outcome(ctx, withdrawn=True)


@outcome_check("call_outcome.v3", lexicons=("sale_confirmed", "booking_withdrawn", "dnc_note"))
def call_outcome_v3(ctx: CallContext, params: object) -> OutcomeResult:
    """As call_outcome.v2, except that a booking said in the agent's turn right after their own
    note of the refusal ("I'll put a do-not-call note on your number right now." "Yeah, you do
    that." "Done. Have a good afternoon.") is that note made, not a sale."""
    return _call_outcome(ctx, withdrawn=True, noted=True)


@outcome_check(
    "call_outcome.v4",
    lexicons=(
        "sale_confirmed", "booking_withdrawn", "dnc_note", "consent_question", "consent_strong",
        "affirm", "withdrawal", "sarcasm", "hedge", "goodbye",
    ),
)  # fmt: skip
def call_outcome_v4(ctx: CallContext, params: object) -> OutcomeResult:
    """As call_outcome.v3, except that where no booking is found, a request to open it ("go on
    and add it then") or a yes to the consent question, after the price, is a sale when the
    agent's next turn goes on as after one (asks nothing, says no goodbye, takes nothing back)
    and the customer does not take it back, refuse or hedge later: the agent treats it as a
    sale in words no lexicon holds ("Awesome, I'll get that started for you.", "Lovely, that's
    sorted."). A yes answered by "Thanks for your time, bye." stays declined, in doubt."""
    return _call_outcome(ctx, withdrawn=True, noted=True, agreed=True)


@outcome_check(
    "call_outcome.v5",
    lexicons=(
        "sale_confirmed", "booking_withdrawn", "dnc_note", "consent_question", "consent_strong",
        "affirm", "withdrawal", "sarcasm", "hedge", "goodbye", "read_back",
    ),
)  # fmt: skip
def call_outcome_v5(ctx: CallContext, params: object) -> OutcomeResult:
    """As call_outcome.v4, except that a booking phrase after the agent's own "I won't add
    anything" in the same turn books nothing ("I won't add anything. You're all set with the
    app your grandson put on."), and a yes to the agent's reading back of the order with its
    price (`read_back`: "跟您确认一下，开通12121天气预报，每月3元，对吧？" "对，开。") is a sale
    even when the agent then only thanks and says goodbye: the order was read back and
    accepted. A yes to a plain consent question answered by "Great. Thanks for your time, bye."
    stays declined, in doubt."""
    return _call_outcome(ctx, withdrawn=True, noted=True, agreed=True, v5=True)


@outcome_check(
    "call_outcome.v6",
    lexicons=(
        "sale_confirmed", "booking_withdrawn", "dnc_note", "consent_question", "consent_strong",
        "affirm", "withdrawal", "sarcasm", "hedge", "goodbye", "read_back", "trial_context",
        "cancel_context",
    ),
)  # fmt: skip
def call_outcome_v6(ctx: CallContext, params: object) -> OutcomeResult:
    """As call_outcome.v5, except that where no turn is a pitch by the campaign's terms or
    price, an agent statement about the trial or how to cancel (`_terms_told`) is one: the
    product was pitched in words its terms miss ("So every morning at 7 you get a text with the
    weather ... It's just a couple of dollars a month, and it's free for the first month."),
    and a refusal after it declines a pitch."""
    return _call_outcome(ctx, withdrawn=True, noted=True, agreed=True, v5=True, v6=True)


def _terms_told(ctx: CallContext) -> Turn | None:
    """The first agent turn after the customer first spoke that states (not asks) a trial or a
    way to cancel (`_told`), in a turn asking neither who the person is nor for their time."""
    first = next(iter(ctx.customer_turns()), None)
    if first is None:
        return None
    for turn in ctx.agent_turns():
        if turn.index < first.index or turn.has("identity_question") or ctx.asks_permission(turn):
            continue
        if any(not s.is_question and _told(ctx, s) for s in turn.sentences):
            return turn
    return None


def _told(ctx: CallContext, sentence: Sentence) -> bool:
    """A trial with its length or end ("free for the first month", "前三十天免费"), or one of the
    campaign's cancel methods (`said_method`: "text STOP to 611"); the lexicons alone also hear
    "the bill", "end up" and "suspended"."""
    trial = sentence.has("trial_context") and bool(sentence.durations or sentence.dates)
    return trial or (sentence.has("cancel_context") and said_method(ctx, sentence))


def _call_outcome(
    ctx: CallContext,
    withdrawn: bool,
    noted: bool = False,
    agreed: bool = False,
    v5: bool = False,
    v6: bool = False,
) -> OutcomeResult:
    bookings = [b for b in ctx.bookings if not (noted and _after_note(ctx, b[0]))]
    if v5:
        bookings = [b for b in bookings if not _withdrawn_before(*b)]
    if agreed and not bookings:
        yes = _agreed_sale(ctx, read_back=v5)
        if yes is not None:
            return _outcome("sale", yes, "agreed")
    if bookings:
        last = bookings[-1][0].index  # the last turn that books it, its first booking
        _, sentence, hit = next(b for b in bookings if b[0].index == last)
        taken_back = _taken_back(ctx, last) if withdrawn else None
        if taken_back is None:
            return _outcome("sale", (sentence.hit_evidence(hit),))
        return _outcome("declined", (sentence.hit_evidence(hit), taken_back), "withdrawn")
    pitch = ctx.pitch_start
    if pitch is None and v6:
        pitch = _terms_told(ctx)
    if pitch is not None:
        return _outcome("declined", (pitch.evidence(),))
    return _outcome("no_pitch", ())


def _withdrawn_before(turn: Turn, sentence: Sentence, hit: Hit) -> bool:
    """The agent says the service will not be opened earlier in the booking's own turn ("那就不
    给您开了，您孙子给您办好了就行")."""
    for earlier in turn.sentences:
        if earlier is sentence:
            return any(w.start < hit.start for w in sentence.hits("booking_withdrawn"))
        if earlier.has("booking_withdrawn"):
            return True
    return False


def _agreed_sale(ctx: CallContext, read_back: bool = False) -> tuple[Evidence, ...] | None:
    """The customer's first yes to opening it after the price (read as the consent item reads
    it) and the agent's turn right after it, when that turn goes on as after a sale and the
    customer neither takes the yes back, refuses nor hedges later. With `read_back`, a yes to
    the order read back with its price (`_read_back`) may be followed by thanks and a goodbye
    alone."""
    price = ctx.first_price
    if price is None:
        return None
    read = read_v3(ctx)
    acts = [(t, read(t)) for t in ctx.customer_turns() if t.index > price.index]
    for n, (turn, act) in enumerate(acts):
        if act is None or not says_yes(ctx, turn, act[0]):
            continue
        reply = next((t for t in ctx.agent_turns() if t.index > turn.index), None)
        if reply is None or not _goes_on(reply):
            continue
        # "Great. Thanks for your time, bye." opens nothing, unless the order was read back.
        if reply.has("goodbye") and not (read_back and _read_back(ctx, turn)):
            continue
        if any(a is not None and a[0] in ("withdrawal", "deny", "hedge") for _, a in acts[n + 1 :]):
            return None
        return (act[1].hit_evidence(act[2]), reply.evidence())
    return None


def _goes_on(reply: Turn) -> bool:
    """The agent's turn after the yes asks nothing (not for consent again, not "还有什么需要帮您
    的吗？") and takes nothing back; whether a goodbye in it opens anything is the caller's to
    say."""
    return not (any(s.is_question for s in reply.sentences) or reply.has("booking_withdrawn"))


def _read_back(ctx: CallContext, yes: Turn) -> bool:
    """The agent's turn before the yes reads the order back with its price for the customer to
    confirm (`read_back`: 跟您确认一下, "just to confirm")."""
    asked = ctx.previous_agent_turn(yes)
    return asked is not None and asked.has("read_back") and ctx.states_price(asked)


def _after_note(ctx: CallContext, turn: Turn) -> bool:
    """The agent's turn before `turn` notes the customer's refusal (`dnc_note`)."""
    before = ctx.previous_agent_turn(turn)
    return before is not None and before.has("dnc_note") and not turn.has("dnc_note")


def _taken_back(ctx: CallContext, booked: int) -> Evidence | None:
    """The agent's first word, after the turn that books the sale, that it will not be opened."""
    later = (turn for turn in ctx.agent_turns() if turn.index > booked)
    found = first_hit(later, "booking_withdrawn")
    return found[1].hit_evidence(found[2]) if found is not None else None


def _outcome(value: Outcome, evidence: tuple[Evidence, ...], how: str = "") -> OutcomeResult:
    why = Reason.of(f"outcome.{how or value}")
    return OutcomeResult(value, evidence, why.text(), why)
