"""Criterion 4, explicit consent: a clear yes to opening the service, after the price, to the
right question, and not taken back."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Literal

from qa_pipeline.checks import speakers
from qa_pipeline.checks.common import item
from qa_pipeline.checks.competence import V20_LEXICONS, CompetenceParamsV5, caller_competent_v20
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import item_check
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.verdict.model import Evidence, Item
from qa_pipeline.verdict.reasons import clock

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


def _answers(ctx: CallContext, turn: Turn, question: str) -> bool:
    """The turn replies to an agent turn just before it holding `question` (a lexicon)."""
    asked = ctx.previous_agent_turn(turn)
    return asked is not None and asked.index == turn.index - 1 and asked.has(question)


def says_yes(ctx: CallContext, turn: Turn, kind: Reply) -> bool:
    """A turn read as `kind` agrees to opening the service: a request to open it stands alone,
    a bare yes must answer the consent question (the consent item; call_outcome.v4)."""
    return kind == "consent" or (kind == "affirm" and _answers(ctx, turn, "consent_question"))


@item_check(
    "explicit_consent.v1",
    lexicons=(
        *(_LEXICON.get(r, r) for r in _ORDER),
        "sarcasm",
        "consent_question",
        "refusal_check",
    ),
)
def explicit_consent(ctx: CallContext, params: object) -> Item:
    """The customer clearly says yes to opening the service after hearing the price, and does
    not take it back; 嗯 / 随便 / 你看着办 / "I guess" / a yes to another question do not count."""
    return _consent(ctx, classify)


# What v2 and v3 read: v1's, and the signals that unsay a yes (sarcasm, a cannot-hear).
# A customer's own words that they did not hear or follow what was said (v2 on).
_UNHEARD = ("cannot_hear", "not_understand")

_V2_LEXICONS = (
    *(_LEXICON.get(r, r) for r in _ORDER),
    "sarcasm", "consent_question", "refusal_check", "cannot_hear", "not_understand",
    "third_person",
)  # fmt: skip


@item_check(
    "explicit_consent.v2",
    lexicons=_V2_LEXICONS,
)
def explicit_consent_v2(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v1, except that a yes is no clear yes when the same sentence defers
    in words the rules know ("开嘛 你说开就开", "sure, whatever, throw it on"), though the model
    read the sentence as a yes, or when the customer says in the same turn that they cannot hear
    or do not follow ("好好好 你们搞 我听不清楚")."""
    return _consent(ctx, classify_v2)


def classify_v2(turn: Turn) -> tuple[Reply, Sentence, Hit] | None:
    """`classify`, reading a yes as a hedge where the rules found a hedge in its sentence (the
    model's yes silenced it) or the customer says in the turn they cannot hear or follow."""
    act = classify(turn)
    if act is None or act[0] not in ("consent", "affirm"):
        return act
    sentence = act[1]
    hedged = next((h for h in sentence.rule_hits("hedge") if not sentence.questioned(h)), None)
    if hedged is not None:
        return "hedge", sentence, hedged
    lost = speakers.own_signal(turn, _UNHEARD)
    return ("hedge", *lost) if lost else act


@item_check("explicit_consent.v4", lexicons=(*_V2_LEXICONS, "hears_now"))
def explicit_consent_v4(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v3, except that the price counts where the customer heard it: the
    campaign's amount said without its period ("It's nine ninety-nine.") states it (the fee
    item still fails it), and a price the customer answers with a cannot-hear
    of their own ("you'll have to speak up, my hearing aid's on the dresser") is heard only
    when the agent says an amount again after it."""
    return _consent(ctx, read_v3(ctx), _heard_price(ctx))


@item_check("explicit_consent.v5", lexicons=(*_V2_LEXICONS, "hears_now", "what_opened"))
def explicit_consent_v5(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v4, except that a yes the customer follows by asking what was opened
    or agreed to ("好……好么，你开么。" ... "啊？开的啥……", "wait, what did I just agree to?") is
    no clear yes: they did not know what they said yes to. On the read call sets, the four calls
    whose customer asked so after a yes were all labeled without consent (2026-12-06)."""
    return _consent(ctx, read_v3(ctx), _heard_price(ctx), unknowing=True)


