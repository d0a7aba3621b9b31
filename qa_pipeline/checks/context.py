"""What every check reads: the call split into turns and sentences, each with its normalized
text and lexicon hits (computed on first use, once), plus facts several checks share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from functools import cached_property

from qa_pipeline.ingest.model import ROLES, Call, Role, Segment
from qa_pipeline.ruleset.loader import LanguagePack
from qa_pipeline.ruleset.schema import CampaignFile, UnderstandingFile
from qa_pipeline.text.entities import DateMention, Duration, Money
from qa_pipeline.text.lexicon import Hit, compile_patterns
from qa_pipeline.text.normalize import surface
from qa_pipeline.understanding.reading import Reading
from qa_pipeline.verdict.model import Evidence

_TERMINAL = tuple("。！？!?；;.…")
# A pause this long (seconds) between one speaker's segments ends a sentence.
_PAUSE_S = 1.0
_CLAUSE = re.compile(r"[，,。.！!；;]")


class _Spanned:
    """Something made of consecutive segments of one speaker: its times and its evidence."""

    __slots__ = ()
    segments: tuple[Segment, ...]
    joiner: str

    @property
    def start(self) -> float:
        return self.segments[0].start

    @property
    def end(self) -> float:
        return self.segments[-1].end

    def span_evidence(self, match: str | None = None) -> Evidence:
        text = self.joiner.join(s.text for s in self.segments)
        return Evidence(self.start, self.end, self.segments[0].speaker, text, match)


class Sentence(_Spanned):
    """A sentence of one turn (it may span segments, when ASR cut it), with lazily computed
    lexicon hits and entities."""

    __slots__ = (
        "_dates", "_durations", "_fused", "_hits", "_maybe", "_money", "_surface", "joiner",
        "norm", "pack", "reading", "segments", "text",
    )  # fmt: skip

    def __init__(self, text: str, segments: tuple[Segment, ...], pack: LanguagePack) -> None:
        self.text = text
        self.segments = segments
        self.pack = pack
        self.joiner = pack.lang.joiner
        self._surface: str | None = None
        self.norm = pack.view(text)
        self._hits: dict[str, tuple[Hit, ...]] = {}
        self._maybe: frozenset[str] | None = None  # the lexicons that may match (screen)
        self._fused: Mapping[str, tuple[Hit, ...]] = {}  # lexicons the model's reading changed
        self.reading: Reading | None = None
        self._money: list[Money] | None = None
        self._dates: list[DateMention] | None = None
        self._durations: list[Duration] | None = None

    @property
    def surface(self) -> str:
        """Half-width lower case with the original's positions (for verbatim spans)."""
        if self._surface is None:
            self._surface = surface(self.text)
        return self._surface

    def rule_hits(self, lexicon: str) -> tuple[Hit, ...]:
        """The lexicon's matches in the normalized view, the rules alone."""
        known = self._hits.get(lexicon)  # not try/except: a raised KeyError costs more
        if known is not None:
            return known
        found = self.pack.lexicons[lexicon]  # an unknown name raises
        hits = self._hits[lexicon] = found.find(self.norm) if lexicon in self.candidates() else ()
        return hits

    def candidates(self) -> frozenset[str]:
        """The lexicons that may hit here (the pack's screen; the others cannot)."""
        if self._maybe is None:
            self._maybe = self.pack.screen.candidates(self.norm)
        return self._maybe

    def matched(self) -> frozenset[str]:
        """Every lexicon of the pack the rules hit here (each hit kept, as `rule_hits` keeps it)."""
        return frozenset(name for name in self.candidates() if self.rule_hits(name))

    def hits(self, lexicon: str) -> tuple[Hit, ...]:
        """The rules' hits, as the model's reading changed them (understanding stage)."""
        fused = self._fused.get(lexicon)
        return fused if fused is not None else self.rule_hits(lexicon)

    def attach(self, reading: Reading, fused: Mapping[str, tuple[Hit, ...]]) -> None:
        """The understanding stage's reading of this sentence and the hits it changed."""
        self.reading = reading
        self._fused = fused

    def has(self, lexicon: str) -> bool:
        return bool(self.hits(lexicon))

    @property
    def money(self) -> list[Money]:
        if self._money is None:
            self._money = self.pack.lang.find_money(self.norm, self.pack.period_reach)
        return self._money

    @property
    def dates(self) -> list[DateMention]:
        if self._dates is None:
            self._dates = self.pack.lang.find_dates(self.norm)
        return self._dates

    @property
    def durations(self) -> list[Duration]:
        if self._durations is None:
            self._durations = self.pack.lang.find_durations(self.norm)
        return self._durations

    @property
    def is_question(self) -> bool:
        return self.has("question")

    def questioned(self, hit: Hit) -> bool:
        """Whether `hit` is asked rather than said: a question marker closes its clause soon
        after it. Works without punctuation, where a whole segment is one sentence
        ("给您开通天气预报了稍后您会收到短信您还有别的问题吗" states the sale)."""
        if hit.source == "model":  # the model read the sentence whole, question and all
            return False
        window = self.pack.question_reach
        for question in self.hits("question"):
            gap = self.norm[hit.end : question.start]
            if question.start >= hit.start and len(gap) <= window and not _CLAUSE.search(gap):
                return True
        return False

    @property
    def speaker(self) -> str:
        return self.segments[0].speaker

    def evidence(self, match: str | None = None) -> Evidence:
        return self.span_evidence(match)

    def hit_evidence(self, hit: Hit) -> Evidence:
        """The sentence as evidence of `hit`; a model hit says what was read and how surely."""
        if hit.source == "model":
            found = self.span_evidence(None)
            return replace(found, source="model", confidence=hit.confidence, read=hit.read)
        return self.span_evidence(hit.text)


