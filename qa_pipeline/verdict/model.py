"""Typed, frozen verdict objects. `to_dict` in serialize.py turns them into results.jsonl rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from qa_pipeline.transcript.cleanup import CleanupReport
    from qa_pipeline.transcript.roles import RoleAssignment

Outcome = Literal["sale", "declined", "no_pitch"]


@dataclass(frozen=True, slots=True)
class Evidence:
    start: float
    end: float
    speaker: str
    text: str
    match: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One judged item: `passed` is None only where the item does not apply."""

    passed: bool | None
    evidence: tuple[Evidence, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Criterion:
    passed: bool | None
    items: Mapping[str, Item]
    evidence: tuple[Evidence, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    value: Outcome
    evidence: tuple[Evidence, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class HangupResult:
    value: bool | None
    source: Literal["metadata", "transcript", "audio"]
    evidence: tuple[Evidence, ...]
    reason: str
    # Other sources that disagree with the deciding one, e.g. "audio: ... (agent hung up)".
    disagreements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForbiddenFinding:
    category: str
    text: str
    start: float
    end: float
    speaker: str
    rule_id: str


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
    """A segment as judged: after cleanup, with its role."""

    start: float
    end: float
    role: str
    text: str


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
    # signals per role (None for transcript-only calls). Plain dicts, as serialized.
    asr: Mapping[str, Any] | None = None
    audio: Mapping[str, Any] | None = None
    recordings: tuple[str, ...] = ()
    # Input problems that did not stop judging (a bad CDR row whose fields the sidecar gave).
    input_warnings: tuple[str, ...] = ()
