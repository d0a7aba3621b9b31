"""Typed, frozen verdict objects, kept whole from the judge to storage, scorecards, callbacks,
review and flows; serialize.py turns them into results.jsonl rows and the database's JSON
column, and back, at those edges only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from qa_pipeline.asr.transcribe import AsrInfo
from qa_pipeline.audio.signals import AudioSignals
from qa_pipeline.ruleset.schema import Scope
from qa_pipeline.transcript.cleanup import CleanupReport
from qa_pipeline.transcript.roles import RoleAssignment
from qa_pipeline.verdict.reasons import Reason

Outcome = Literal["sale", "declined", "no_pitch"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence (or turn) that shows what an item decided. `match` is the words a rule matched;
    a reading of the understanding model has `source` "model" ("call" when a call head read the
    whole call and decided against the rules), what it `read` (reply=go_ahead)
    and its probability (`confidence`)."""

    start: float
    end: float
    speaker: str
    text: str
    match: str | None = None
    source: str = "rule"
    confidence: float | None = None
    read: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One judged item: `passed` is None only where the item does not apply. `scope` is its
    criterion's (criteria.yaml): a `sale` item's failure is a finding on sales only."""

    passed: bool | None
    evidence: tuple[Evidence, ...]
    reason: str  # in English, as results.jsonl shows it
    scope: Scope = "sale"
    why: Reason | None = None  # the reason as a template and its parameters, for any language


@dataclass(frozen=True, slots=True)
class Criterion:
    passed: bool | None
    items: Mapping[str, Item]
    evidence: tuple[Evidence, ...]
    reason: str
    scope: Scope = "sale"


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    value: Outcome
    evidence: tuple[Evidence, ...]
    reason: str
    why: Reason | None = None


@dataclass(frozen=True, slots=True)
class HangupResult:
    value: bool | None
    source: Literal["metadata", "transcript", "audio"]
    evidence: tuple[Evidence, ...]
    reason: str
    # Other sources that disagree with the deciding one, e.g. "audio: ... (agent hung up)".
    disagreements: tuple[str, ...] = ()
    why: Reason | None = None


@dataclass(frozen=True, slots=True)
class ForbiddenFinding:
    category: str
    text: str
    start: float
    end: float
    speaker: str
    rule_id: str  # a forbidden rule's id, or model.<category> for the understanding model's
    confidence: float | None = None  # the model's probability, for a model finding


@dataclass(frozen=True, slots=True)
class SectionResult:
    present: bool
    required: bool
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ScriptResult:
    adherence: float
    sections: Mapping[str, SectionResult]
    missing_required: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """A segment as judged: after cleanup, with its role. `asr_suspect` says why the ASR may
    have lost or misheard speech here (a line with no text: speech it heard nothing in)."""

    start: float
    end: float
    role: str
    text: str
    asr_suspect: str | None = None


@dataclass(frozen=True, slots=True)
class SuspectSpan:
    """Speech the ASR may have lost: whose (None: anyone's, a mono call), when, and why."""

    speaker: str | None
    start: float
    end: float
    reason: str


def mark_suspects(
    lines: tuple[TranscriptLine, ...], spans: tuple[SuspectSpan, ...]
) -> tuple[TranscriptLine, ...]:
    """`lines` with `asr_suspect` set where a span overlaps them; a span that overlaps no
    line of its speaker becomes a line of its own, without text, so the loss shows."""
    marked = list(lines)
    extra: list[TranscriptLine] = []
    for span in spans:
        hit = False
        for n, line in enumerate(marked):
            mine = span.speaker is None or line.role == span.speaker
            if mine and line.start < span.end and span.start < line.end:
                marked[n] = dataclasses.replace(line, asr_suspect=span.reason)
                hit = True
        if not hit:
            extra.append(TranscriptLine(span.start, span.end, span.speaker or "", "", span.reason))
    return tuple(sorted([*marked, *extra], key=lambda line: (line.start, line.end)))


@dataclass(frozen=True, slots=True)
class TurnReading:
    """How a customer turn sounds to the understanding model: its sentiment and complaint
    reading with their probabilities (the workbench timeline)."""

    start: float
    end: float
    speaker: str
    sentiment: str
    sentiment_p: float
    complaint: str
    complaint_p: float


@dataclass(frozen=True, slots=True)
class CallVerdict:
    outcome: OutcomeResult
    criteria: Mapping[str, Criterion | Item]
    script: ScriptResult
    forbidden_phrases: tuple[ForbiddenFinding, ...]
    agent_hung_up_first: HangupResult
    valid_sale: bool | None
    revisit_required: bool
    roles: RoleAssignment
    normalization: CleanupReport
    review_flags: tuple[str, ...] = ()
    transcript: tuple[TranscriptLine, ...] = ()
    readings: tuple[TurnReading, ...] = ()  # empty when no understanding model ran

    def judged_items(self) -> Iterator[tuple[str, Item]]:
        """Every judged item with its finding code (`criterion.item`, or `criterion` for a
        criterion that is one item), in criteria order."""
        for name, node in self.criteria.items():
            if isinstance(node, Criterion):
                for item_name, item in node.items.items():
                    yield f"{name}.{item_name}", item
            else:
                yield name, node

    def applies(self, code: str) -> bool:
        """Whether a failure of this finding code (`criterion` or `criterion.item`) is a
        finding on this call: a sale criterion's only when the call is a sale."""
        node = self.criteria.get(code.split(".")[0])
        return node is None or node.scope == "every_call" or self.outcome.value == "sale"

    def item(self, criterion: str, name: str | None = None) -> Item:
        """One judged item: a criterion that is a single item, or `name` within one."""
        node = self.criteria[criterion]
        if name is not None:
            assert isinstance(node, Criterion), f"{criterion} has no items"
            node = node.items[name]
        assert isinstance(node, Item), f"{criterion} is not a single item"
        return node


@dataclass(frozen=True, slots=True)
class CallResult:
    """One row of results.jsonl: a judged call, or a failed one with its reason."""

    call_id: str
    status: Literal["ok", "failed"]
    error: str | None
    source: str
    rules_version: str
    campaign: str | None = None
    language: str | None = None
    agent_id: str | None = None
    team: str | None = None
    customer_number: str | None = None
    started_at: str | None = None
    revisit_of: str | None = None
    verdict: CallVerdict | None = field(default=None)
    # From recordings: the ASR run (None when a sidecar gave the transcript) and the audio
    # signals per role (None for transcript-only calls).
    asr: AsrInfo | None = None
    audio: AudioSignals | None = None
    recordings: tuple[str, ...] = ()
    # Input problems that did not stop judging (a bad CDR row whose fields the sidecar gave).
    input_warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def outcome(self) -> Outcome | None:
        return self.verdict.outcome.value if self.verdict else None

    @property
    def valid_sale(self) -> bool | None:
        return self.verdict.valid_sale if self.verdict else None

    @property
    def revisit_required(self) -> bool:
        return self.verdict.revisit_required if self.verdict else False

    @property
    def review_flags(self) -> tuple[str, ...]:
        return self.verdict.review_flags if self.verdict else ()

    def with_suspects(self, spans: tuple[SuspectSpan, ...]) -> CallResult:
        """The result with its transcript marked where the ASR may have lost speech, and the
        review flag `asr_suspect` (a person listens there)."""
        if self.verdict is None or not spans:
            return self
        verdict = dataclasses.replace(
            self.verdict, transcript=mark_suspects(self.verdict.transcript, spans)
        )
        return dataclasses.replace(self, verdict=verdict).flagged("asr_suspect")

    def flagged(self, *flags: str) -> CallResult:
        """The result with review flags added (a judged call only: a failed one has none)."""
        if self.verdict is None or not flags:
            return self
        verdict = dataclasses.replace(
            self.verdict, review_flags=(*self.verdict.review_flags, *flags)
        )
        return dataclasses.replace(self, verdict=verdict)