class Turn(_Spanned):
    """Consecutive segments of one speaker."""

    __slots__ = ("index", "joiner", "segments", "sentences", "speaker")

    def __init__(self, index: int, speaker: Role, sentences: list[Sentence]) -> None:
        self.index = index
        self.speaker = speaker
        self.sentences = tuple(sentences)
        self.segments = tuple(dict.fromkeys(seg for s in sentences for seg in s.segments))
        self.joiner = sentences[0].joiner

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments)

    def has(self, lexicon: str) -> bool:
        return any(s.has(lexicon) for s in self.sentences)

    def first(self, lexicon: str) -> tuple[Sentence, Hit] | None:
        for sentence in self.sentences:
            hits = sentence.hits(lexicon)
            if hits:
                return sentence, hits[0]
        return None

    def evidence(self, lexicon: str | None = None) -> Evidence:
        found = self.first(lexicon) if lexicon else None
        return found[0].hit_evidence(found[1]) if found else self.span_evidence()


def _sentences(segments: list[Segment], pack: LanguagePack) -> list[Sentence]:
    """Sentences of one turn. A segment that does not end a sentence runs on into the next
    (ASR cut "您现在方便" | "听吗？"), so verdicts do not depend on where a segment ended;
    unless a pause of `_PAUSE_S` or more follows it: "…侬等等我叫我儿子来听" | 1.1 s |
    "喂你好你是电信的是吧…" is a handover and the son's first words."""
    joiner = pack.lang.joiner
    sentences: list[Sentence] = []
    text = ""
    spans: list[tuple[int, int, Segment]] = []
    for index, segment in enumerate(segments):
        piece = segment.text.strip()
        if text and piece:
            text += joiner
        spans.append((len(text), len(text) + len(piece), segment))
        text += piece
        last = index == len(segments) - 1
        paused = not last and segments[index + 1].start - segment.end >= _PAUSE_S
        if not (last or paused or piece.endswith(_TERMINAL)):
            continue
        first = 0  # sentences and segments both run forward: one pass over each
        for begin, end in pack.lang.sentence_spans(text):
            while first < len(spans) and spans[first][1] <= begin:
                first += 1
            covering = tuple(_covering(spans, first, begin, end)) or (segment,)
            sentences.append(Sentence(text[begin:end], covering, pack))
        text, spans = "", []
    return sentences


def _covering(
    spans: list[tuple[int, int, Segment]], first: int, begin: int, end: int
) -> Iterator[Segment]:
    for index in range(first, len(spans)):  # not a slice: that copies the rest every time
        a, b, segment = spans[index]
        if a >= end:
            return
        if b > begin:
            yield segment


def build_turns(call: Call, pack: LanguagePack) -> tuple[Turn, ...]:
    turns: list[Turn] = []
    pending: list[Segment] = []
    for segment in sorted(call.segments, key=lambda s: (s.start, s.end)):
        if pending and segment.speaker != pending[-1].speaker:
            turns.append(_turn(len(turns), pending, pack))
            pending = []
        pending.append(segment)
    if pending:
        turns.append(_turn(len(turns), pending, pack))
    return tuple(turns)


def _turn(index: int, segments: list[Segment], pack: LanguagePack) -> Turn:
    speaker = segments[0].speaker
    if speaker not in ROLES:
        raise ValueError(f"roles must be assigned before turns are built, got {speaker!r}")
    role: Role = "agent" if speaker == "agent" else "customer"
    return Turn(index, role, _sentences(segments, pack))


