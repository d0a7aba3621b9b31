"""Forbidden phrases (服务忌语) in the agent's speech, as verbatim spans with a category."""

from __future__ import annotations

import itertools
import re
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.checks.registry import forbidden_check
from qa_pipeline.languages import Language
from qa_pipeline.ruleset.loader import CompiledForbiddenRule, LanguagePack
from qa_pipeline.text.normalize import surface
from qa_pipeline.understanding.reading import Reading
from qa_pipeline.verdict.model import ForbiddenFinding

_CLAUSE = re.compile(r"[^，,。！？!?；;:：]+")
# The sentence as the screen reads it: one clause a line, so a rule's ^ and $ hold there too.
_CLAUSE_BREAK = re.compile(r"\s*(?:[，,。！？!?；;:：]+|\.(?:\s+|$))\s*")
# A conditional clause just before a threat belongs to it ("您不开的话，号码会被限制").
_CONDITION = re.compile(r"(?:的话|^\s*(?:如果|要是|假如))|^\s*(?:if|unless)\b")
_TRIM = " \t.。!！?？,，"
# A word said twice is one beat of impatience, not two clauses: "行了，行了", "fine, fine".
_REPEAT = re.compile(r"(?<![a-z0-9])(\w{1,6})[,，](?=\s*\1(?![a-z0-9]))")
# Quoted words are mentioned, not said: the customer's "你们就是骗钱", the agent's own wrong
# "three months free" being corrected. Masked before matching (spans stay verbatim).
_PAIRED = r"“[^”]{0,80}”|「[^」]{0,80}」|‘[^’]{0,80}’|\"[^\"]{0,80}\""
# A straight single quote, not an apostrophe: no letter just outside it. v1-v5 took a letter of
# any script beside it for an apostrophe; forbidden_phrases.v6 only a Latin one, so that
# "您刚才说'不要钱的我才要'" quotes.
_SINGLE = r"(?<![{w}'])'(?=\w)[^'\n]{{0,80}}?(?<=[\w.!?,])'(?![{w}'])"
_QUOTE = re.compile(_PAIRED + "|" + _SINGLE.format(w=r"\w"))
_QUOTE_V6 = re.compile(_PAIRED + "|" + _SINGLE.format(w="A-Za-z0-9"))
_ATTITUDE = frozenset({"arguing", "dismissive"})


class _Offer(NamedTuple):
    """What a claim is judged against: whether the product costs money, its trial length."""

    paid: bool
    trial_days: int | None
    lang: Language


def _family(rule: CompiledForbiddenRule) -> str:
    category = rule.spec.category
    return "attitude" if category in _ATTITUDE else category


def _clauses(text: str, pack: LanguagePack) -> list[tuple[int, int]]:
    """Clauses by punctuation. Unpunctuated ASR text reads as one long clause and a span quoting
    all of it says little, so a long one is cut again at the pack's soft breaks (a space between
    Chinese phrases; before an English "and", "but", "so" ...)."""
    clauses = []
    soft, long = pack.soft_break, pack.soft_break_after
    for match in _CLAUSE.finditer(text):
        if not match.group(0).strip():
            continue
        start, end = match.span()
        if end - start < long:
            clauses.append((start, end))
            continue
        cuts = [start, *(m.start() for m in soft.finditer(text, start, end)), end]
        clauses += [(a, b) for a, b in itertools.pairwise(cuts) if text[a:b].strip()]
    return clauses


def _mask_quotes(text: str, quotes: re.Pattern[str] = _QUOTE) -> str:
    return quotes.sub(lambda m: " " * len(m.group(0)), text)


def _within_trial(clause: str, lang: Language, trial_days: int | None) -> bool:
    """A trial qualifier is a disclosure only for a product with a trial, and only when every
    length stated is within it: "前30天免费" on a 30-day trial; not "头半年不要钱", not "first
    month's free" for a product without one."""
    if not trial_days:
        return False
    return all(days <= trial_days + 1 for days in lang.stated_lengths(clause))


