"""The understanding stage inside judging: every turn of the call read by the model (the other
party's turn before it as context), the hits its reading changes attached to the turn's
sentences, and what the call as a whole shows (customer sentiment, dissatisfaction, items
decided on an unsure reading)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from qa_pipeline.asr.model_config import load_models_config
from qa_pipeline.checks.context import CallContext, Sentence, Turn
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.ruleset.schema import UnderstandingFile
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.understanding.call_heads import CallHeads, CallHeadSpec, SentenceView, Since
from qa_pipeline.understanding.features import LexiconHits, screened_reader
from qa_pipeline.understanding.fusion import Change, Said, by_sentence, fuse, sentence_for
from qa_pipeline.understanding.reader import Reader
from qa_pipeline.understanding.reading import Reading
from qa_pipeline.verdict.model import CallVerdict, Item, TurnReading

_READERS: dict[tuple[Path, str], Reader | None] = {}


def configured_reader(ruleset: Ruleset) -> Reader | None:
    """The reader models.yaml configures for these rules (one per process and rule set: the
    pipelines and their encoding cache are built once)."""
    key = (ruleset.root, ruleset.version)
    if key not in _READERS:
        _READERS[key] = Reader.configured(load_models_config(), ruleset)
    return _READERS[key]


def _items(ctx: CallContext) -> list[tuple[Turn, str, str]]:
    """Each turn, its normalized view, and the view of the other party's turn before it."""
    last = {"agent": "", "customer": ""}
    found: list[tuple[Turn, str, str]] = []
    for turn in ctx.turns:
        other = "customer" if turn.speaker == "agent" else "agent"
        view = _view(turn)
        found.append((turn, view, last[other]))
        last[turn.speaker] = view
    return found


def _view(turn: Turn) -> str:
    return turn.joiner.join(s.norm for s in turn.sentences)


def _attach(
    turn: Turn, reading: Reading, change: Change, more: dict[int, dict[str, tuple[Hit, ...]]]
) -> None:
    *earlier, final = turn.sentences
    silenced = dict.fromkeys(change.silenced, ())
    last = len(turn.sentences) - 1
    for i, sentence in enumerate(earlier):
        sentence.attach(reading, silenced | more.get(i, {}))
    added = {name: (hit,) for name, hit in change.added.items()}
    final.attach(reading, silenced | added | more.get(last, {}))


def _split_sides(rules: UnderstandingFile) -> frozenset[str]:
    """The sides some family reads sentence by sentence."""
    return frozenset(f.side for f in rules.families.values() if f.by_sentence)


def _queries(ctx: CallContext, sides: frozenset[str]) -> list[tuple[str, str, str]]:
    """Each turn with its context, then the sentences of every turn of several sentences on one
    of `sides` (`_split_sides`; read in the same batch)."""
    items = _items(ctx)
    queries: list[tuple[str, str, str]] = [(v, t.speaker, c) for t, v, c in items]
    for turn, _, context in items:
        if turn.speaker in sides and len(turn.sentences) > 1:
            queries += [(s.norm, turn.speaker, context) for s in turn.sentences]
    return queries


def read_call(reader: Reader, ctx: CallContext) -> tuple[TurnReading, ...]:
    """Attach every turn's reading (and the hits it changes) to its sentences; the customer's
    turns' sentiment and complaint readings. Nothing when the language has no trained heads."""
    rules = reader.ruleset.understanding
    if rules is None:
        return ()
    sides = _split_sides(rules)
    queries = _queries(ctx, sides)
    hits = _hits(ctx)
    readings = reader.read(ctx.language, queries, hits)
    if readings is None:
        return ()
    ctx.read_alone = lambda sentence: _alone(reader, ctx.language, sentence, hits)
    turns = ctx.turns
    sentence_readings = iter(readings[len(turns) :])
    found = []
    for turn, reading in zip(turns, readings[: len(turns)], strict=True):
        split = len(turn.sentences) > 1 and turn.speaker in sides
        parts = [next(sentence_readings) for _ in turn.sentences] if split else []
        final = turn.sentences[-1]
        said = _said(turn)
        change = fuse(reading, turn.speaker, rules, said, final.text, len(final.norm))
        _attach(turn, reading, change, _by_sentence(rules, turn, reading, parts, said))
        sentiment = reading.best(rules.sentiment_task)
        complaint = reading.best(rules.dissatisfied.task)
        if turn.speaker == "customer" and sentiment is not None and complaint is not None:
            found.append(_reading(turn, sentiment, complaint))
    _read_whole(reader.call_heads, ctx)
    return tuple(found)


def _read_whole(heads: CallHeads, ctx: CallContext) -> None:
    """Each call head's probability, from the customer's sentences as read above."""
    for name, head in heads.heads.items():
        ctx.call_readings[name] = head.probability(call_views(ctx, head.spec))


def call_views(ctx: CallContext, spec: CallHeadSpec) -> list[SentenceView]:
    """The customer's sentences as a call head of `spec` reads them (after `read_call`); a
    lexicon the language lacks is hit by none."""
    lexicons = [lexicon for lexicon in spec.lexicons if lexicon in ctx.pack.lexicons]
    return [
        SentenceView(
            s.reading.tasks.get(spec.task) if s.reading is not None else None,
            frozenset(lexicon for lexicon in lexicons if s.has(lexicon)),
            s.is_question,
        )
        for turn in _window(ctx, spec.since)
        for s in turn.sentences
    ]