class CallContext:
    """One call prepared for the checks. Shared facts are cached properties so each is
    computed once per call, whichever check asks first."""

    def __init__(
        self,
        call: Call,
        campaign: CampaignFile,
        pack: LanguagePack,
        understanding: UnderstandingFile | None = None,
    ) -> None:
        self.call = call
        self.campaign = campaign
        self.pack = pack
        self.understanding = understanding  # when model readings count (forbidden phrases)
        # One sentence read by the model by itself, asked for by the checks that need it (the
        # understanding stage sets it; None when no model reads the call).
        self.read_alone: Callable[[Sentence], Reading | None] | None = None
        # The call heads' readings of the whole call: head name -> the probability that its
        # label holds (the understanding stage sets them; empty when no call head reads it).
        self.call_readings: dict[str, float] = {}
        self.language = call.language
        self.turns = build_turns(call, pack)
        self.call_date: date = call.started_at.date()

    def agent_turns(self) -> Iterator[Turn]:
        return (t for t in self.turns if t.speaker == "agent")

    def customer_turns(self) -> Iterator[Turn]:
        return (t for t in self.turns if t.speaker == "customer")

    def replies_to(self, turn: Turn) -> list[Turn]:
        """The customer turns after `turn`, up to the agent's next turn."""
        replies = []
        for later in self.turns[turn.index + 1 :]:
            if later.speaker == "agent":
                break
            replies.append(later)
        return replies

    def exchange(self, turn: Turn, until: Turn | None) -> list[Turn]:
        """The customer turns after `turn` and before `until` (or the end of the call): a
        question's answers even when it takes a clarification to get them."""
        stop = until.index if until is not None else len(self.turns)
        return [t for t in self.turns[turn.index + 1 : stop] if t.speaker == "customer"]

    def previous_agent_turn(self, turn: Turn) -> Turn | None:
        for earlier in reversed(self.turns[: turn.index]):
            if earlier.speaker == "agent":
                return earlier
        return None

    def asks_permission(self, turn: Turn) -> bool:
        """A permission question, or a small time request plus a question in the same turn
        ("I'd like two minutes to tell you about it. Is that alright?")."""
        if turn.speaker != "agent":
            return False
        if turn.has("permission_question"):
            return True
        return (
            turn.has("time_request")
            and any(s.is_question for s in turn.sentences)
            and not self.states_price(turn)  # "七分钱一分钟" prices a minute, asks for none
        )

    @cached_property
    def pitch_terms(self) -> re.Pattern[str]:
        return compile_patterns(self.campaign.pitch_terms, self.pack.word_boundaries)

    def is_pitch(self, turn: Turn) -> bool:
        """Agent talks about the product itself (not only naming it while asking for time)."""
        if turn.speaker != "agent" or self.asks_permission(turn):
            return False
        return self.states_price(turn) or any(
            self.pitch_terms.search(s.norm) for s in turn.sentences
        )

    @cached_property
    def bookings(self) -> tuple[tuple[Turn, Sentence, Hit], ...]:
        """The agent's statements, not questions, that the service is or will be opened
        (`sale_confirmed`), in call order. Read once the understanding stage has attached its
        readings (the checks run after it)."""
        return tuple(
            (turn, sentence, hit)
            for turn in self.agent_turns()
            for sentence in turn.sentences
            for hit in sentence.hits("sale_confirmed")
            if not sentence.questioned(hit)
        )

    @cached_property
    def pitch_start(self) -> Turn | None:
        return next((t for t in self.turns if self.is_pitch(t)), None)

    @cached_property
    def _fees(self) -> frozenset[float]:
        return frozenset(
            {self.campaign.price.amount, *(f.amount for f in self.campaign.extra_fees)}
        )

    def states_price(self, turn: Turn) -> bool:
        """An amount with a period, or one of the campaign's fees ("不扣您一分钱" is no price)."""
        return any(
            m.period is not None or any(abs(m.amount - fee) < 0.005 for fee in self._fees)
            for s in turn.sentences
            for m in s.money
        )

    def where_missing(self) -> tuple[Evidence, ...]:
        """Evidence for an absence: the pitch, where a missing disclosure should have been, and
        the stretch searched, from the pitch to the end of the call."""
        pitch = self.pitch_start
        if pitch is None:
            return ()
        return (pitch.evidence(), self.searched_since(pitch.start))

    def searched_since(self, start: float, speaker: str = "agent") -> Evidence:
        """The stretch from `start` to the end of the call, searched for something not there
        (source `searched`: no words to highlight)."""
        return Evidence(start, self.end_s, speaker, "", source="searched")

    @property
    def end_s(self) -> float:
        last = max((s.end for s in self.call.segments), default=0.0)
        return max(self.call.duration_s or 0.0, last)

    @cached_property
    def first_price(self) -> Turn | None:
        """The agent's first statement of a price."""
        return next((t for t in self.agent_turns() if self.states_price(t)), None)