@item_check(
    "explicit_consent.v6",
    lexicons=(*_V2_LEXICONS, "hears_now", "what_opened", "handover", "identity_question"),
)
def explicit_consent_v6(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v5, except that a yes from someone the phone was handed to after
    the pitch began ("Keisha! Come talk to di lady. ... just put it on for him"), with no holder
    question asked of them, is not the verified person's consent."""
    return _consent(ctx, read_v3(ctx), _heard_price(ctx), unknowing=True, others=True)


@item_check(
    "explicit_consent.v7",
    lexicons=(
        *_V2_LEXICONS, "hears_now", "what_opened", "handover", "identity_question",
        "hearing_check",
    ),
)  # fmt: skip
def explicit_consent_v7(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v6, except that a bare yes to an agent turn that asks whether the
    line works after asking for consent ("so shall i activate ring back plus for you today
    hello sir are you there did you hear me" - "yes yes i hear you") answers the line check,
    the last thing asked: it is no consent."""
    return _consent(
        ctx, read_v3(ctx), _heard_price(ctx), unknowing=True, others=True, line_check=True
    )


def _line_checked_last(ctx: CallContext, turn: Turn, tagged: bool = False) -> bool:
    """The agent turn just before `turn` asks whether the line works after its consent
    question (by sentence, then by place in the sentence). `tagged` (v10): a consent cue in the
    line check's own clause after it is the check's tag ("can you hear me okay?"), not a
    consent question asked again."""
    if not _answers(ctx, turn, "hearing_check"):
        return False
    asked = ctx.turns[turn.index - 1]
    check = _last_hit(asked, "hearing_check")
    consent = [
        (i, h.start)
        for i, s in enumerate(asked.sentences)
        for h in s.hits("consent_question")
        if not (tagged and _tags_check(s, h.start))
    ]
    return check is not None and bool(consent) and check > max(consent)


_CLAUSE_END = re.compile(r"[，,。.!?！？;；:：]")


def _tags_check(sentence: Sentence, start: int) -> bool:
    """A line check ends just before `start` with no clause break between."""
    return any(
        h.end <= start and not _CLAUSE_END.search(sentence.norm[h.end : start])
        for h in sentence.hits("hearing_check")
    )


def _last_hit(turn: Turn, lexicon: str) -> tuple[int, int] | None:
    """Where the turn's last hit of `lexicon` is: its sentence, then its start."""
    found = [(i, h.start) for i, s in enumerate(turn.sentences) for h in s.hits(lexicon)]
    return max(found) if found else None


def _handed_on(ctx: CallContext, turn: Turn, sentence: Sentence) -> Evidence | None:
    """The customer's last handover from the pitch up to `sentence` of `turn`, with no identity
    question by the agent after it: the words from then on are another person's."""
    pitch = ctx.pitch_start
    if pitch is None:
        return None
    upto = list(turn.sentences[: turn.sentences.index(sentence) + 1])
    said = [t for t in ctx.customer_turns() if pitch.index < t.index < turn.index]
    point = speakers.handover([*said, Turn(turn.index, turn.speaker, upto)])
    if point is None or any(
        t.has("identity_question") for t in ctx.agent_turns() if point[0] < t.index < turn.index
    ):
        return None
    handed = ctx.turns[point[0]].sentences[point[1]]
    return handed.hit_evidence(handed.hits("handover")[0])


def _says_amount(ctx: CallContext, turn: Turn) -> bool:
    """The agent says an amount: a price with its period, or the campaign's fee said as
    dollars and cents without one ("nine ninety-nine" is normalized "9 99")."""
    if ctx.states_price(turn):
        return True
    spoken = _spoken_amount(round(ctx.campaign.price.amount * 100))
    return spoken is not None and any(spoken.search(s.norm) for s in turn.sentences)


@cache
def _spoken_amount(cents: int) -> re.Pattern[str] | None:
    """An amount of `cents` as dollars and cents said without a period ("9 99"), compiled once."""
    if not cents:
        return None
    return re.compile(rf"(?<![\d.]){cents // 100}[. ]{cents % 100:02d}(?!\d|\.\d)")


def _unheard(turn: Turn) -> bool:
    """The customer says they cannot hear (their own, not a third person's), with nothing in
    the turn saying they now do. A does-not-follow is no unheard price: the guard sets label a
    confused customer's later yes consent and leave them to the competence item."""
    return not turn.has("hears_now") and speakers.own_signal(turn, ("cannot_hear",)) is not None


def _heard_price(ctx: CallContext) -> Turn | None:
    """The agent's first statement of an amount that the customer's reply does not say went
    unheard."""
    for turn in ctx.agent_turns():
        if _says_amount(ctx, turn) and not any(_unheard(r) for r in ctx.replies_to(turn)):
            return turn
    return None


def _consent(
    ctx: CallContext,
    read: Callable[[Turn], tuple[Reply, Sentence, Hit] | None],
    heard: Turn | Literal["first"] | None = "first",
    unknowing: bool = False,
    others: bool = False,
    line_check: bool = False,
    asked_first: bool = False,
    tagged_check: bool = False,
) -> Item:
    """The consent item, each customer turn's act read by `read`; `heard` is the price turn
    the yes must follow (by default the agent's first statement of a price); `unknowing`: a
    yes the customer follows by asking what was opened is none (v5); `others`: a yes from
    someone the phone was handed to, never asked who they are, is none (v6); `line_check`: a
    bare yes to a line check asked after the consent question is none (v7); `asked_first`: a
    yes after the customer's own "open what?" in the same turn, unanswered, is none (v9);
    `tagged_check`: a line check's own tag ("can you hear me okay?") asks no consent (v10)."""
    price = ctx.first_price if heard == "first" else heard
    consent: tuple[Turn, Evidence] | None = None
    early: Evidence | None = None
    weak: Evidence | None = None
    declined: Evidence | None = None
    blind: tuple[Evidence, Evidence] | None = None  # an unanswered "open what?" and its yes
    for turn in ctx.customer_turns():
        after_yes = unknowing and consent is not None
        asked_what = speakers.own_signal(turn, ("what_opened",)) if after_yes else None
        if consent is not None and asked_what is not None:
            said = f"“{asked_what[0].text}”"
            evidence = asked_what[0].hit_evidence(asked_what[1])
            return item(False, (consent[1], evidence), "consent.unknowing", said=said)
        act = read(turn)
        if act is None:
            continue
        kind, sentence, matched = act
        evidence = sentence.hit_evidence(matched)
        if consent is not None:
            # Only an explicit take-back counts: a later "no" may answer "anything else?".
            # A yes or a no to "I take it that's a no?" both mean no ("no, I want it" is
            # read as consent first).
            confirms_no = kind in ("deny", "affirm") and _answers(ctx, turn, "refusal_check")
            if kind == "withdrawal" or confirms_no:
                said = f"“{sentence.text}”"
                return item(False, (consent[1], evidence), "consent.withdrawn", said=said)
            continue
        is_yes = says_yes(ctx, turn, kind)
        if (
            is_yes
            and line_check
            and kind == "affirm"
            and _line_checked_last(ctx, turn, tagged_check)
        ):
            is_yes = False
        if is_yes and asked_first and (what := _asked_before(turn, sentence, matched)):
            blind = blind or (what, evidence)
            is_yes = False
        if is_yes and (price is None or turn.index < price.index):
            early = early or evidence
        elif is_yes:
            handed = _handed_on(ctx, turn, sentence) if others else None
            if handed is not None:
                return item(False, (handed, evidence), "consent.other_person")
            consent = (turn, evidence)
        elif kind in ("hedge", "backchannel") and _answers(ctx, turn, "consent_question"):
            weak = evidence
        elif kind in ("deny", "withdrawal"):
            declined = evidence
    if consent is None and blind is not None:
        return item(False, blind, "consent.blind", said=f"“{blind[0].text}”")
    if consent is not None:
        asked = ctx.previous_agent_turn(consent[0])
        shown = (asked.evidence("consent_question"), consent[1]) if asked else (consent[1],)
        return item(True, shown, "consent.agreed")
    if early is not None:
        stated = price or ctx.first_price
        return item(False, (early,), "consent.early" if stated else "consent.early_no_price")
    if weak is not None:
        asked_weak = _question_before(ctx, weak)
        return item(False, (*asked_weak, weak), "consent.weak", said=f"“{weak.text}”")
    if declined is not None:
        return item(False, (*_question_before(ctx, declined), declined), "consent.declined")
    return _never_agreed(ctx)


def _asked_before(turn: Turn, sentence: Sentence, yes: Hit) -> Evidence | None:
    """The customer's own "open what?" (`what_opened`) earlier in the yes's turn: nobody
    answered it before the yes ("么子 开么子 哦 好 好")."""
    found = speakers.own_signal(turn, ("what_opened",))
    if found is None:
        return None
    asked, hit = found
    place = turn.sentences.index(asked), hit.start
    if place >= (turn.sentences.index(sentence), yes.start):
        return None
    return asked.hit_evidence(hit)


def _question_before(ctx: CallContext, said: Evidence) -> tuple[Evidence, ...]:
    """The agent's last consent question before a customer's words, to show them together."""
    asked = [t for t in ctx.agent_turns() if t.has("consent_question") and t.start <= said.start]
    return (asked[-1].evidence("consent_question"),) if asked else ()


def _never_agreed(ctx: CallContext) -> Item:
    """No yes anywhere: the last consent question with the customer's reply to it (what the
    customer did say is always shown), and the stretch searched, from the price (else the
    pitch) to the end of the call."""
    questions = [t for t in ctx.agent_turns() if t.has("consent_question")]
    shown: list[Evidence] = []
    if questions:
        shown.append(questions[-1].evidence("consent_question"))
        shown += [reply.evidence() for reply in ctx.replies_to(questions[-1])[:1]]
    since, what = (
        (ctx.first_price, "the price") if ctx.first_price else (ctx.pitch_start, "the pitch")
    )
    if since is None:
        return item(False, shown, "consent.never_asked")
    searched = ctx.searched_since(since.start, "customer")
    return item(
        False, (*shown, searched), "consent.never", since=what,
        start=clock(searched.start), end=clock(searched.end),
    )  # fmt: skip


@item_check(
    "explicit_consent.v3",
    lexicons=_V2_LEXICONS,
)
def explicit_consent_v3(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v2, except that the rules' cannot-hear or does-not-follow in the yes
    turn counts though the model read the sentence otherwise ("行行行 你们弄吧 我听不清 你找我
    儿子说去"): the words say the yes was given without hearing; and a yes to a question the agent
    asked right after the customer said they could not hear, without saying the price again
    ("听不清哦……我听不到。" "就是能听戏的，给您开通好不好？" "好嘛好嘛"), agrees to what the agent
    shouted, not to the price."""

    return _consent(ctx, read_v3(ctx))


def read_v3(ctx: CallContext) -> Callable[[Turn], tuple[Reply, Sentence, Hit] | None]:
    """v2's reading of a turn, with a yes given without hearing read as a hedge (v3, v4; the
    outcome's call_outcome.v4 reads a customer's yes with it too)."""

    def read(turn: Turn) -> tuple[Reply, Sentence, Hit] | None:
        act = classify_v2(turn)
        if act is None or act[0] not in ("consent", "affirm"):
            return act
        lost = _lost(turn) or _unheard_question(ctx, turn)
        return ("hedge", *lost) if lost else act

    return read


def _unheard_question(ctx: CallContext, turn: Turn) -> tuple[Sentence, Hit] | None:
    """The customer's cannot-hear just before the agent's question that `turn` answers, when
    that question states no price."""
    asked = ctx.previous_agent_turn(turn)
    if asked is None or asked.index != turn.index - 1 or ctx.states_price(asked):
        return None
    before = ctx.turns[asked.index - 1] if asked.index else None
    if before is None or before.speaker != "customer":
        return None
    return speakers.own_signal(before, ("cannot_hear",), rules_only=True)


def _lost(turn: Turn) -> tuple[Sentence, Hit] | None:
    """The customer's own cannot-hear or does-not-follow in the turn, as the rules read it."""
    return speakers.own_signal(turn, _UNHEARD, rules_only=True)


# --- v8 ------------------------------------------------------------------------------------------


def read_v4(ctx: CallContext) -> Callable[[Turn], tuple[Reply, Sentence, Hit] | None]:
    """`read_v3`, except that a take-back that gives in (`give_in`: 算了, "forget it") followed
    in the same turn by a request to open the service ("ah forget it youre sweet sign me up",
    "算了，三块钱我也不跟你掰扯，你给我开上") is the request: the customer stopped arguing. Not
    in a turn that hedges ("算了，你开就开吧") or takes it back otherwise ("先莫开咯")."""
    base = read_v3(ctx)

    def read(turn: Turn) -> tuple[Reply, Sentence, Hit] | None:
        act = base(turn)
        if act is None or act[0] != "withdrawal":
            return act
        given = _request_after(turn)
        if given is None:
            return act
        lost = _lost(turn) or _unheard_question(ctx, turn)
        return ("hedge", *lost) if lost else ("consent", *given)

    return read


def _request_after(turn: Turn) -> tuple[Sentence, Hit] | None:
    """The turn's last request to open the service (`consent_strong`, not asked) said after its
    last take-back, when every take-back of the turn gives in (`give_in`) and the turn has no
    hedge, no sarcasm and no condition."""
    if any(s.has(x) for s in turn.sentences for x in ("hedge", "sarcasm", "condition")):
        return None
    backs = [(n, h) for n, s in enumerate(turn.sentences) for h in s.hits("withdrawal")]
    if any(not s.has("give_in") for s in turn.sentences if s.has("withdrawal")) or not backs:
        return None
    place = max((n, h.start) for n, h in backs)
    found: tuple[Sentence, Hit] | None = None
    for n, s in enumerate(turn.sentences):
        for request in s.hits("consent_strong"):
            if (n, request.start) > place and not s.questioned(request):
                found = (s, request)
    return found


_V8_LEXICONS = (
    *_V2_LEXICONS, "hears_now", "what_opened", "handover", "identity_question",
    "hearing_check", "withdrawal", "give_in", "condition",
)  # fmt: skip


@item_check("explicit_consent.v8", lexicons=_V8_LEXICONS)
def explicit_consent_v8(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v7, except that a take-back that gives in (`give_in`: 算了, "forget
    it") followed in the same turn by a request to open the service ("ah forget it youre sweet
    youre sweet sign me up", "算了…你给我开上") is the request, unless the turn hedges, refuses
    or takes it back otherwise, or the request is a condition ("if I want it I'll add it")."""
    return _consent(
        ctx, read_v4(ctx), _heard_price(ctx), unknowing=True, others=True, line_check=True
    )


@item_check("explicit_consent.v9", lexicons=_V8_LEXICONS)
def explicit_consent_v9(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v8, except that a yes that follows the customer's own question of
    what is being opened in the same turn, unanswered ("么子 开么子 哦 好 好", "Hang on, what
    are you putting on my phone? Oh, okay, yes."), is no clear yes: they agreed without
    learning to what (as v5's yes followed by the question)."""
    return _consent(
        ctx, read_v4(ctx), _heard_price(ctx), unknowing=True, others=True, line_check=True,
        asked_first=True,
    )  # fmt: skip


@item_check("explicit_consent.v10", lexicons=_V8_LEXICONS)
def explicit_consent_v10(ctx: CallContext, params: object) -> Item:
    """As explicit_consent.v9, except that a consent cue closing the line check's own clause
    is the check's tag, not the consent question asked again: "So, shall I- sorry, it's
    crackling on my end, can you hear me okay?" "Yeah, yeah, I can hear you now." answers
    the line check, the last thing asked."""
    return _consent(
        ctx, read_v4(ctx), _heard_price(ctx), unknowing=True, others=True, line_check=True,
        asked_first=True, tagged_check=True,
    )  # fmt: skip


# --- v11 -----------------------------------------------------------------------------------------


@item_check(
    "explicit_consent.v11",
    CompetenceParamsV5,
    lexicons=(*_V8_LEXICONS, *V20_LEXICONS, "consent_strong", "go_ahead"),
)
def explicit_consent_v11(ctx: CallContext, params: CompetenceParamsV5) -> Item:
    """As explicit_consent.v10, except that a bare yes (no `consent_strong`, no `go_ahead` in
    its turn: "嗯 嗯 好", "Okay... okay.", "好好好", "mm hm okay") from a customer who could not
    follow the call (`caller_competent.v20` with these params fails) is no explicit consent:
    it says yes to something, not to opening what they did not take in. A yes that asks for
    the service ("开 给我开 嘿嘿 再来一杯", "yes please sign me up") stands. On the read call
    sets such yeses were labeled no consent 21 times and consent 12."""
    found = explicit_consent_v10(ctx, params)
    if not found.passed:
        return found
    yes = _yes_turn(ctx, found)
    if yes is None or any(s.has("consent_strong") or s.has("go_ahead") for s in yes.sentences):
        return found
    competent = caller_competent_v20(ctx, params)
    if competent.passed is not False:
        return found
    return item(
        False, (*found.evidence, *competent.evidence[:1]), "consent.bare_yes_lost",
        said=f"“{yes.text}”",
    )  # fmt: skip


def _yes_turn(ctx: CallContext, found: Item) -> Turn | None:
    said = [e for e in found.evidence if e.speaker == "customer"]
    if not said:
        return None
    start = said[0].start
    return next((t for t in ctx.customer_turns() if t.start <= start < t.end + 0.01), None)