def _window(ctx: CallContext, since: Since) -> list[Turn]:
    """The customer turns a call head reads: all, or those after the agent first states an
    amount (the answers to an offer whose price was heard); none when no amount is stated."""
    customer = list(ctx.customer_turns())
    if since == "start":
        return customer
    first = next((t.index for t in ctx.agent_turns() if any(s.money for s in t.sentences)), None)
    return [] if first is None else [t for t in customer if t.index > first]


def disagreements(
    rules: UnderstandingFile | None,
    heads: CallHeads,
    ctx: CallContext,
    codes: Mapping[str, str],
    items: Mapping[str, Item],
) -> tuple[str, ...]:
    """`model_disagrees.<item>` for each item whose call head reads the opposite of its
    verdict with at least `rules.call_review` (the verdict stands; a QA lead looks first)."""
    level = rules.call_review if rules is not None else None
    if level is None:
        return ()
    found = []
    for name, p in ctx.call_readings.items():
        head = heads.heads.get(name)
        code = codes.get(head.label) if head is not None else None
        item = items.get(code) if code is not None else None
        if item is None or item.passed is None or any(e.source == "call" for e in item.evidence):
            continue
        if (p if not item.passed else 1.0 - p) >= level:
            found.append(f"model_disagrees.{code}")
    return tuple(found)


def _alone(reader: Reader, language: str, sentence: Sentence, hits: LexiconHits) -> Reading | None:
    """One sentence read by itself, without context: read on demand, as few checks ask."""
    found = reader.read(language, [(sentence.norm, sentence.speaker, "")], hits)
    return found[0] if found else None


def _hits(ctx: CallContext) -> LexiconHits:
    """The lexicons that hit a view: a sentence's view through the sentence itself (its hits
    are kept for the checks that ask next), a whole turn of several sentences directly."""
    sentences = {s.norm: s for t in ctx.turns for s in t.sentences}
    direct = screened_reader(ctx.pack)

    def hits(view: str) -> frozenset[str]:
        sentence = sentences.get(view)
        return direct(view) if sentence is None else sentence.matched()

    return hits


def _by_sentence(
    rules: UnderstandingFile, turn: Turn, reading: Reading, parts: list[Reading], said: Said
) -> dict[int, dict[str, tuple[Hit, ...]]]:
    """Hits from the sentences of a turn that reads as a question but answers first."""
    more: dict[int, dict[str, tuple[Hit, ...]]] = {}
    if not parts:
        return more
    for name in by_sentence(rules, turn.speaker, reading):
        i = sentence_for(rules.families[name], parts)
        if i is None:
            continue
        sentence = turn.sentences[i]
        change = fuse(parts[i], turn.speaker, rules, said, sentence.text, len(sentence.norm),
                      frozenset({name}))  # fmt: skip
        more.setdefault(i, {}).update({n: (hit,) for n, hit in change.added.items()})
    return more


def _said(turn: Turn) -> Said:
    """Whether the rules hit a lexicon anywhere in the turn, each answer kept: fusion asks
    about every lexicon of a family, most of which no sentence's screen lets through."""
    maybe = frozenset().union(*(s.candidates() for s in turn.sentences))
    lexicons = turn.sentences[0].pack.lexicons
    known: dict[str, bool] = {}

    def said(lexicon: str) -> bool:
        found = known.get(lexicon)
        if found is None:
            # a name the pack lacks still raises, in rule_hits
            asked = lexicon in maybe or lexicon not in lexicons
            found = known[lexicon] = asked and any(s.rule_hits(lexicon) for s in turn.sentences)
        return found

    return said


def _reading(turn: Turn, sentiment: tuple[str, float], complaint: tuple[str, float]) -> TurnReading:
    return TurnReading(
        turn.start, turn.end, turn.speaker, sentiment[0], round(sentiment[1], 3),
        complaint[0], round(complaint[1], 3),
    )  # fmt: skip


def flags(rules: UnderstandingFile | None, verdict: CallVerdict) -> tuple[str, ...]:
    """`customer_dissatisfied` when a customer sentence reads as a complaint or plainly
    dissatisfied; `model_unsure.<item>` for each item decided on an unsure model reading;
    `model_overruled.<item>` for each item a call head decided against the rules."""
    if rules is None:
        return ()
    found: list[str] = []
    levels = rules.dissatisfied.labels
    if any(r.complaint_p >= levels.get(r.complaint, 2.0) for r in verdict.readings):
        found.append("customer_dissatisfied")
    items = list(verdict.judged_items())
    found += [f"model_unsure.{code}" for code in _unsure(rules, items)]
    found += [f"model_overruled.{code}" for code in _overruled(items)]
    return tuple(found)


def _overruled(items: Iterable[tuple[str, object]]) -> list[str]:
    """Items a call head decided against the rules (evidence `source` "call"): a reading of
    the whole call, which a QA lead checks first."""
    return [
        code
        for code, item in items
        if any(e.source == "call" for e in getattr(item, "evidence", ()))
    ]


def _unsure(rules: UnderstandingFile, items: Iterable[tuple[str, object]]) -> list[str]:
    codes = []
    for code, item in items:
        evidence = getattr(item, "evidence", ())
        if getattr(item, "passed", None) is None:
            continue
        if any(
            e.source in ("model", "call") and (e.confidence or 0.0) < rules.unsure for e in evidence
        ):
            codes.append(code)
    return codes