def matches(rule: CompiledForbiddenRule, clause: str) -> bool:
    """Whether `rule`'s patterns match the view of one clause (its exemptions aside)."""
    if rule.negation is None:
        return rule.pattern.search(clause) is not None
    # A negated match is a denial ("不会停机", "you won't lose your number"); another match of
    # the rule in the clause may still stand. The window is the rule's, usually one: the cue
    # of a condition a little before ("不开就停机", "if you don't, your line ...") negates nothing.
    return any(not rule.negation.negates(clause, m.start()) for m in rule.pattern.finditer(clause))


def _applies(rule: CompiledForbiddenRule, views: list[str], index: int, offer: _Offer) -> bool:
    """Whether `rule`, matched in clause `index`, applies. Its exemptions are read with the
    neighbouring clauses, where speech puts them: a qualifier before ("如果您在试用期内退订，不会
    收取任何费用", "if you cancel within the 14 days, you won't be charged"), a way forward
    after ("没法帮您退，但可以帮您提交"); a trial qualifier only before or in the clause itself."""
    if rule.spec.when == "paid_product" and not offer.paid:
        return False
    before = ",".join(views[max(index - 1, 0) : index + 1])
    if rule.unless and rule.unless.search(",".join(views[max(index - 1, 0) : index + 2])):
        return False
    return not _trial_qualified(rule, before, offer)


def _trial_qualified(rule: CompiledForbiddenRule, before: str, offer: _Offer) -> bool:
    """The clause (read with the one before it) qualifies its claim by the campaign's trial."""
    return bool(
        rule.unless_trial
        and rule.unless_trial.search(before)
        and _within_trial(before, offer.lang, offer.trial_days)
    )


def _read(
    text: str, pack: LanguagePack, text_surface: str, quotes: re.Pattern[str] = _QUOTE
) -> tuple[str, list[tuple[int, int]], list[str]]:
    """The sentence's surface with quotes masked, its clauses' positions and their views.
    Clause positions come from the verbatim text (spans are quoted as said); each clause is
    matched in its repaired view (面费 -> 免费, "wont" -> "won't", 一分 -> 1分), quotes masked."""
    masked = _mask_quotes(text, quotes)
    view = text_surface if masked == text else surface(masked)
    clauses = _clauses(_REPEAT.sub(lambda m: m.group(1) + " ", view), pack)
    # A clause's view ends where its words do ("less." -> "less"), so a rule's $ is its end.
    return view, clauses, [pack.view(masked[start:end]).rstrip(" .…") for start, end in clauses]


def clause_views(sentence: str, pack: LanguagePack) -> list[str]:
    """The clauses of one sentence of agent speech as the rules read them."""
    return _read(sentence, pack, surface(sentence))[2]


_MEMO_SIZE = 20_000  # sentences remembered per language pack (a few MB at most)
Phrase = tuple[str, str, str]  # category, verbatim span, rule id


def _sentence_phrases(
    sentence: Sentence, offer: _Offer, quotes: re.Pattern[str] = _QUOTE
) -> tuple[Phrase, ...]:
    """The forbidden phrases of one sentence, remembered per text, offer and quote marks: the
    same sentence said in another call (the script) gives the same phrases."""
    pack = sentence.pack
    key = ("forbidden", sentence.text, offer, quotes.pattern)
    found: tuple[Phrase, ...] | None = pack.memo.get(key)
    if found is None:
        found = ()
        if pack.forbidden_any.search(_CLAUSE_BREAK.sub("\n", sentence.norm)):
            found = tuple(_phrases(sentence, pack, offer, quotes))
        if len(pack.memo) >= _MEMO_SIZE:
            pack.memo.clear()
        pack.memo[key] = found
    return found


