"""Criterion 3, disclosures: price, free-trial end and how to cancel, compared with the
campaign's facts (amounts, dates and codes are extracted, not pattern-matched)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks.common import item
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import item_check
from qa_pipeline.ruleset.schema import CancelMethod
from qa_pipeline.text.entities import Duration, Money, Period
from qa_pipeline.verdict.model import Evidence, Item
from qa_pipeline.verdict.reasons import clock


def _stated_money(
    ctx: CallContext, across: bool = False, fragments: bool = False
) -> list[tuple[Sentence, Money, str | None]]:
    """Each amount the agent states, with its period: its own, else its turn's only one
    ("收费的，3块钱，按月收"), found once per turn (a turn may hold many amounts). A zero
    amount takes no period from its turn: "through the 27th, zero dollars" is the trial.
    `across`: a turn that opens with a self-correction, before any amount of its own ("您说得
    对，是我说错了…是3块钱一个月"), takes back the amounts of the agent's turn before it that
    are none of the campaign's fees (a right amount is not what was corrected). `fragments`
    (v7): a sentence that is only a period ("Every month.", "A month.", "每个月。") gives it to
    the amounts of the sentence just before it that have none."""
    fees = [ctx.campaign.price.amount, *(f.amount for f in ctx.campaign.extra_fees)]
    stated: list[tuple[Sentence, Money, str | None]] = []
    before = 0  # where the agent's previous turn's amounts start in `stated`
    for turn in ctx.agent_turns():
        if across and _corrects_first(turn):
            kept = [x for x in stated[before:] if any(abs(x[1].amount - f) < 0.005 for f in fees)]
            stated[before:] = kept
        before = len(stated)
        amounts = _uncorrected(turn)
        if fragments:
            amounts = _fragment_periods(turn, amounts)
        periods = {m.period for _, m in amounts if m.period}
        only = periods.pop() if len(periods) == 1 else None
        stated += [(s, m, m.period or (only if m.amount else None)) for s, m in amounts]
    return stated


_PERIOD_WORDS = 4  # words (or Chinese characters / 1.5) a period-only sentence may hold


def _fragment_periods(
    turn: Turn, amounts: list[tuple[Sentence, Money]]
) -> list[tuple[Sentence, Money]]:
    """Amounts without a period that end their sentence, followed by a sentence that is a
    period alone, take it (an agent saying the price slowly, in pieces: "Nine dollars
    ninety-nine cents. Every month."); not in a sentence of two amounts ("Nine dollars,
    ninety-nine cents. A month." reads 9 dollars, then 99 cents)."""
    sentences = turn.sentences
    out = []
    for sentence, money in amounts:
        i = sentences.index(sentence)
        after = sentences[i + 1] if i + 1 < len(sentences) else None
        # One amount ending its sentence: "9 dollars, 99 cents" (a comma cut it) is two.
        last = len(sentence.money) == 1 and not sentence.norm[money.end :].strip(" .。!！,，…")
        alone = money.period is None and last
        period = _period_alone(after) if alone and after is not None else None
        out.append((sentence, replace(money, period=period) if period else money))
    return out


def _period_alone(sentence: Sentence) -> Period | None:
    """The period a short sentence with no amount of its own names, if it names one."""
    lang = sentence.pack.lang
    if sentence.money or lang.speech_units(sentence.norm) > _PERIOD_WORDS * lang.units_per_word:
        return None
    found = [p for p, pattern in lang.periods.items() if pattern.search(sentence.norm)]
    return found[0] if len(found) == 1 else None


def _corrects_first(turn: Turn) -> bool:
    """The turn takes something back before it states any amount."""
    for sentence in turn.sentences:
        corrections = sentence.rule_hits("self_correction")
        first_money = min((m.start for m in sentence.money), default=None)
        if corrections and (first_money is None or corrections[0].start < first_money):
            return True
        if first_money is not None:
            return False
    return False


def _uncorrected(turn: Turn) -> list[tuple[Sentence, Money]]:
    """The turn's amounts, less those the agent takes back later in it ("每月15元——哎不好意思，
    我说错了，是每月10元")."""
    sentences = list(enumerate(turn.sentences))
    taken_back = [(i, h.start) for i, s in sentences for h in s.rule_hits("self_correction")]
    last = max(taken_back, default=(-1, -1))
    return [(s, m) for i, s in sentences for m in s.money if (i, m.start) > last]


def _unlimited_claim(ctx: CallContext) -> Item | None:
    """A price that buys a capped amount (300 minutes, then a per-minute fee) misstated as
    unlimited ("长途随便打，不限时间"): the amount is right, what it buys is not."""
    overage = [f for f in ctx.campaign.extra_fees if f.period == "minute"]
    if not overage:
        return None
    for turn in ctx.agent_turns():
        found = turn.first("unlimited_claim")
        if found is not None:
            sentence, hit = found
            extra = ctx.pack.lang.money_text(overage[0].amount, overage[0].period)
            return item(
                False, (sentence.hit_evidence(hit),), "fees.unlimited", said=hit.text, extra=extra
            )
    return None


@item_check("fee_disclosed.v1", lexicons=("self_correction", "unlimited_claim"))
def fee_disclosed(ctx: CallContext, params: object) -> Item:
    """The agent states the campaign's price with its period; any wrong amount fails."""
    return _fee(ctx, v2=False)


@item_check("fee_disclosed.v2", lexicons=("self_correction", "unlimited_claim"))
def fee_disclosed_v2(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v1, except that an amount with no period of its own, which takes its
    turn's only period, is no wrong price when it is one of the campaign's fees: "超出部分按7分钱
    一分钟算…下个月开始收10块" charges the monthly 10元, not 10元 a minute."""
    return _fee(ctx, v2=True)


@item_check("fee_disclosed.v3", lexicons=("self_correction", "unlimited_claim"))
def fee_disclosed_v3(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v2, except that in a recognizer's transcript (`heard_by`) an amount for
    the price's period that is the campaign's price with one digit more or less at its front
    ("then $2.99" heard "$12.99") is the price half heard: neither a wrong price nor the price
    stated."""
    return _fee(ctx, v2=True, heard=ctx.call.heard_by is not None)


@item_check("fee_disclosed.v4", lexicons=("self_correction", "unlimited_claim"))
def fee_disclosed_v4(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v3, except that a monthly price stated for a quarter or a year
    ("一个季度才10块钱", "$9.99 a quarter") is a wrong price, unless the amount is the monthly
    price times the months (a year of $2.99 a month is $35.88); and a turn that opens by taking
    something back ("您说得对，是我说错了…是3块钱一个月") takes back the wrong amounts of the
    agent's turn before it, as one turn's later correction takes back its earlier amounts."""
    return _fee(ctx, v2=True, heard=ctx.call.heard_by is not None, v4=True)


@item_check("fee_disclosed.v5", lexicons=("self_correction", "unlimited_claim"))
def fee_disclosed_v5(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v4, except that an amount that borrows its turn's period and is that
    period's fee times a count said in its sentence is a total worked out, not a price: "超出的
    每分钟7分钱，比如超了50分钟，就多3块5" (50 x 0.07), "so two months would be $5.98"."""
    return _fee(ctx, v2=True, heard=ctx.call.heard_by is not None, v4=True, v5=True)


@item_check("fee_disclosed.v7", lexicons=("self_correction", "unlimited_claim", "without_offer"))
def fee_disclosed_v7(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v6, except that a sentence that is only a period ("Every month.", "A
    month.", "每个月。") gives it to the amounts without one in the sentence just before it: an
    agent saying the price slowly, in pieces ("It costs nine dollars ninety-nine cents. Every
    month.") states it with its period."""
    return _fee(
        ctx, v2=True, heard=ctx.call.heard_by is not None, v4=True, v5=True, v6=True, v7=True
    )


@item_check("fee_disclosed.v6", lexicons=("self_correction", "unlimited_claim", "without_offer"))
def fee_disclosed_v6(ctx: CallContext, params: object) -> Item:
    """As fee_disclosed.v5, except that an amount after a condition of not taking the offer in
    its sentence (`without_offer`: "不办的话下个月起您打长途就按一块钱一分钟算了", "if you don't
    take it you're paying a dollar a minute") is the cost without the service, true or not: no
    misstated price (a false one is the forbidden phrases' business)."""
    return _fee(ctx, v2=True, heard=ctx.call.heard_by is not None, v4=True, v5=True, v6=True)


def _without_offer(sentence: Sentence, money: Money) -> bool:
    return any(h.end <= money.start for h in sentence.hits("without_offer"))


_MONTHS = {"quarter": 3, "year": 12}
_COUNT = re.compile(r"\d+(?:\.\d+)?")


def _worked_out(sentence: Sentence, money: Money, fees: list[float]) -> bool:
    """`money` is one of `fees` times a count (2 or more) said in its sentence outside any
    amount."""
    counts = {
        float(m.group())
        for m in _COUNT.finditer(sentence.norm)
        if not any(a.start <= m.start() < a.end for a in sentence.money)
    }
    return any(n >= 2 and abs(n * f - money.amount) < 0.005 for n in counts for f in fees if f)


def _misperiod(price: float, price_period: str, amount: float, period: str | None) -> bool:
    """A monthly price's amount stated for a longer period it does not add up to."""
    months = _MONTHS.get(period or "")
    if price_period != "month" or months is None or not amount:
        return False
    return abs(amount - price * months) >= 0.005


def _half_heard(amount: float, price: float) -> bool:
    """`amount` is `price` with a digit added or lost at its front (12.99 or 2.99 for 2.99)."""
    said, meant = f"{amount:.2f}", f"{price:.2f}"
    return said != meant and (said[1:] == meant or meant[1:] == said)


def _fee(
    ctx: CallContext,
    v2: bool,
    heard: bool = False,
    v4: bool = False,
    v5: bool = False,
    v6: bool = False,
    v7: bool = False,
) -> Item:
    campaign = ctx.campaign
    fees = [campaign.price, *campaign.extra_fees]
    expected = ctx.pack.lang.money_text(campaign.price.amount, campaign.price.period)
    correct: list[Evidence] = []
    for sentence, money, period in _stated_money(ctx, across=v4, fragments=v7):
        if v6 and _without_offer(sentence, money):
            continue
        if v4 and _misperiod(campaign.price.amount, campaign.price.period, money.amount, period):
            return item(
                False, (sentence.evidence(money.text),), "fees.wrong",
                said=money.text, period=period, expected=expected,
            )  # fmt: skip
        same_period = [f for f in fees if f.period == period]
        if not same_period:
            continue
        if not any(abs(f.amount - money.amount) < 0.005 for f in same_period):
            price = campaign.price
            if heard and period == price.period and _half_heard(money.amount, price.amount):
                continue
            borrowed = money.period is None
            if v2 and borrowed and any(abs(f.amount - money.amount) < 0.005 for f in fees):
                continue
            if v5 and borrowed and _worked_out(sentence, money, [f.amount for f in same_period]):
                continue
            return item(
                False, (sentence.evidence(money.text),), "fees.wrong",
                said=money.text, period=period, expected=expected,
            )  # fmt: skip
        if period == campaign.price.period and abs(money.amount - campaign.price.amount) < 0.005:
            correct.append(sentence.evidence(money.text))
    if correct and (overstated := _unlimited_claim(ctx)) is not None:
        return overstated
    if correct:
        return item(True, correct[:2], "fees.stated", expected=expected)
    return _missing(ctx, "fees.missing", expected=expected)


def _missing(ctx: CallContext, key: str, **params: object) -> Item:
    """A disclosure never made: the pitch and the stretch searched after it, with its times."""
    where = ctx.where_missing()
    start, end = (where[-1].start, where[-1].end) if where else (0.0, ctx.end_s)
    return item(False, where, key, start=clock(start), end=clock(end), **params)


class TrialParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tolerance_days: int = Field(
        1, ge=0, description="a stated end date this many days off still counts (ends vs through)"
    )


def _trial_sentences(ctx: CallContext) -> list[Sentence]:
    return [s for t in ctx.agent_turns() if t.has("trial_context") for s in t.sentences]


@item_check("trial_end_disclosed.v1", TrialParams, lexicons=("trial_context", "anchor_today"))
def trial_end_disclosed(ctx: CallContext, params: TrialParams) -> Item:
    """For trial products: the agent gives the trial's end as a date (call date + trial
    length) or as a duration anchored to today."""
    return _trial_end(ctx, params, v2=False)


@item_check(
    "trial_end_disclosed.v2",
    TrialParams,
    lexicons=("trial_context", "anchor_today", "anchor_now", "charge_start"),
)
def trial_end_disclosed_v2(ctx: CallContext, params: TrialParams) -> Item:
    """As trial_end_disclosed.v1, except that a duration anchored to the opening alone ("开通起
    30天免费", "fourteen days from activation") gives the end only with when charging starts in
    the same turn ("第31天开始收费", "then it's $1.99 a month"); anchored to today in words
    (今天, "starting today") it does by itself. SPEC: "30 days from today, charging starts on
    day 31"."""
    return _trial_end(ctx, params, v2=True)


def _anchored(sentence: Sentence, duration: Duration, lexicon: str, reach: int) -> bool:
    return any(
        abs(a.start - duration.start) <= reach or abs(duration.end - a.end) <= reach
        for a in sentence.hits(lexicon)
    )


def _trial_end(ctx: CallContext, params: TrialParams, v2: bool) -> Item:
    days = ctx.campaign.trial_days
    if days is None:
        return item(None, (), "trial_end.no_trial")
    expected = ctx.call_date + timedelta(days=days)
    wrong: list[tuple[Sentence, str]] = []
    sentences = _trial_sentences(ctx)
    for sentence in sentences:
        for mention in sentence.dates:
            when = mention.resolve(ctx.call_date)
            if when is None or when == ctx.call_date:
                continue  # "today is the 5th of February" anchors the trial; it does not end it
            if abs((when - expected).days) <= params.tolerance_days:
                return item(
                    True, (sentence.evidence(mention.text),), "trial_end.date",
                    date=when.isoformat(), days=days,
                )  # fmt: skip
            wrong.append((sentence, f"{mention.text} ({when.isoformat()})"))
    reach = ctx.pack.anchor_reach
    charging = {t.index for t in ctx.agent_turns() if t.has("charge_start")}
    for turn in (t for t in ctx.agent_turns() if t.has("trial_context")):
        for sentence in turn.sentences:
            for duration in sentence.durations:
                if not _anchored(sentence, duration, "anchor_today", reach):
                    continue
                # v2: the opening alone ("开通起30天") needs when charging starts beside it.
                if v2 and not (
                    _anchored(sentence, duration, "anchor_now", reach) or turn.index in charging
                ):
                    continue
                if duration.days == days:
                    return item(
                        True, (sentence.evidence(duration.text),), "trial_end.duration",
                        said=duration.text,
                    )  # fmt: skip
                wrong.append((sentence, duration.text))
    if wrong:
        sentence, said = wrong[0]
        return item(
            False, (sentence.evidence(),), "trial_end.wrong", said=said,
            expected=expected.isoformat(),
        )  # fmt: skip
    if sentences:
        return item(False, (sentences[0].evidence(),), "trial_end.no_end")
    return _missing(ctx, "trial_end.missing", expected=expected.isoformat())


_SQUASH = re.compile(r"[\s\-_.,'\"“”‘’、，。]")


def _squashed(text: str) -> str:
    return _SQUASH.sub("", text)


def said_method(ctx: CallContext, sentence: Sentence) -> bool:
    """The sentence names one of the campaign's cancel methods."""
    text = _squashed(sentence.norm)
    return any(method_matches(method, text) for method in ctx.campaign.cancel_methods)


def method_matches(method: CancelMethod, text: str) -> bool:
    """`text` (squashed: `said_method`) names the cancel method: the SMS code and number, the
    hotline's number, or the app's name."""
    if method.kind == "sms":
        assert method.code is not None and method.number is not None
        return method.code.lower() in text and method.number in text
    if method.kind == "hotline":
        assert method.number is not None
        return method.number in text
    assert method.name is not None
    return _squashed(method.name.lower()) in text


def _code_like(method: CancelMethod) -> re.Pattern[str] | None:
    """Other codes of the same family as the campaign's (TD12121 -> td[0-9a-z]+)."""
    if method.kind != "sms" or method.code is None:
        return None
    prefix = re.match(r"[A-Za-z]+", method.code)
    if prefix is None or prefix.group(0) == method.code:
        return None
    return re.compile(rf"{prefix.group(0).lower()}[0-9a-z]+")


def _heard_hotlines(ctx: CallContext) -> list[re.Pattern[str]]:
    """The campaign's hotlines as a recognizer may have written them, in a recognizer's
    transcript only (a person's transcript has the number's first digit)."""
    if ctx.call.heard_by is None:
        return []
    return [p for p in map(_heard_hotline, ctx.campaign.cancel_methods) if p is not None]


def _heard_hotline(method: CancelMethod) -> re.Pattern[str] | None:
    """A hotline as a recognizer writes it when it mishears the number's first digit as a word
    ("call six one one" heard "call big one one", "call fix 1, 1"): "call", one word, then
    the number's other digits and no more. Numbers of three digits or more only, where the
    digits heard still name it; only the digits count ("(800) 555-0199" is 8005550199), so a
    number written with brackets or a plus makes no broken pattern."""
    if method.kind != "hotline":
        return None
    return _hotline_pattern(re.sub(r"\D", "", method.number or ""))


@cache
def _hotline_pattern(digits: str) -> re.Pattern[str] | None:
    """`_heard_hotline` for a number's digits, compiled once a number (not once a call)."""
    if len(digits) < 3:
        return None
    rest = r"[\s,.-]*".join(digits[1:])
    return re.compile(rf"\b(?:call|calling|dial|dialing) [a-z]+[\s,.-]*{rest}(?![\s,.-]*\d)")


@item_check("cancel_method_disclosed.v1", lexicons=("cancel_context",))
def cancel_method_disclosed(ctx: CallContext, params: object) -> Item:
    """The agent tells the customer how to cancel, using one of the campaign's methods."""
    return _cancel_method(ctx, heard=[])


@item_check("cancel_method_disclosed.v2", lexicons=("cancel_context",))
def cancel_method_disclosed_v2(ctx: CallContext, params: object) -> Item:
    """As cancel_method_disclosed.v1, except that in a recognizer's transcript a hotline whose
    first digit was heard as a word ("call big one one" for 611) counts, in a cancelling
    context."""
    return _cancel_method(ctx, _heard_hotlines(ctx))


# A number given as where to send a text ("text stop to 611", "SMS TD to 10000"): the words
# before it are a text message's, up to three of them (the code) before "to".
_TEXT_TO = re.compile(
    r"\b(?:text|texting|txt|sms|message|send)\w*(?:\s+[\w']+){0,3}?\s+(?:to|at)\s+[\d\s,.-]*\d"
)


@item_check("cancel_method_disclosed.v3", lexicons=("cancel_context",))
def cancel_method_disclosed_v3(ctx: CallContext, params: object) -> Item:
    """As cancel_method_disclosed.v2, except that a hotline given as the number to text ("to
    cancel you just text stop to 611" for a call-611 campaign) is no hotline: a text to it
    cancels nothing."""
    return _cancel_method(ctx, _heard_hotlines(ctx), texted=True)


@item_check("cancel_method_disclosed.v4", lexicons=("cancel_context",))
def cancel_method_disclosed_v4(ctx: CallContext, params: object) -> Item:
    """As cancel_method_disclosed.v3, except that in a recognizer's transcript a word after
    "call" that sounds like a digit and runs into digits is that digit ("calling fix 114" for
    "calling six one one or": 6114 holds 611), as the language hears its digit names
    (`Language.heard_digit`)."""
    return _cancel_method(ctx, _heard_hotlines(ctx), texted=True, sounded=True)


@item_check("cancel_method_disclosed.v5", lexicons=("cancel_context", "other_purpose"))
def cancel_method_disclosed_v5(ctx: CallContext, params: object) -> Item:
    """As cancel_method_disclosed.v4, except that a hotline given for another purpose in its
    sentence (`other_purpose`: "you can call six-one-one to add it", "随时打10000咨询", "想开的话
    打10000就行") is no way to cancel: the call sets label such lines no cancel route."""
    return _cancel_method(ctx, _heard_hotlines(ctx), texted=True, sounded=True, purposed=True)


_CALLED_WORD = re.compile(r"\b((?:call|calling|dial|dialing) )([a-z]+)(?=[\s,.-]*\d)")


def _sounded_digits(ctx: CallContext, text: str) -> str:
    """`text` with the word after "call" read as the digit it sounds like, where it runs into
    digits (a recognizer's transcript only)."""

    def digit(match: re.Match[str]) -> str:
        heard = ctx.pack.lang.heard_digit(match.group(2))
        return match.group(1) + heard if heard is not None else match.group(0)

    return _CALLED_WORD.sub(digit, text)


def _cancel_method(
    ctx: CallContext,
    heard: list[re.Pattern[str]],
    texted: bool = False,
    sounded: bool = False,
    purposed: bool = False,
) -> Item:
    """The cancel item; `heard`: hotlines as a recognizer may have written them (v2 on);
    `texted`: a hotline said as the number to text does not count (v3); `sounded`: in a
    recognizer's transcript, a word after "call" that sounds like a digit is that digit (v4);
    `purposed`: a hotline in a sentence that gives it another purpose does not count (v5)."""
    sounded = sounded and ctx.call.heard_by is not None
    methods = ctx.campaign.cancel_methods
    codes = {m.code.lower() for m in methods if m.code}
    families = [p for p in map(_code_like, methods) if p]
    for turn in ctx.agent_turns():
        asked = turn.index > 0 and ctx.turns[turn.index - 1].has("cancel_context")
        in_context = asked or turn.has("cancel_context")  # "How do I cancel?" "Call 611."
        for sentence in turn.sentences:
            norm = _sounded_digits(ctx, sentence.norm) if sounded else sentence.norm
            text = _squashed(norm)
            for family in families:
                for other in family.findall(text):
                    if other not in codes and in_context:
                        return item(
                            False, (sentence.evidence(other),), "cancel.wrong_code",
                            said=other.upper(),
                            expected=", ".join(sorted(c.upper() for c in codes)),
                        )  # fmt: skip
            called = _squashed(_TEXT_TO.sub(" ", norm)) if texted else text
            other = purposed and sentence.has("other_purpose")
            for method in methods:
                sms = method.kind == "sms"
                said = called if method.kind == "hotline" else text
                if (sms or (in_context and not other)) and method_matches(method, said):
                    return item(True, (sentence.evidence(),), "cancel.explained", kind=method.kind)
            if in_context and not other and any(p.search(sentence.norm) for p in heard):
                return item(True, (sentence.evidence(),), "cancel.explained", kind="hotline")
    return _missing(ctx, "cancel.missing")
