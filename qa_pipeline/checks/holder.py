"""Criterion 1, account holder verified: identity and permission."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from pydantic import BaseModel, Field

from qa_pipeline.checks import speakers
from qa_pipeline.checks.common import Found, first_hit, item, quote
from qa_pipeline.checks.competence import mistaken_caller
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import item_check
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.verdict.model import Evidence, Item


def _said_relation(
    answers: Iterable[Turn], lexicon: str, asked: bool = True, v12: bool = False
) -> Found | None:
    """A relation the person gives as who they are, not one they mention after saying the line
    is theirs ("是我的，我儿子给我办的卡" vs "是，我是他儿子"). `asked=False`: nor one they ask
    about ("你是不是我们家细妹子的同学？"). `v12`: a holder's yes in an earlier turn, not asked
    back ("Hello? Yes? Who?"), counts too ("Yes, this is Yusuf." … "Brother, I'm at the airport
    lot"), and so does an outright "I hold the account" said later (`_owns_account_later`)."""
    answers = list(answers)
    said_holder = False
    for n, turn in enumerate(answers):
        if not v12:
            said_holder = (
                False  # earlier in this turn: "Yes, that's me. My husband moans about it."
            )
        for sentence in turn.sentences:
            holder = sentence.hits("holder_yes")
            for hit in sentence.hits(lexicon):
                if not asked and sentence.questioned(hit):
                    continue
                mentioned = said_holder or any(h.end <= hit.start for h in holder)
                if v12 and not mentioned:
                    mentioned = _owns_account_later(answers[n:], sentence)
                if not mentioned or sentence.has("relation_self"):
                    return turn, sentence, hit
            if v12:
                said_holder = said_holder or any(not sentence.questioned(h) for h in holder)
            else:
                said_holder = said_holder or bool(holder)
    return None


def _later_denial(ctx: CallContext, later: list[Turn], answers: list[Turn]) -> Found | None:
    """A "not mine" later in the call. After the person said the line is theirs, later words
    such as "his phone" are usually about something else ("my husband signed us up for some
    calling thing on his phone"): they count when the model reads the sentence as saying who
    the person is (not the holder, cannot decide), surely; with the rules alone they count."""
    found = first_hit(later, "holder_no")
    rules = ctx.understanding
    if found is None or rules is None or not first_hit(answers, "holder_yes"):
        return found
    reading = found[1].reading
    best = reading.best("identity") if reading is not None else None
    if best is None:
        return found
    label, p = best
    return found if label in ("not_holder", "cannot_decide") and p >= rules.fill else None


_SHORT = 6  # words: a question whose words a recognizer lost, not a sentence about an account


def _heard_opening_question(ctx: CallContext) -> list[Turn]:
    """The opening's last sentence, when a recognizer lost the words of the account-holder
    question that ends it ("Is this the account holder?" heard "Simply account total."): a
    short sentence naming the account, ending the agent's first turn, before the customer
    has said anything. Only in a recognizer's transcript, read as a listener who knows the
    script reads it."""
    opening = ctx.turns[0] if ctx.turns else None
    if opening is None or opening.speaker != "agent":
        return []
    last = opening.sentences[-1]
    lang = last.pack.lang
    short = lang.speech_units(last.norm) <= _SHORT * lang.units_per_word
    return [opening] if short and last.rule_hits("holder_word") else []


_IDENTITY_LEXICONS = (
    "identity_question", "child", "child_cue", "family_relation", "other_relation",
    "holder_no", "cannot_decide", "can_decide", "holder_yes", "relation_self",
)  # fmt: skip


# What a customer says of who they are (the agent asks and cues the rest).
_ANSWER_LEXICONS = tuple(
    name for name in _IDENTITY_LEXICONS if name not in ("identity_question", "child_cue")
)


@dataclass(frozen=True)
class _Reads:
    """What an identity_confirmed version reads that the one before did not (its docstring
    says what): each version is the one before with its own flag set."""

    v2: bool = False
    v3: bool = False
    v4: bool = False
    v5: bool = False
    v6: bool = False
    v7: bool = False
    v8: bool = False
    v9: bool = False
    v11: bool = False
    v12: bool = False
    v14: bool = False


_V1 = _Reads()
_V2 = replace(_V1, v2=True)
_V3 = replace(_V2, v3=True)
_V4 = replace(_V3, v4=True)
_V5 = replace(_V4, v5=True)
_V6 = replace(_V5, v6=True)
_V7 = replace(_V6, v7=True)
_V8 = replace(_V7, v8=True)
_V9 = replace(_V8, v9=True)
_V11 = replace(_V9, v11=True)  # v10 is v9 and a check after it
_V12 = replace(_V11, v12=True)
_V14 = replace(_V12, v14=True)  # v13 is v12 and a check after it


@item_check("identity_confirmed.v1", lexicons=_IDENTITY_LEXICONS)
def identity_confirmed(ctx: CallContext, params: object) -> Item:
    """The agent asked for the account holder; the person is the holder, or an adult family
    member who says they can decide for the line."""
    return _identity(ctx, _V1)


@item_check(
    "identity_confirmed.v2", lexicons=(*_IDENTITY_LEXICONS, "handover", "adult", "holder_word")
)
def identity_confirmed_v2(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v1, except that a handover in the identity exchange ("老婆子！找你
    的！", "Mum, it's for you") starts it again with the person who takes the phone, a child
    read by the model alone does not count once the customer states an adult age (我二十六了),
    and in a recognizer's transcript the opening's short last sentence naming the account is
    the question whose words were lost (`_heard_opening_question`)."""
    return _identity(ctx, _V2)


def _identity(ctx: CallContext, r: _Reads) -> Item:
    asks = _asks_holder if r.v4 else _asks_any
    questions = [t for t in ctx.agent_turns() if asks(t)]
    if r.v2 and not questions and ctx.call.heard_by is not None:
        questions = _heard_opening_question(ctx)
    if not questions:
        opening = tuple(t.evidence() for t in ctx.turns[:1] if t.speaker == "agent")
        return item(False, opening, "holder.not_asked")
    asked = questions[0].evidence("identity_question")
    # The identity exchange lasts until the agent moves on (asks for time, or pitches).
    moves_on = next(
        (
            t
            for t in ctx.agent_turns()
            if t.index > questions[0].index
            and (_moves_on_v3(ctx, t) if r.v3 else (ctx.asks_permission(t) or ctx.is_pitch(t)))
        ),
        None,
    )
    if r.v7 and moves_on is not None and _explains(ctx, moves_on):
        moves_on = next(
            (t for t in ctx.agent_turns() if t.index > moves_on.index and _moves_on_v3(ctx, t)),
            None,
        )
    answers = ctx.exchange(questions[0], moves_on)
    later = [t for t in ctx.customer_turns() if t.index > questions[0].index]
    customer = list(ctx.customer_turns())
    agent = list(ctx.agent_turns())
    if r.v2:
        # Whoever answered first handed the phone over: the new speaker answers for themselves.
        point = speakers.handover(answers)
        answers, later, customer = (speakers.after(t, point) for t in (answers, later, customer))
        agent = [t for t in agent if point is None or t.index > point[0]]

    later_no = _later_denial(ctx, later, answers)
    if r.v4:  # said to be in another's name: firm, whatever came before or the model reads
        later_no = first_hit(later, "registered_other") or later_no
    if r.v8:  # "I'm his aide, I just answer the phone for him": who they are, said outright
        later_no = later_no or _self_other(later)
    if r.v14:  # "这座机是房东的，户头是他的，我是租这里的": the model's sure reading agrees
        later_no = later_no or _read_other(ctx, later)
    child = _child(customer, r.v2, r.v5) or first_hit(agent, "child_cue")
    if r.v4 and not child:  # "How old are you?" "Six and a half."
        child = speakers.stated_young_age(ctx, customer)
    if child:
        return item(False, (asked, child[1].hit_evidence(child[2])), "holder.child")
    family = _said_relation(answers, "family_relation", v12=r.v12)
    other = _said_relation(answers, "other_relation", asked=not r.v3, v12=r.v12)
    not_holder = first_hit(answers, "holder_no") or family or other or later_no
    if r.v11 and not_holder and not family:  # "This is his wife." said before the question
        before = [t for t in customer if t.index < questions[0].index]
        family = _said_relation(before, "family_relation")
    if not_holder:
        said = not_holder[1].hit_evidence(not_holder[2])
        cannot = first_hit(later, "cannot_decide")
        if cannot:
            evidence = (asked, said, cannot[1].hit_evidence(cannot[2]))
            return item(False, evidence, "holder.cannot_decide", said=quote(cannot))
        if other:
            return item(
                False, (asked, other[1].hit_evidence(other[2])), "holder.other_person",
                relation=other[2].text, said=quote(other),
            )  # fmt: skip
        can = first_hit(later, "can_decide", _not_model_question if r.v6 else None)
        if family and can:
            evidence = (asked, family[1].hit_evidence(family[2]), can[1].hit_evidence(can[2]))
            return item(True, evidence, "holder.family_can_decide")
        if family:
            return item(
                False, (asked, family[1].hit_evidence(family[2])), "holder.family_undecided"
            )
        return item(False, (asked, said), "holder.not_theirs", said=quote(not_holder))
    heard = _answered_yes if r.v14 else _heard_yes if r.v9 else None
    holder = first_hit(answers, "holder_yes", heard)
    if holder:
        return item(True, (asked, holder[1].hit_evidence(holder[2])), "holder.confirmed")
    return item(False, (asked,), "holder.no_answer")


def _not_model_question(sentence: Sentence, hit: Hit) -> bool:
    """Not a reading the model alone made of a question (asking decides nothing)."""
    return not (hit.source == "model" and sentence.is_question)


def _child(customer: list[Turn], v2: bool, v5: bool = False) -> Found | None:
    """A child's words; with `v2`, a child read by the model alone is outweighed by a stated
    adult age (the heads read a short "我是她孙子" as a child's); with `v5`, the model's child on
    a goodbye is none (the heads read a bare "um okay bye" as a child's, as caller_competent.v4
    already knows)."""
    adult = v2 and speakers.states_adult(customer)
    for turn in customer:
        for sentence in turn.sentences:
            for hit in sentence.hits("child"):
                model = speakers.model_child(hit)
                if not (adult and model) and not (v5 and model and sentence.has("goodbye")):
                    return turn, sentence, hit
    return None


def _permission_exchange(
    ctx: CallContext, pitch: Turn | None
) -> Item | tuple[Turn, Evidence, list[Turn]]:
    """The last permission question before the pitch, as evidence, and the customer's replies
    to it; or the failed item when nothing was asked."""
    limit = pitch.index if pitch else len(ctx.turns)
    questions = [t for t in ctx.agent_turns() if t.index < limit and ctx.asks_permission(t)]
    if not questions:
        if pitch:
            return item(False, (pitch.evidence(),), "permission.pitched_without_asking")
        return item(False, (), "permission.never_asked")
    question = questions[-1]
    # Without a pitch only the immediate answer counts (a later "好，再见" is not a yes).
    replies = ctx.exchange(question, pitch) if pitch else ctx.replies_to(question)
    return question, question.evidence("permission_question"), replies


def _refused(asked: Evidence, found: Found, pitch: Turn | None) -> Item:
    said = found[1].hit_evidence(found[2])
    if pitch:
        evidence = (asked, said, pitch.evidence())
        return item(False, evidence, "permission.busy_pitched", said=quote(found))
    return item(False, (asked, said), "permission.declined", said=quote(found))


def _unanswered(asked: Evidence, replies: list[Turn]) -> Item:
    if not replies:
        return item(False, (asked,), "permission.no_wait")
    return item(False, (asked, replies[0].evidence()), "permission.not_agreed")


@item_check("permission_granted.v1", lexicons=("busy", "affirm", "deny"))
def permission_granted(ctx: CallContext, params: object) -> Item:
    """Before the pitch the agent asked whether the customer has time, and the answer was yes."""
    exchange = _permission_exchange(ctx, ctx.pitch_start)
    if isinstance(exchange, Item):
        return exchange
    _, asked, replies = exchange
    # The customer's last word before the pitch decides ("多久？" "一分钟" "那行，你讲吧").
    # Within a reply: no time beats yes ("好，但我在开车"), and yes beats a bare no, which may
    # answer an inverted question ("Is this a bad time?" "No, go ahead").
    for reply in reversed(replies):
        busy = first_hit([reply], "busy")
        refusal = busy or (None if reply.has("affirm") else first_hit([reply], "deny"))
        if refusal:
            return _refused(asked, refusal, ctx.pitch_start)
        agreed = first_hit([reply], "affirm")
        if agreed:
            return item(True, (asked, agreed[1].hit_evidence(agreed[2])), "permission.agreed")
    return _unanswered(asked, replies)


_AGREE, _REFUSE = True, False
Signal = tuple[tuple[int, int], bool, Found]


def _reply_signals(reply: Turn, inverted: bool, granted: bool = False) -> list[Signal]:
    """Each agreeing or refusing cue of a reply, by position. A go-ahead ("你说", "go ahead")
    always agrees and no time always refuses; a bare yes or no answers the question as asked,
    so after an inverted one ("Is this a bad time?", "打扰到您了吗") it means the opposite. A
    cue inside a longer one counts once, as the longer ("回头再说吧" is later, not "说吧")."""
    signals = []
    for n, sentence in enumerate(reply.sentences):
        taken: list[tuple[int, int]] = []
        cues: tuple[tuple[str, bool], ...] = (
            ("busy", _REFUSE), ("go_ahead", _AGREE), ("affirm", _AGREE), ("deny", _REFUSE),
        )  # fmt: skip
        if granted:  # v7: time given with its limit ("就一分钟啊", "like a real quick minute")
            cues = (("busy", _REFUSE), ("time_granted", _AGREE), *cues[1:])
        for lexicon, meaning in cues:
            for hit in sentence.hits(lexicon):
                if any(a <= hit.start < b for a, b in taken):
                    continue
                taken.append((hit.start, hit.end))
                plain = lexicon in ("affirm", "deny")
                agrees = meaning != inverted if plain else meaning
                signals.append(((n, hit.start), agrees, (reply, sentence, hit)))
    return sorted(signals, key=lambda s: s[0])


@item_check(
    "permission_granted.v2",
    lexicons=("busy", "go_ahead", "affirm", "deny", "permission_inverted"),
)
def permission_granted_v2(ctx: CallContext, params: object) -> Item:
    """Before the pitch the agent asked whether the customer has time, and the answer was yes:
    the customer's last word before the pitch decides, and within a reply the last cue ("我在开车，
    不过你说吧" agrees; "行你说——哎不行，领导来了" refuses); a yes or no to an inverted question
    ("Is this a bad time?" "Nope") is read the other way round."""
    return _last_cue_decides(ctx, tags=False)


def _last_cue_decides(
    ctx: CallContext,
    tags: bool,
    checks: bool = False,
    v5: bool = False,
    lean: float = 0.0,
    granted: bool = False,
) -> Item:
    pitch = _pitch_after_intro(ctx) if v5 else ctx.pitch_start
    exchange = _permission_exchange(ctx, pitch)
    if isinstance(exchange, Item):
        return exchange
    question, asked, replies = exchange
    if checks:
        replies = [r for r in replies if not _answers_line_check(ctx, question, r)]
    inverted = question.has("permission_inverted")
    for reply in reversed(replies):
        signals = _reply_signals(reply, inverted, granted)
        if tags:
            signals = [s for i, s in enumerate(signals) if not _tag(signals, i)]
        if v5 and inverted:
            signals = _plain_yield(signals)
        if not signals:
            continue
        _, agreed, found = signals[-1]
        if not agreed:
            return _refused(asked, found, pitch)
        return item(True, (asked, found[1].hit_evidence(found[2])), "permission.agreed")
    leaning = _leans_yes(ctx, replies[-1], lean) if lean and replies else None
    if leaning is not None:
        return item(True, (asked, leaning), "permission.agreed")
    return _unanswered(asked, replies)


def _leans_yes(ctx: CallContext, reply: Turn, lean: float) -> Evidence | None:
    """The customer's last reply before the pitch, where no rule found a cue: a statement (not a
    question) that the model reads as agreeing with at least `lean`, under the understanding
    file's fill ("im at the gas station waiting talk i'm hearing you" read busy 0.65 before the
    round-5 corpus; statements with no cue were agreements in 20 of 28 such calls on the
    never-read sets 15-41)."""
    rules = ctx.understanding
    family = rules.families.get("reply") if rules is not None else None
    if family is None or any(s.is_question for s in reply.sentences):
        return None
    # the labels the file counts together with a yes (yes, go_ahead, consent)
    agreeing = next((g for g in family.together if "yes" in g), ["yes"])
    for sentence in reversed(reply.sentences):
        reading = sentence.reading
        best = reading.best(family.task, family.together) if reading is not None else None
        if best is not None and best[0] in agreeing and best[1] >= lean:
            read = f"{family.task}={best[0]}"
            hit = Hit(
                "go_ahead", 0, len(sentence.norm), sentence.text, "model", round(best[1], 3), read
            )
            return sentence.hit_evidence(hit)
    return None


def _pitch_after_intro(ctx: CallContext) -> Turn | None:
    """The pitch, not counting a turn that names the product while asking who the person is
    ("I'm calling about a long-distance plan for this line. Are you able to make decisions on her
    account?"): that says why the agent calls; the pitch is the product described or priced."""
    return next(
        (
            t
            for t in ctx.turns
            if ctx.is_pitch(t) and (ctx.states_price(t) or not t.has("identity_question"))
        ),
        None,
    )


def _plain_yield(signals: list[Signal]) -> list[Signal]:
    """After a question that holds both forms ("方便听我说一分钟吗？不方便的话我换个时间打给您")
    a bare yes or no is ambiguous; a go-ahead or a no-time in the same reply is not, and decides
    ("你说吧你说吧，你说快点就行": 就行 would read as yes to the inconvenient form)."""
    plain = ("affirm", "deny")
    if all(found[2].lexicon in plain for _, _, found in signals):
        return signals
    return [s for s in signals if s[2][2].lexicon not in plain]


def _answers_line_check(ctx: CallContext, question: Turn, reply: Turn) -> bool:
    """A reply to the agent checking the line ("Can you hear me ok?" "yes yes hear ok"), asked
    after the permission question and not asking it again: it answers that check."""
    before = ctx.previous_agent_turn(reply)
    return (
        before is not None
        and before.index > question.index
        and before.has("hearing_check")
        and not ctx.asks_permission(before)
    )


_SENTENCE_TAIL = " ,.!?~…，。！？、吧啊呀哈嘛呢哦喔"  # punctuation and final particles


def _tag(signals: list[Signal], i: int) -> bool:
    """A bare yes that ends the sentence after a no-time in it asks for agreement to the no-time
    ("you call back after two thirty, ok?", "你晚点再打，好吧"): a tag, not a yes."""
    (n, _), _, (_, sentence, hit) = signals[i]
    if hit.lexicon != "affirm" or i == 0:
        return False
    (m, _), _, (_, _, before) = signals[i - 1]
    last = not sentence.norm[hit.end :].strip(_SENTENCE_TAIL)
    return m == n and before.lexicon == "busy" and last


@item_check(
    "permission_granted.v3",
    lexicons=("busy", "go_ahead", "affirm", "deny", "permission_inverted"),
)
def permission_granted_v3(ctx: CallContext, params: object) -> Item:
    """As permission_granted.v2, except that a bare yes that ends a sentence after a no-time in
    the same sentence is a tag asking to agree to the no-time, not a yes ("no have customer
    waiting you call back after two thirty ok")."""
    return _last_cue_decides(ctx, tags=True)


@item_check(
    "permission_granted.v4",
    lexicons=("busy", "go_ahead", "affirm", "deny", "permission_inverted", "hearing_check"),
)
def permission_granted_v4(ctx: CallContext, params: object) -> Item:
    """As permission_granted.v3, except that a reply to the agent checking the line after the
    permission question ("Can you hear me ok?" "yes yes hear ok"; "能听到吗？" "能") answers
    that check, not the question: "what you say minute ... can you hear me ... yes" is no yes."""
    return _last_cue_decides(ctx, tags=True, checks=True)


@item_check(
    "permission_granted.v5",
    lexicons=("busy", "go_ahead", "affirm", "deny", "permission_inverted", "hearing_check"),
)
def permission_granted_v5(ctx: CallContext, params: object) -> Item:
    """As permission_granted.v4, except that: a turn naming the product while asking the holder
    question, with no price, is an introduction, not the pitch, so a permission question after
    it still comes before the pitch; after a question holding both forms ("方便吗？不方便的话我再
    打给您"), a go-ahead or no-time in the reply outranks a bare yes or no beside it."""
    return _last_cue_decides(ctx, tags=True, checks=True, v5=True)


class LeanParams(BaseModel):
    lean: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="a cue-less statement the model reads as agreeing at least this surely agrees",
    )


@item_check(
    "permission_granted.v6",
    LeanParams,
    lexicons=("busy", "go_ahead", "affirm", "deny", "permission_inverted", "hearing_check"),
)
def permission_granted_v6(ctx: CallContext, params: LeanParams) -> Item:
    """As permission_granted.v5, except that a last reply before the pitch in which no rule
    finds a cue, a statement rather than a question, agrees when the model reads it as a yes or
    a go-ahead at least `lean` surely (under the understanding file's fill): wording the rules
    have not seen ("waiting talk i'm hearing you")."""
    return _last_cue_decides(ctx, tags=True, checks=True, v5=True, lean=params.lean)


@item_check(
    "permission_granted.v7",
    LeanParams,
    lexicons=(
        "busy", "go_ahead", "affirm", "deny", "permission_inverted", "hearing_check",
        "time_granted",
    ),
)  # fmt: skip
def permission_granted_v7(ctx: CallContext, params: LeanParams) -> Item:
    """As permission_granted.v6, except that time given with its limit (`time_granted`: "我这忙
    着呢，就一分钟啊", "Like a real quick minute, I'm about to pick up my kid") agrees like a
    go-ahead: the last cue of the reply still decides."""
    return _last_cue_decides(ctx, tags=True, checks=True, v5=True, lean=params.lean, granted=True)


# --- v3 ------------------------------------------------------------------------------------------


@item_check(
    "identity_confirmed.v3",
    lexicons=(
        *_IDENTITY_LEXICONS,
        "handover",
        "adult",
        "memory_loss",
        "hearing_check",
        "holder_word",
    ),
)
def identity_confirmed_v3(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v2, except that: a line check that asks the holder question again
    ("喂您好能听到吗 …请问您是这个号码的机主吗") does not end the identity exchange; a relation
    the person asks about ("你是不是我们家细妹子的同学？") is not who they are; a "no" to a question
    by name ("请问是王先生吗？" "不是哦") gives way to a holder's yes to the holder question asked
    after it; and a person whose memory fails them in the exchange ("是我吧，我儿子给我办的，还是我
    女儿办的……我记不清了") gives no clear answer (SPEC: a person without full capacity)."""
    return _identity_v3(ctx, _V3)


_V4_LEXICONS = (
    *_IDENTITY_LEXICONS, "handover", "adult", "memory_loss", "hearing_check", "holder_word",
    "name_check", "registered_other", "age_question", "age_answer",
)  # fmt: skip


@item_check("identity_confirmed.v4", lexicons=_V4_LEXICONS)
def identity_confirmed_v4(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v3, except that: a question for the person by name only
    ("请问是王贵芬女士吗", "Is this Mr. Rampersad?"), read so by a rule or by the model, asks
    nothing about the line's holder (SPEC: not asking = false); the line said to be registered
    in another person's name or ID anywhere after the question (`registered_other`: 户名是我老婆
    的, 身份证登的他的, "the account's in her name") is not the person's, whatever they said
    before and whatever the model reads (a family member who says they can decide still
    passes); a young age given bare in answer to the agent's age question is a child's; and a
    verified person who hands the phone on leaves the next speaker unverified unless the holder
    question is asked again (`_handed_on`)."""
    return _identity_v3(ctx, _V4)


@item_check("identity_confirmed.v5", lexicons=(*_V4_LEXICONS, "goodbye"))
def identity_confirmed_v5(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v4, except that the model's reading of a child on a goodbye ("um
    okay bye") is no child: a goodbye says nothing about who speaks (caller_competent.v4 has
    read it so since its version 4; the identity check failed such calls as a child's)."""
    return _identity_v3(ctx, _V5)


@item_check("identity_confirmed.v6", lexicons=(*_V4_LEXICONS, "goodbye"))
def identity_confirmed_v6(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v5, except that the model's can-decide reading of a question ("What's
    it about, is something wrong with the phone?" after "Lord, no, I only does his meals") is
    none: asking says nothing about who decides for the line."""
    return _identity_v3(ctx, _V6)


def _self_other(later: list[Turn]) -> Found | None:
    """A relation outside the family that the person says they are (`other_relation` with
    `relation_self` in the sentence: "i'm his aide", "我系隔篱屋嘅"), not asked about."""
    for turn in later:
        for sentence in turn.sentences:
            if not sentence.has("relation_self"):
                continue
            for hit in sentence.hits("other_relation"):
                if not sentence.questioned(hit):
                    return turn, sentence, hit
    return None


def _read_other(ctx: CallContext, later: list[Turn]) -> Found | None:
    """A relation outside the family said, not asked, in a sentence the model surely reads as
    not the holder's or not theirs to decide ("这座机是房东的，户头是他的，我是租这里的" reads
    not_holder 0.98): the words and the reading agree, so no holder_no need be added."""
    for turn in later:
        for sentence in turn.sentences:
            if not _read_not_theirs(ctx, sentence):
                continue
            for hit in sentence.hits("other_relation"):
                if not sentence.questioned(hit):
                    return turn, sentence, hit
    return None


def _read_not_theirs(ctx: CallContext, sentence: Sentence) -> bool:
    """The model reads the sentence as not the holder's, or not theirs to decide, with at
    least understanding.yaml's `fill`."""
    rules = ctx.understanding
    best = sentence.reading.best("identity") if sentence.reading is not None else None
    if rules is None or best is None:
        return False
    return best[0] in ("not_holder", "cannot_decide") and best[1] >= rules.fill


def _explains(ctx: CallContext, turn: Turn) -> bool:
    """The agent's turn answers the customer's counter-question to the holder question ("你先说你
    找机主做啥子嘛？" "有个长途包月的优惠想跟机主介绍一下"): the customer asked and answered nothing
    of who they are, and the agent neither asks for time nor states a price. The exchange goes
    on: the customer's next words answer the question ("那是我噻")."""
    before = ctx.turns[turn.index - 1] if turn.index else None
    asked_back = (
        before is not None
        and before.speaker == "customer"
        and any(s.is_question for s in before.sentences)
        and not any(before.has(name) for name in _ANSWER_LEXICONS)
    )
    return asked_back and not ctx.asks_permission(turn) and not ctx.states_price(turn)


@item_check("identity_confirmed.v7", lexicons=(*_V4_LEXICONS, "goodbye"))
def identity_confirmed_v7(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v6, except that a customer who answers the holder question with a
    question of their own ("你先说你找机主做啥子嘛？", "Who wants to know?") is answered by the
    agent's explanation, not moved on from: when that turn neither asks for time nor states a
    price, the customer's next words still answer ("那是我噻，号码是我拿自己身份证办的")."""
    return _identity_v3(ctx, _V7)


@item_check("identity_confirmed.v8", lexicons=(*_V4_LEXICONS, "goodbye"))
def identity_confirmed_v8(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v7, except that a relation outside the family that the person
    later says they are ("i'm his aide i just answer the phone for him", "我系隔篱屋嘅，帮佢睇住
    屋企") is not the holder, whatever they said before: a carer or neighbour who answered "yes"
    to the holder question has told who they are."""
    return _identity_v3(ctx, _V8)


@item_check("identity_confirmed.v9", lexicons=(*_V4_LEXICONS, "goodbye", "clarify"))
def identity_confirmed_v9(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v8, except that a bare listening noise in a sentence that asks who
    is calling or what was said ("嗯……啥……你是谁啊……") answers nothing: the question did not
    reach them. "嗯，我的。您哪位？" and "Yes. Who's this?" still answer (an English "mm" was
    never a holder's yes)."""
    return _identity_v3(ctx, _V9)


@item_check(
    "identity_confirmed.v10",
    lexicons=(*_V4_LEXICONS, "goodbye", "clarify", "mistaken_caller"),
)
def identity_confirmed_v10(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v9, except that a person who takes the agent for someone they know
    before any pitch ("建国啊？…你啥时候回来吃饭？", "Is that you, Gareth, bach? … Are you from
    the chapel, love?"; caller_competent.v14's reading: after their first turn, or twice) gives
    no clear answer, whatever they said of the line (SPEC: a person without full capacity)."""
    return _mistaken_unsure(ctx, _identity_v3(ctx, _V9))


@item_check(
    "identity_confirmed.v11",
    lexicons=(*_V4_LEXICONS, "goodbye", "clarify", "mistaken_caller"),
)
def identity_confirmed_v11(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v10, except that a person whose answer says the line is another's
    and who told their relation before the holder question ("This is his wife." ... "It's under
    his name, but I do everything ... I decide") is that family member: one who says they can
    decide passes, as SPEC has it, instead of failing as not the holder."""
    return _mistaken_unsure(ctx, _identity_v3(ctx, _V11))


@item_check(
    "identity_confirmed.v12",
    lexicons=(*_V4_LEXICONS, "goodbye", "clarify", "mistaken_caller", "relation_self"),
)
def identity_confirmed_v12(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v11, except that a relation said after a holder's yes in an
    earlier turn ("Yes, this is Yusuf." … "Brother, I'm at the airport lot"), or before the
    person says outright that they hold the account ("My nephew says there's all these scam
    calls" … "Yes, I'm the account holder"), is a mention, not who they are."""
    return _mistaken_unsure(ctx, _identity_v3(ctx, _V12))


def _mistaken_unsure(ctx: CallContext, found: Item) -> Item:
    """`found`, or no clear answer where the person took the agent for someone they know."""
    if not found.passed:
        return found
    pitch = ctx.pitch_start
    before = [t for t in ctx.customer_turns() if pitch is None or t.index < pitch.index]
    mistaken = mistaken_caller(speakers.after(before, speakers.handover(before)))
    if mistaken is None:
        return found
    return item(False, (*found.evidence, mistaken[1].hit_evidence(mistaken[2])), "holder.unsure",
                said=quote(mistaken))  # fmt: skip


_LISTENING = frozenset(("mm", "mhm", "uh-huh", "嗯", "啊", "哦"))


def _heard_yes(sentence: Sentence, hit: Hit) -> bool:
    """Not a bare listening noise in a sentence asking who or what."""
    return not (hit.text.strip(" ,.!?，。！？…") in _LISTENING and sentence.has("clarify"))


def _answered_yes(sentence: Sentence, hit: Hit) -> bool:
    """`_heard_yes`, and not a yes asked back as a sentence of its own ("Yes? Who's this?" is
    how a phone is answered); a yes with words after it is not bare ("嗯 是我的号 嗯 几点了")."""
    if hit.source == "model":  # the model's reading of the turn lies on its last sentence
        return _heard_yes(sentence, hit)
    bare = len(sentence.norm.strip(" ?？.。!！,，…")) <= len(hit.text.strip(" ?？.。!！,，…"))
    return _heard_yes(sentence, hit) and not (bare and sentence.is_question)


def _identity_v3(ctx: CallContext, r: _Reads) -> Item:
    asks = _asks_holder if r.v4 else _asks_any
    questions = [t for t in ctx.agent_turns() if asks(t)]
    if not questions:
        return _identity(ctx, replace(r, v3=False))
    unsure = _unsure(ctx, questions[0])
    if unsure is not None:
        asked = questions[0].evidence("identity_question")
        return item(False, (asked, unsure[1].hit_evidence(unsure[2])), "holder.unsure",
                    said=quote(unsure))  # fmt: skip
    found = _identity(ctx, r)
    if r.v4 and found.passed:
        return _handed_on(ctx, questions, found) or found
    if found.passed or found.why is None or found.why.key != "holder.not_theirs":
        return found
    return _asked_again(ctx, questions, strict=r.v14) or found


def _handed_on(ctx: CallContext, questions: list[Turn], found: Item) -> Item | None:
    """The verified person hands the phone to someone else after answering ("你跟俺儿说吧。小军！
    电信的电话！"), and nobody asks the new speaker the holder question: whoever goes on is not
    verified."""
    answered = max(e.start for e in found.evidence)
    later = [t for t in ctx.customer_turns() if t.start > answered]
    point = speakers.handover(later)
    if point is None or any(q.index > point[0] for q in questions):
        return None
    if not speakers.after(later, point):  # nobody took the phone
        return None
    turn = ctx.turns[point[0]]
    said = turn.sentences[point[1]]
    return item(False, (*found.evidence, said.span_evidence()), "holder.handed_on",
                said=f"“{said.text}”")  # fmt: skip


def _asks_any(turn: Turn) -> bool:
    return turn.has("identity_question")


def _asks_holder(turn: Turn) -> bool:
    """The holder question: a question the rules find that is not a question by name only
    ("is this Mrs. Patel?" asks for a name), or the model's reading of a turn that asks for no one
    by name (the heads read 请问是王女士吗 as the holder question)."""
    named = False
    for sentence in turn.sentences:
        names = sentence.rule_hits("name_check")
        named = named or bool(names)
        for hit in sentence.hits("identity_question"):
            if hit.source != "model" and not any(_overlap(hit, n) for n in names):
                return True
    return not named and turn.has("identity_question")


def _overlap(a: Hit, b: Hit) -> bool:
    return a.start < b.end and b.start < a.end


def _moves_on_v3(ctx: CallContext, turn: Turn) -> bool:
    """The agent moves on from the identity exchange: asks for time or pitches, though not by a
    line check that asks the holder question again."""
    line_check = turn.has("hearing_check") and turn.has("identity_question")
    return (ctx.asks_permission(turn) and not line_check) or ctx.is_pitch(turn)


def _unsure(ctx: CallContext, question: Turn) -> Found | None:
    """The person's memory fails them while saying whose line it is."""
    pitch = ctx.pitch_start
    answers = ctx.exchange(question, pitch)
    for turn in answers:
        for sentence in turn.sentences:
            for hit in sentence.rule_hits("memory_loss"):
                return turn, sentence, hit
    return None


def _asked_again(ctx: CallContext, questions: list[Turn], strict: bool = False) -> Item | None:
    """A holder question asked after the person said no, answered with a holder's yes and no
    "no": the person is the holder of a line that a name on file no longer fits. `strict`
    (v14): nor a refusal or a cannot-decide in the reply, nor the model's sure reading of it as
    someone else's line ("me ar no chance bab i cant even order the tea bags without askin
    him" has the "me" of a yes)."""
    first_no = next(
        (t for t in ctx.customer_turns() if t.index > questions[0].index and t.has("holder_no")),
        None,
    )
    if first_no is None:
        return None
    for question in (q for q in questions if q.index > first_no.index):
        replies = ctx.replies_to(question)
        holder = first_hit(replies, "holder_yes")
        if strict and any(_says_not_theirs(ctx, r) for r in replies):
            continue
        if holder and not first_hit(replies, "holder_no"):
            if first_hit(replies, "family_relation") or first_hit(replies, "other_relation"):
                return None
            asked = question.evidence("identity_question")
            return item(True, (asked, holder[1].hit_evidence(holder[2])), "holder.confirmed")
    return None


def _says_not_theirs(ctx: CallContext, reply: Turn) -> bool:
    """A reply that refuses or cannot decide, or that the model surely reads as not the
    holder's or not theirs to decide."""
    if reply.has("deny") or reply.has("cannot_decide"):
        return True
    return any(_read_not_theirs(ctx, sentence) for sentence in reply.sentences)


# --- permission v8 -------------------------------------------------------------------------------


class PitchFirstParams(LeanParams):
    pitched_words: int = Field(
        24,
        ge=1,
        description="words (English), or Chinese characters / 1.5, of product talk before the "
        "permission question in the same turn that make it a pitch already begun (on the read "
        "call sets a 21-word naming with its reason was labeled asked before the pitch, 26- to "
        "40-word descriptions after it)",
    )


def _pitched_before_asking(ctx: CallContext, question: Turn, words: int) -> Sentence | None:
    """The sentences of the permission question's turn before its question, when they talk
    about the product at length ("So we have Unlimited Long Distance, you can call anywhere in
    the country, as much as you want, no counting minutes. Do you have a minute?"): the pitch
    began before the question. Naming the product while asking ("I'm calling about a weather
    alert service. Would you have a few minutes?") is no pitch."""
    before: list[Sentence] = []
    for sentence in question.sentences:
        if sentence.has("permission_question") or sentence.has("time_request"):
            break
        before.append(sentence)
    talk = [s for s in before if _product_talk(ctx, s, len(s.norm), priced_only=False)]
    if not talk:
        return None
    size = sum(_size_text(s.norm, s.joiner) for s in talk)
    return talk[0] if size >= words else None


def _mid_pitch(begun: Sentence, asked: Evidence) -> Item:
    return item(False, (begun.span_evidence(), asked), "permission.asked_mid_pitch")


def _holder_half(question: Turn, reply: Turn) -> bool:
    """A reply that answers only the holder half of a question asking both ("am I speaking with
    the account holder and do you have a minute?" "yep that's me, it's my account"): it says
    who they are and gives no time; the model's reading of it as a go-ahead does not count, it
    reads the whole reply, holder half included."""
    sentences = reply.sentences
    return (
        question.has("identity_question")
        and reply.has("holder_yes")
        and not any(s.rule_hits("go_ahead") or s.rule_hits("time_granted") for s in sentences)
    )


_V8_LEXICONS = (
    "busy", "go_ahead", "affirm", "deny", "permission_inverted", "hearing_check",
    "time_granted", "identity_question", "holder_yes", "company_intro", "wary",
)  # fmt: skip


@item_check("permission_granted.v8", PitchFirstParams, lexicons=_V8_LEXICONS)
def permission_granted_v8(ctx: CallContext, params: PitchFirstParams) -> Item:
    """As permission_granted.v7, except that: a permission question asked after the agent, in
    the same turn, already talked about the product at length (`pitched_words`) comes after the
    pitch began; a yes that answers only the holder half of a question asking both ("yep
    that's me, it's my account") gives no time; and a last reply that suspects a scam (`wary`:
    "俺孙子说了 …都是骗子 让俺别搭理") is not read as a yes by the model's lean, only by a cue."""
    lean = params.lean
    exchange = _permission_exchange(ctx, _pitch_after_intro(ctx))
    if not isinstance(exchange, Item):
        question, asked, replies = exchange
        begun = _pitched_before_asking(ctx, question, params.pitched_words)
        if begun is not None:
            return _mid_pitch(begun, asked)
        if replies and all(_holder_half(question, r) for r in replies):
            return item(False, (asked, replies[0].evidence()), "permission.holder_half")
        if replies and replies[-1].has("wary"):  # no model lean on a suspicious reply
            lean = 0.0
    return _last_cue_decides(ctx, tags=True, checks=True, v5=True, lean=lean, granted=True)


# --- identity v12 --------------------------------------------------------------------------------


def _owns_account_later(turns: list[Turn], after: Sentence) -> bool:
    """A later sentence says the person holds the account in so many words: a holder's yes with
    the account named (holder_word: "Yes, I'm the account holder", "是我，我是机主")."""
    seen = False
    for turn in turns:
        for sentence in turn.sentences:
            owns = sentence.has("holder_yes") and sentence.has("holder_word")
            if seen and owns and not sentence.has("family_relation") and not sentence.is_question:
                return True
            seen = seen or sentence is after
    return False


# --- identity v13 --------------------------------------------------------------------------------


@item_check(
    "identity_confirmed.v13",
    lexicons=(
        *_V4_LEXICONS, "goodbye", "clarify", "mistaken_caller", "relation_self",
        "decide_question", "modal_yes",
    ),
)  # fmt: skip
def identity_confirmed_v13(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v12, except that a family member who answers yes to the agent's
    question whether they can decide for the line ("Are you able to make decisions on the
    account?" "I am." / "您能做主吗？" "能噻") has said they can decide: SPEC's adult family
    member who can decide, though their words hold no can-decide of their own."""
    return _decides_when_asked(ctx, _mistaken_unsure(ctx, _identity_v3(ctx, _V12)))


def _decides_when_asked(ctx: CallContext, found: Item, echoed: bool = False) -> Item:
    """v13's yes to the decide question; `echoed` (v14): also after an unclear answer, when
    the agent's decide question names the person's family relation as it asks, or the person
    told it before the question."""
    keys = (
        ("holder.family_undecided", "holder.no_answer") if echoed else ("holder.family_undecided",)
    )
    if found.passed or found.why is None or found.why.key not in keys:
        return found
    said = _yes_to_decide(ctx)
    if said is None:
        return found
    question, answer = said
    if found.why.key == "holder.no_answer" and not (
        _names_relation(ctx, question) or _relation_before(ctx, question)
    ):
        return found
    return item(True, (*found.evidence, question, answer), "holder.family_can_decide")


def _relation_before(ctx: CallContext, question: Evidence) -> bool:
    """The customer said their family relation before the decide question ("Ricky's offshore
    ... This is his wife." "Are you authorized on the account, can you make decisions on the
    line?"), as v11 reads a relation told before the holder question."""
    before = [t for t in ctx.customer_turns() if t.end <= question.start]
    return _said_relation(before, "family_relation") is not None


def _names_relation(ctx: CallContext, question: Evidence) -> bool:
    """The agent turn that asks the decide question names a family relation of the person's
    ("哦您是阿姨的女儿啊。那阿姨这个号的业务，您能替她做主吗？", "So you're his wife - can you
    make decisions on the account?")."""
    turn = next((t for t in ctx.agent_turns() if t.start <= question.start < t.end + 0.01), None)
    return turn is not None and turn.has("family_relation")


_V14_LEXICONS = (
    *_V4_LEXICONS, "goodbye", "clarify", "mistaken_caller", "relation_self", "decide_question",
    "modal_yes", "deny",
)  # fmt: skip


@item_check("identity_confirmed.v14", lexicons=_V14_LEXICONS)
def identity_confirmed_v14(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v13, except that a yes to the holder question asked again after a
    no does not count when the reply also refuses or cannot decide, or the model surely reads
    it as not the holder's ("me ar no chance bab i cant even order the tea bags without askin
    him"); a relation outside the family said later in a sentence the model surely reads as not
    the holder's is a later "not mine" ("这座机是房东的，户头是他的，我是租这里的"); a yes asked
    back ("Yes? Who's this?") answers nothing; and a person whose answer was unclear, asked
    whether they can decide by an agent who names their family relation in that turn ("哦您是
    阿姨的女儿啊。那阿姨这个号的业务，您能替她做主吗？" "能么"), or who told it themselves before
    ("This is his wife." … "can you make decisions on the line?" "Honey, I make every decision
    in this house."), answered yes: the family member who can decide."""
    found = _mistaken_unsure(ctx, _identity_v3(ctx, _V14))
    return _decides_when_asked(ctx, found, echoed=True)


def _yes_to_decide(ctx: CallContext) -> tuple[Evidence, Evidence] | None:
    """The agent's first question whether the person can decide, and the customer's first
    reply to it when it opens with a yes (`affirm`, `modal_yes`, `can_decide`) and holds no
    no, cannot-decide or maybe; not when the same turn also asks for time."""
    asked = next((t for t in ctx.agent_turns() if t.has("decide_question")), None)
    if asked is None or ctx.asks_permission(asked):
        return None  # "那你能做主吗…你现在有空听一下吗": a yes may answer the time
    reply = ctx.replies_to(asked)[:1]
    if not reply or any(reply[0].has(x) for x in ("deny", "cannot_decide", "hedge")):
        return None
    first = reply[0].sentences[0]
    if first.is_question:
        return None
    for lexicon in ("modal_yes", "affirm", "can_decide"):
        hits = first.hits(lexicon)
        if hits:
            return asked.evidence("decide_question"), first.hit_evidence(hits[0])
    return None


# --- permission v9 -------------------------------------------------------------------------------


def _pitched_before_asking_v9(
    ctx: CallContext, question: Turn, words: int, described: bool = False
) -> Sentence | None:
    """`_pitched_before_asking`, reading up to the question itself inside its sentence too: a
    recognizer's unpunctuated turn is one sentence ("是这样我们现在有个96688长途包月 您打国内长途
    的时候先拨96688再拨号码 每个月10块钱包300分钟 哦对了 您现在方便听我说两句吧"), and the
    product talk before its question is the same pitch begun. `described` (v10): there, words
    that describe the product (`_described`) count though unpriced."""
    size, first = 0.0, None
    for sentence in question.sentences:
        asks = [*sentence.hits("permission_question"), *sentence.hits("time_request")]
        end = min((h.start for h in asks), default=len(sentence.norm))
        told = described and bool(asks) and _described(ctx, sentence, end)
        if told or _product_talk(ctx, sentence, end, priced_only=bool(asks)):
            size += _size_text(sentence.norm[:end], sentence.joiner)
            first = first or sentence
        if asks:
            break
    return first if first is not None and size >= words else None


def _described(ctx: CallContext, sentence: Sentence, end: int) -> bool:
    """Three or more different pitch terms before `end`, after any identity question or company
    introduction: the product described, not only named."""
    intro = [*sentence.hits("identity_question"), *sentence.hits("company_intro")]
    start = max((h.end for h in intro if h.start < end), default=0)
    terms = {m.group(0) for m in ctx.pitch_terms.finditer(sentence.norm, start, end)}
    return len(terms) >= 3


def _product_talk(ctx: CallContext, sentence: Sentence, end: int, priced_only: bool) -> bool:
    """The sentence up to `end` talks about the product (a pitch term, a price with its period)
    and neither asks who the person is nor introduces the company. `priced_only`: the words
    before the question in its own sentence count only with a price, since a reason for calling
    runs on into the question there too ("我看您这个号码长途打的比较多想给您介绍一个长途包月的
    优惠大概两分钟您现在方便听吗" names the product, it does not pitch it)."""
    intro = [*sentence.hits("identity_question"), *sentence.hits("company_intro")]
    if any(h.start < end for h in intro):
        return False
    priced = any(m.period is not None and m.end <= end for m in sentence.money)
    return priced or (not priced_only and bool(ctx.pitch_terms.search(sentence.norm[:end])))


def _size_text(text: str, joiner: str) -> float:
    if joiner == "":
        return len(re.sub(r"\W", "", text)) / 1.5
    return len(text.split())


@item_check("permission_granted.v9", PitchFirstParams, lexicons=_V8_LEXICONS)
def permission_granted_v9(ctx: CallContext, params: PitchFirstParams) -> Item:
    """As permission_granted.v8, except that the product talk before the permission question
    is read inside the question's own sentence too (`_pitched_before_asking_v9`): an
    unpunctuated turn that describes and prices the product, then asks for time, asked after
    the pitch began."""
    return _asked_after_pitch(ctx, params, _pitched_before_asking_v9)


def _asked_after_pitch(
    ctx: CallContext,
    params: PitchFirstParams,
    pitched: Callable[[CallContext, Turn, int], Sentence | None],
) -> Item:
    """v8's judgment, unless `pitched` finds the pitch begun before the permission question."""
    exchange = _permission_exchange(ctx, _pitch_after_intro(ctx))
    if isinstance(exchange, Item):
        return permission_granted_v8(ctx, params)
    begun = pitched(ctx, exchange[0], params.pitched_words)
    if begun is not None:
        return _mid_pitch(begun, exchange[1])
    return permission_granted_v8(ctx, params)


@item_check("permission_granted.v10", PitchFirstParams, lexicons=_V8_LEXICONS)
def permission_granted_v10(ctx: CallContext, params: PitchFirstParams) -> Item:
    """As permission_granted.v9, except that the words before the permission question in its
    own sentence are product talk when they describe the product with three or more of its
    pitch terms, priced or not (`_pitched_before_asking_v10`): "是这样的帅哥 咱们电信这边给老
    用户免费升级彩铃 七彩铃音 别人给你打电话听的不是嘟嘟的 … 拨一一八一零零就能选 对了你现在方便
    吧"."""
    return _asked_after_pitch(ctx, params, _pitched_before_asking_v10)


def _pitched_before_asking_v10(ctx: CallContext, question: Turn, words: int) -> Sentence | None:
    return _pitched_before_asking_v9(ctx, question, words, described=True)


# --- identity v15 --------------------------------------------------------------------------------


@item_check("identity_confirmed.v15", lexicons=(*_V14_LEXICONS, "holder_word"))
def identity_confirmed_v15(ctx: CallContext, params: object) -> Item:
    """As identity_confirmed.v14, except that a family relation mentioned in passing ("今天我侄子
    结婚，闹热得很！") is not who the person is when the agent asks the holder question again and
    the answer is a holder's yes with no relation, no "no" and nothing that refuses
    (`_reasked_holder`: "请问您是机主本人吗？" "是我的号，哈哈，是我的"): the agent asked again
    because the first answer said nothing, and the second says it."""
    found = identity_confirmed_v14(ctx, params)
    if found.passed or found.why is None or found.why.key != "holder.family_undecided":
        return found
    return _reasked_holder(ctx) or found


_RELATIONS = ("holder_no", "family_relation", "other_relation", "relation_self")


def _reasked_holder(ctx: CallContext) -> Item | None:
    """The holder question asked again in the rules' words with the holder named (机主, "account
    holder"; not "这号码平时是您用是吧", not "您是他妈妈是吧"), answered in the reply's first
    sentence by the rules' holder's yes, with no relation, no "no" and no refusal anywhere in
    the reply; unless the person said outright who they are before it."""
    questions = [t for t in ctx.agent_turns() if _asks_holder(t)]
    for question in questions[1:]:
        before = [t for t in ctx.customer_turns() if t.index < question.index]
        if any(t.has("relation_self") or t.has("holder_no") for t in before):
            return None  # who they are was said outright: the relation stands
        if not _names_holder(question):
            continue
        replies = ctx.replies_to(question)
        if not replies:
            continue
        first = replies[0].sentences[0]
        holder = [h for h in first.hits("holder_yes") if h.source != "model"]
        if not holder:
            continue
        if any(first_hit(replies, name) for name in _RELATIONS):
            return None
        if any(_says_not_theirs(ctx, r) for r in replies):
            return None
        asked = question.evidence("identity_question")
        return item(True, (asked, first.hit_evidence(holder[0])), "holder.confirmed")
    return None


def _names_holder(question: Turn) -> bool:
    """A rules' holder question whose sentence names the holder (`holder_word`), and no family
    relation in the turn."""
    if question.has("family_relation"):
        return False
    return any(
        s.has("holder_word") and any(h.source != "model" for h in s.hits("identity_question"))
        for s in question.sentences
    )