def _phrases(
    sentence: Sentence, pack: LanguagePack, offer: _Offer, quotes: re.Pattern[str]
) -> list[Phrase]:
    text = sentence.text
    rules = pack.forbidden
    view, clauses, views = _read(text, pack, sentence.surface, quotes)
    matched: list[tuple[int, CompiledForbiddenRule]] = []
    for index, clause in enumerate(views):
        if not pack.forbidden_any.search(clause):
            continue
        rule = next(
            (r for r in rules if matches(r, clause) and _applies(r, views, index, offer)),
            None,
        )
        if rule is not None:
            matched.append((index, rule))
    phrases: list[Phrase] = []
    i = 0
    while i < len(matched):
        first, rule = matched[i]
        last = first
        # Adjacent clauses of one category are one phrase ("永久免费的，不收任何费用"); so are
        # impatience and blame, and blame decides ("我都说了三遍了，您到底有没有在听").
        while (
            i + 1 < len(matched)
            and matched[i + 1][0] == last + 1
            and _family(matched[i + 1][1]) == _family(rule)
        ):
            i += 1
            last = matched[i][0]
            if matched[i][1].spec.category == "arguing":
                rule = matched[i][1]
        if (
            first > 0
            and rule.spec.category == "threat"
            and _CONDITION.search(view[slice(*clauses[first - 1])])
        ):
            first -= 1
        span = text[clauses[first][0] : clauses[last][1]].strip(_TRIM)
        phrases.append((rule.spec.category, span, rule.spec.id))
        i += 1
    return phrases


@forbidden_check("forbidden_phrases.v1")
def forbidden_phrases(ctx: CallContext, params: object) -> tuple[ForbiddenFinding, ...]:
    """Agent speech only; a rule may be exempt in some clauses (a trial-qualified "free") and
    may apply only to paid products (a "free" claim is misleading only when it is not). An agent
    turn no rule matched is forbidden when the understanding model reads it so, confidently
    (understanding.yaml `forbidden`)."""
    return _turn_phrases(ctx, trial_claims=False)


@forbidden_check("forbidden_phrases.v2")
def forbidden_phrases_v2(ctx: CallContext, params: object) -> tuple[ForbiddenFinding, ...]:
    """As forbidden_phrases.v1, except that the model's misleading reading of a turn is dropped
    when every free claim the rules find in it names the campaign's trial in its own clause and
    says no charge one way ("就是先免费试用，您先用着"): a trial without its end fails trial_end,
    it is no lie (`_trial_claims`)."""
    return _turn_phrases(ctx, trial_claims=True)


