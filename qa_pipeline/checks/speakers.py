"""Who is on the customer's side of the line: the person who answered may hand the phone to
someone else ("老婆子！电信的！找你的！", "Mum, it's for you"). What was said up to the handover
is another person's: their "not mine" or "I can't hear" is not the new speaker's. And whom a
signal is about: "他耳朵背" is the father's, not the caller's."""

from __future__ import annotations

from collections.abc import Iterable

from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.text.lexicon import CLAUSE_END, Hit

Point = tuple[int, int]  # a turn's index and the position of a sentence in it


def handover(turns: Iterable[Turn]) -> Point | None:
    """The last sentence of `turns` in which the customer hands the phone over (`handover`),
    unless the called person did not take it: the next sentence the customer says relays their
    words (`relayed`: "奶奶！电话！……她说她手上都是油，冇空", "she says she's busy"). A relay that
    says they are coming (`coming`: "有个阿姨打电话找你！……她说等一下。") keeps the handover, placed
    after the relay, which is still the first speaker's."""
    turns = list(turns)
    found = None
    for turn in turns:
        for n, sentence in enumerate(turn.sentences):
            if not sentence.has("handover"):
                continue
            point = (turn.index, n)
            relay = _next_sentence(turns, point)
            if relay is None or not _has(relay[1], "relayed"):
                found = point
            elif _has(relay[1], "coming"):
                found = relay[0]
    return found


def _next_sentence(turns: list[Turn], point: Point) -> tuple[Point, Sentence] | None:
    """The customer's next sentence after `point`, with its own point."""
    index, n = point
    for turn in after(turns, point):
        if turn.sentences:
            return (turn.index, n + 1 if turn.index == index else 0), turn.sentences[0]
    return None


def _has(sentence: Sentence, lexicon: str) -> bool:
    """Languages without the lexicon read none of it."""
    return lexicon in sentence.pack.lexicons and sentence.has(lexicon)


def after(turns: Iterable[Turn], point: Point | None) -> list[Turn]:
    """`turns` from the sentence after `point` on: the new speaker's words. A turn holding the
    handover keeps its later sentences (ASR merges "找你的！" and the holder's "喂，我是" into one
    customer turn when the agent says nothing between them)."""
    if point is None:
        return list(turns)
    index, position = point
    kept = []
    for turn in turns:
        if turn.index > index:
            kept.append(turn)
        elif turn.index == index and position + 1 < len(turn.sentences):
            kept.append(Turn(turn.index, turn.speaker, list(turn.sentences[position + 1 :])))
    return kept


def states_adult(turns: Iterable[Turn]) -> bool:
    """The customer says they are grown up (我二十六了, "I'm fifty-two")."""
    return any(turn.has("adult") for turn in turns)


def model_child(hit: Hit) -> bool:
    """A child read by the model alone, which a stated adult age outweighs."""
    return hit.lexicon == "child" and hit.source == "model"


def own_signal(
    turn: Turn, lexicons: Iterable[str], rules_only: bool = False
) -> tuple[Sentence, Hit] | None:
    """The first of `lexicons` (in their order) the customer says of themselves in `turn`;
    `rules_only`: as the rules read it, whatever the model's reading silenced."""
    for lexicon in lexicons:
        for sentence in turn.sentences:
            hits = sentence.rule_hits(lexicon) if rules_only else sentence.hits(lexicon)
            for hit in hits:
                if about_self(sentence, hit):
                    return sentence, hit
    return None


def about_self(sentence: Sentence, hit: Hit) -> bool:
    """The customer's signal is about themselves: no third person (他, "my dad") stands before
    it in its clause ("这号是我爸的，他耳朵背" is about the father)."""
    clause = max((m.end() for m in CLAUSE_END.finditer(sentence.norm, 0, hit.start)), default=0)
    return not any(clause <= t.start and t.end <= hit.start for t in sentence.hits("third_person"))


def first_answer(ctx: CallContext, turns: Iterable[Turn], question: str) -> Iterable[Turn]:
    """Each of `turns` that is the customer's first turn after an agent turn asking `question`
    (a lexicon: "How old are you?"), with that question."""
    for turn in turns:
        asked = ctx.previous_agent_turn(turn)
        if asked is not None and asked.has(question) and ctx.replies_to(asked)[:1] == [turn]:
            yield turn


def stated_young_age(ctx: CallContext, turns: Iterable[Turn]) -> tuple[Turn, Sentence, Hit] | None:
    """A young age given bare in answer to the agent's age question ("How old are you, Alfie?"
    "Six and a half."): a child's, though "six and a half" alone says nothing."""
    for turn in first_answer(ctx, turns, "age_question"):
        for sentence in turn.sentences[:1]:
            for hit in sentence.rule_hits("age_answer"):
                return turn, sentence, hit
    return None