class ForbiddenParamsV3(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    firm: tuple[str, ...] = Field(
        (),
        description="ids of forbidden rules whose matches the model's veto "
        "(understanding.yaml `forbidden_veto`) does not drop: wording that says one thing only, "
        'such as a closing brush-off ("Suit yourself. Bye.") the model reads as polite',
    )


@forbidden_check("forbidden_phrases.v3", ForbiddenParamsV3)
def forbidden_phrases_v3(
    ctx: CallContext, params: ForbiddenParamsV3
) -> tuple[ForbiddenFinding, ...]:
    """As forbidden_phrases.v2, except that a rule listed in `firm` is never vetoed by the
    model's plainly-polite reading of its turn, and phrases of one category other than arguing
    in consecutive sentences of one turn, the first ending its sentence and the next opening
    its own, are one phrase ("Look, do you want it or not? I haven't got all day."; "It's free.
    Costs you nothing.") as adjacent clauses are (`_kin`)."""
    return _turn_phrases(ctx, trial_claims=True, firm=frozenset(params.firm), join=True)


@forbidden_check("forbidden_phrases.v4", ForbiddenParamsV3, lexicons=("age_question",))
def forbidden_phrases_v4(
    ctx: CallContext, params: ForbiddenParamsV3
) -> tuple[ForbiddenFinding, ...]:
    """As forbidden_phrases.v3, except that the model's reading of a turn that asks the
    customer's age ("are you over eighteen yourself?", "can I ask how old you are") is no
    forbidden phrase: the heads read the question as an insult (three read sets, never labeled),
    and asking it is the identity check SPEC wants."""
    firm = frozenset(params.firm)
    return _turn_phrases(ctx, trial_claims=True, firm=firm, join=True, age_asked=True)


@forbidden_check("forbidden_phrases.v5", ForbiddenParamsV3, lexicons=("age_question",))
def forbidden_phrases_v5(
    ctx: CallContext, params: ForbiddenParamsV3
) -> tuple[ForbiddenFinding, ...]:
    """As forbidden_phrases.v4, and in a turn where the rules found a phrase, each other
    sentence is read by the model alone (the model otherwise reads only turns the rules found
    nothing in, so a second phrase beside a rule's was never found): one it reads as
    forbidden adds its phrase, or extends a phrase of its category in the sentence next to it
    (`_with_sentences`)."""
    firm = frozenset(params.firm)
    return _turn_phrases(ctx, trial_claims=True, firm=firm, join=True, age_asked=True,
                         sentences=True)  # fmt: skip


@forbidden_check("forbidden_phrases.v6", ForbiddenParamsV3, lexicons=("age_question",))
def forbidden_phrases_v6(
    ctx: CallContext, params: ForbiddenParamsV3
) -> tuple[ForbiddenFinding, ...]:
    """As forbidden_phrases.v5, except that what the agent quotes is mentioned, not said, for
    the model as for the rules: straight single quotes beside Chinese characters quote
    ("您刚才说'不要钱的我才要'"), and a turn or sentence the model reads as forbidden is read
    again with its quotes blanked, and counts as that reading says ("Okay, so 'no charge ever'
    on your work plan." claims nothing)."""
    firm = frozenset(params.firm)
    return _turn_phrases(ctx, trial_claims=True, firm=firm, join=True, age_asked=True,
                         sentences=True, quotes=_QUOTE_V6)  # fmt: skip


def _turn_phrases(
    ctx: CallContext,
    trial_claims: bool,
    firm: frozenset[str] = frozenset(),
    join: bool = False,
    age_asked: bool = False,
    sentences: bool = False,
    quotes: re.Pattern[str] | None = None,
) -> tuple[ForbiddenFinding, ...]:
    """`quotes`: the quote marks of v6, whose quoted words the model's readings leave out too
    (None: v1-v5's marks, for the rules only)."""
    campaign = ctx.campaign
    offer = _Offer(campaign.price.amount > 0, campaign.trial_days, ctx.pack.lang)
    found: list[ForbiddenFinding] = []
    for turn in ctx.agent_turns():
        said = len(found)
        placed: list[_Placed] = []
        for sentence in turn.sentences:
            phrases = _sentence_phrases(sentence, offer, quotes or _QUOTE)
            if _vetoed(ctx, sentence):
                phrases = tuple(p for p in phrases if p[2] in firm)
            placed += [_Placed(sentence, sentence, phrase) for phrase in phrases]
        if join:
            placed = _joined(placed, turn.joiner)
        asks_age = age_asked and turn.has("age_question")  # the model's reading left out
        if sentences and placed and not asks_age:
            placed = _with_sentences(ctx, turn, offer, placed, quotes)
        found += [p.finding() for p in placed]
        if len(found) == said and not asks_age:
            found += _model_finding(ctx, turn, offer, trial_claims, quotes)
    return tuple(found)


def _with_sentences(
    ctx: CallContext,
    turn: Turn,
    offer: _Offer,
    placed: list[_Placed],
    quotes: re.Pattern[str] | None = None,
) -> list[_Placed]:
    """`forbidden_phrases.v5`: in a turn where the rules found a phrase, each sentence they
    found none in, read by the model alone, adds the phrase it reads; one read in the category
    of a phrase in the sentence just before or after (not arguing: `_kin`) extends that phrase
    instead ("You'll save money, guaranteed. Every customer who switches saves.")."""
    rules, read = ctx.understanding, ctx.read_alone
    if rules is None or read is None:
        return placed
    out = list(placed)
    for i, sentence in enumerate(turn.sentences):
        if any(p.first is sentence or p.last is sentence for p in out):
            continue
        found = _forbidden_reading(read(sentence))
        if found is not None and quotes is not None and found[1] >= rules.forbidden:
            found = _unquoted(ctx, [sentence], quotes, found)
        if found is None:
            continue
        category, p = found
        if p < rules.forbidden or (category == "misleading" and not offer.paid):
            continue
        out = _placed_beside(
            out, turn, i, (category, sentence.text.strip(_TRIM), f"model.{category}")
        )
    order = {id(sentence): i for i, sentence in enumerate(turn.sentences)}
    return sorted(out, key=lambda p: order[id(p.first)])  # in the order they were said


def _placed_beside(placed: list[_Placed], turn: Turn, i: int, phrase: Phrase) -> list[_Placed]:
    """`phrase`, the whole of sentence `i`, added, or joined to a kin phrase that ends the
    sentence before it or opens the one after."""
    sentences = turn.sentences
    sentence, joiner = sentences[i], turn.joiner
    before = sentences[i - 1] if i > 0 else None
    after = sentences[i + 1] if i + 1 < len(sentences) else None
    for k, q in enumerate(placed):
        if not _kin(q.phrase[0], phrase[0]):
            continue
        if before is not None and q.last is before:
            at = before.text.rfind(q.phrase[1])
            head = q.phrase[1] if q.first is not q.last or at < 0 else before.text[at:]
            joined = (phrase[0], f"{head}{joiner}{phrase[1]}".strip(_TRIM), q.phrase[2])
            return [*placed[:k], _Placed(q.first, sentence, joined), *placed[k + 1 :]]
        if after is not None and q.first is after:
            at = after.text.find(q.phrase[1])
            tail = after.text[: at + len(q.phrase[1])] if at >= 0 else q.phrase[1]
            joined = (phrase[0], f"{phrase[1]}{joiner}{tail}".strip(_TRIM), q.phrase[2])
            return [*placed[:k], _Placed(sentence, q.last, joined), *placed[k + 1 :]]
    return [*placed, _Placed(sentence, sentence, phrase)]


class _Placed(NamedTuple):
    """A phrase with the sentences it runs over (one, or two once joined)."""

    first: Sentence
    last: Sentence
    phrase: Phrase

    def finding(self) -> ForbiddenFinding:
        kind, span, rule = self.phrase
        first, last = self.first, self.last
        return ForbiddenFinding(kind, span, first.start, last.end, first.speaker, rule)


def _joined(placed: list[_Placed], joiner: str) -> list[_Placed]:
    """Phrases of one category in consecutive sentences, the first ending its sentence and the
    next opening its own, as one phrase (`forbidden_phrases.v3`), from the first phrase to the
    end of the next. A joined phrase is not joined again."""
    out: list[_Placed] = []
    for here in placed:
        before = out[-1] if out else None
        if (
            before is not None
            and before.first is before.last
            and before.last is not here.first
            and _kin(before.phrase[0], here.phrase[0])
            and _ends(before.last.text, before.phrase[1])
            and _opens(here.first, here.phrase[1])
        ):
            kind, span, rule = before.phrase
            head = before.last.text[before.last.text.rfind(span) :]
            tail = here.first.text[: here.first.text.find(here.phrase[1]) + len(here.phrase[1])]
            out[-1] = _Placed(
                before.first, here.last, (kind, f"{head}{joiner}{tail}".strip(_TRIM), rule)
            )
            continue
        out.append(here)
    return out


def _kin(kind_a: str, kind_b: str) -> bool:
    """One beat over two sentences: a claim, a threat or impatience said again ("it's free.
    Costs you nothing"). An argument in each sentence is a retort each: the guard sets label
    "that's a bit short-sighted. It's people like you who ..." and "您又不是机主，您怎么知道她
    不要？您问都不问就替她拒绝了？" as two phrases."""
    return kind_a == kind_b and kind_a != "arguing"


def _ends(text: str, span: str) -> bool:
    at = text.rfind(span)
    return at >= 0 and not text[at + len(span) :].strip(_TRIM)


def _opens(sentence: Sentence, span: str) -> bool:
    """`span` opens the sentence, after at most one of the pack's `openers` ("Look, ...")."""
    at = sentence.text.find(span)
    if at < 0:
        return False
    before, openers = sentence.text[:at], sentence.pack.openers
    return not (openers.sub("", before) if openers else before).strip(_TRIM)


def _trial_claims(turn: Turn, offer: _Offer) -> bool:
    """Every free claim the rules find in the turn names the campaign's trial in its own clause
    ("就是先免费试用，您先用着", "试用期内不收钱" on a trial campaign), and there is one. The
    model's misleading reading of such a turn takes the trial for a lie; a trial named without
    its end is a disclosure failure (trial_end), not a false claim. A claim that leans on the
    clause before for its trial ("前期都是免费的，反正不要钱您怕啥"), on a price, or that says no
    charge a second way (`_one_claim`) is not."""
    claims = [
        _trial_qualified(rule, clause, offer) and _one_claim(rule, clause)
        for sentence in turn.sentences
        for clause in _read(sentence.text, sentence.pack, sentence.surface)[2]
        for rule in sentence.pack.forbidden
        if rule.spec.category == "misleading" and matches(rule, clause)
    ]
    return bool(claims) and all(claims)


def _one_claim(rule: CompiledForbiddenRule, clause: str) -> bool:
    """The clause says no charge one way only: a second, other wording beside the trial's "free"
    goes beyond naming the trial ("it's free for now there's no charge to you", "with the free
    trial you're really not going to pay nothing"); "前期是免费体验的您先免费用着" repeats one."""
    return len({m.group(0) for m in rule.pattern.finditer(clause)}) == 1


def _vetoed(ctx: CallContext, sentence: Sentence) -> bool:
    """The model reads the turn as plainly polite (understanding.yaml `forbidden_veto`): a
    pattern's match there is wording out of its sense ("I'm so sorry for your loss")."""
    veto = ctx.understanding.forbidden_veto if ctx.understanding is not None else None
    found = sentence.reading.tasks.get("forbidden") if sentence.reading is not None else None
    return veto is not None and found is not None and found.p("none") >= veto


def _forbidden_reading(reading: Reading | None) -> tuple[str, float] | None:
    """The likeliest forbidden category of a reading and its probability against none."""
    found = reading.tasks.get("forbidden") if reading is not None else None
    return found.against("none") if found is not None else None


def _unquoted(
    ctx: CallContext, sentences: list[Sentence], quotes: re.Pattern[str], found: tuple[str, float]
) -> tuple[str, float] | None:
    """The model's forbidden reading of `sentences` (`found`), or, where they quote something,
    their reading again with the quotes blanked (alone, without the other party's turn): what
    is left of a quoted claim is what the agent said."""
    text = sentences[0].joiner.join(s.text for s in sentences)
    masked = _mask_quotes(text, quotes)
    if masked == text or ctx.read_alone is None:
        return found
    return _forbidden_reading(
        ctx.read_alone(Sentence(masked, sentences[0].segments, sentences[0].pack))
    )


def _model_finding(
    ctx: CallContext,
    turn: Turn,
    offer: _Offer,
    trial_claims: bool,
    quotes: re.Pattern[str] | None = None,
) -> list[ForbiddenFinding]:
    """The turn as the model reads it (its reading is on every sentence of the turn)."""
    found = _forbidden_reading(turn.sentences[-1].reading)
    rules = ctx.understanding
    if found is None or rules is None:
        return []
    if quotes is not None and found[1] >= rules.forbidden:
        found = _unquoted(ctx, list(turn.sentences), quotes, found)
        if found is None:
            return []
    category, p = found
    if p < rules.forbidden:
        return []
    if category == "misleading" and not offer.paid:  # nothing to mislead about a free product
        return []
    if trial_claims and category == "misleading" and _trial_claims(turn, offer):
        return []
    span = turn.joiner.join(s.text for s in turn.sentences).strip(_TRIM)
    finding = ForbiddenFinding(
        category, span, turn.start, turn.end, turn.speaker, f"model.{category}", round(p, 3)
    )
    return [finding]
