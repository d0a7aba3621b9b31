"""What the call page shows, computed from stored records without HTTP: the transcript by role
with highlighted evidence and forbidden phrases, each criterion and finding with its review
state, the timeline, and audio signals when the result carries them."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa_pipeline.audio.signals import AudioSignals
from qa_pipeline.ingest.model import Segment
from qa_pipeline.review.auth import User, mask_number, mask_spoken_numbers
from qa_pipeline.review.queue import flagged_codes
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.review.timeline import Timeline, timeline
from qa_pipeline.ruleset.schema import SignalsFile
from qa_pipeline.storage import review as stored
from qa_pipeline.storage.audit import AuditEntry, entries
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import CallRecord, Dispute, ReviewItem, recording_path
from qa_pipeline.verdict.findings import findings_of
from qa_pipeline.verdict.model import (
    CallResult,
    CallVerdict,
    Criterion,
    Evidence,
    ForbiddenFinding,
    TranscriptLine,
)
from qa_pipeline.verdict.reasons import Reason, templates, word

Part = tuple[str, str | None]  # text, highlight kind (evidence | forbidden | None)
SignalsByRole = tuple[tuple[str, Mapping[str, object]], ...]  # each role's signals by name
Events = tuple[Mapping[str, object], ...]  # each with its kind, start and what else it has


@dataclass(frozen=True)
class Line:
    start: float
    end: float
    role: str
    parts: tuple[Part, ...]
    evidence: bool  # the whole line is evidence of a finding


@dataclass(frozen=True)
class FindingView:
    id: int
    kind: str
    code: str
    reason: str
    start: float | None
    flagged: bool
    state: str | None  # confirm | overturn | None
    reviewer: str | None
    note: str | None
    disputes: tuple[Dispute, ...]
    why: Reason | None = None  # the reason in the reader's language (else `reason`, English)
    evidence: tuple[Evidence, ...] = ()  # what was said, or the stretch searched for an absence


@dataclass(frozen=True)
class Disagreement:
    """A source of the hang-up decision that read the end of the call the other way."""

    source: str  # metadata | audio | transcript
    text: str  # as results.jsonl has it, in English
    why: Reason | None  # the same as a template, for the reader's language


@dataclass(frozen=True)
class CallPage:
    call: CallRecord
    number: str
    result: CallResult | None  # None: no judged verdict, or a blind call's (hidden)
    lines: tuple[Line, ...]
    findings: tuple[FindingView, ...]
    has_audio: bool
    audio_roles: SignalsByRole
    audio_events: Events  # silences and overlaps, by start
    item: ReviewItem | None
    blind: bool  # a pending calibration call: the engine's verdict stays hidden
    audit: tuple[AuditEntry, ...]
    masked: bool = True  # numbers said in the call are masked for this user's role
    disagreements: tuple[Disagreement, ...] = ()  # about who hung up
    timeline: Timeline | None = None  # a blind call's has turns only: no pins, no readings

    def say(self, text: str) -> str:
        """Text of the call (transcript, reasons, phrases) as this user may see it."""
        return mask_spoken_numbers(text) if self.masked else text

    @property
    def verdict(self) -> CallVerdict | None:
        return self.result.verdict if self.result else None


def highlight(text: str, spans: list[tuple[str, str]]) -> tuple[Part, ...]:
    """Split `text` into parts, marking each first occurrence of a (needle, kind) span; the
    template escapes every part, so highlighting never becomes markup injection."""
    marks: list[tuple[int, int, str]] = []
    for needle, kind in spans:
        at = text.find(needle) if needle else -1
        if at >= 0 and not any(at < e and at + len(needle) > s for s, e, _ in marks):
            marks.append((at, at + len(needle), kind))
    parts: list[Part] = []
    cursor = 0
    for start, end, kind in sorted(marks):
        if start > cursor:
            parts.append((text[cursor:start], None))
        parts.append((text[start:end], kind))
        cursor = end
    if cursor < len(text):
        parts.append((text[cursor:], None))
    return tuple(parts)


def _same_time(a: float, b: float) -> bool:
    return abs(a - b) < 0.05


def _evidence(verdict: CallVerdict) -> list[Evidence]:
    """The evidence of every failed item (of a criterion that is one item: of its own)."""
    found: list[Evidence] = []
    for node in verdict.criteria.values():
        items = node.items.values() if isinstance(node, Criterion) and node.items else [node]
        for item in items:
            if item.passed is False:
                found += item.evidence
    return found


def _lines(transcript: Sequence[TranscriptLine], verdict: CallVerdict | None) -> list[Line]:
    evidence = _evidence(verdict) if verdict else []
    return mark_lines(transcript, evidence, verdict.forbidden_phrases if verdict else ())


def mark_lines(
    transcript: Sequence[TranscriptLine],
    evidence: Sequence[Evidence],
    forbidden: Sequence[ForbiddenFinding] = (),
) -> list[Line]:
    """The transcript's lines with `evidence` (a line said at an evidence's start) and
    `forbidden` phrases highlighted."""
    lines = []
    for segment in transcript:
        start = float(segment.start)
        spans = [(f.text, "forbidden") for f in forbidden if _same_time(f.start, start)]
        hits = [e for e in evidence if _same_time(e.start, start)]
        spans += [(e.match, "evidence") for e in hits if e.match]
        lines.append(Line(start, float(segment.end), segment.role,
                          highlight(segment.text, spans), bool(hits)))  # fmt: skip
    return lines


def transcript_lines(
    engine: Engine, call_id: str, result: CallResult | None
) -> list[TranscriptLine]:
    """The transcript by role: the result's own (recordings path) or the stored one, with
    diarization labels mapped to roles."""
    verdict = result.verdict if result else None
    if verdict and verdict.transcript:
        return list(verdict.transcript)
    mapping = verdict.roles.mapping if verdict else {}
    return [_line(s, mapping) for s in stored.latest_transcript(engine, call_id)]


def _line(segment: Segment, mapping: Mapping[str, str]) -> TranscriptLine:
    role = mapping.get(segment.speaker, segment.speaker)
    return TranscriptLine(segment.start, segment.end, role, segment.text)


def _hangup_reason(text: str) -> Reason | None:
    """The hang-up template an English reason was written from, with its parameters."""
    for key, template in templates("en").items():
        if key.startswith("hangup."):
            pattern = re.escape(template).replace(re.escape("{by}"), r"(?P<by>\w+)")
            found = re.fullmatch(pattern, text)
            if found:
                return Reason(key, found.groupdict())
    return None


def disagreements(verdict: CallVerdict | None) -> tuple[Disagreement, ...]:
    """The hang-up's disagreeing sources ("audio: the recording ended while ..."), read back
    into their templates so the page shows them in the reader's language."""
    found = []
    for said in verdict.agent_hung_up_first.disagreements if verdict else ():
        source, _, text = said.partition(": ")
        found.append(Disagreement(source, text, _hangup_reason(text)))
    return tuple(found)


def _audio(audio: AudioSignals | None) -> tuple[SignalsByRole, Events]:
    """Each role's signals, and the silences and overlaps on one timeline; none without audio."""
    if audio is None:
        return (), ()
    roles = tuple((role, dataclasses.asdict(signals)) for role, signals in audio.roles.items())
    timed: list[tuple[float, dict[str, object]]] = [
        (start, {"kind": "silence", "start": start, "end": end}) for start, end in audio.silences
    ]
    for o in audio.overlaps:
        kind = "interruption" if o.interruption else "overlap"
        event = {"kind": kind, "start": o.start, "end": o.end, "by": o.by, "over": o.over}
        timed.append((o.start, event))
    return roles, tuple(event for _, event in sorted(timed, key=lambda t: t[0]))


@dataclass(frozen=True)
class Judged:
    """The verdict a call's pages show: its queue item's, else its newest judged one."""

    item: ReviewItem | None
    verdict_id: int | None
    result: CallResult | None
    blind: bool  # a pending calibration call: the engine's verdict stays hidden


def judged(engine: Engine, call_id: str) -> Judged:
    item = stored.review_item(engine, call_id)
    verdict_id = item.verdict_id if item else stored.latest_judged(engine, call_id)
    result = stored.verdict_result(engine, verdict_id) if verdict_id else None
    return Judged(item, verdict_id, result, bool(item and item.blind and item.status == "pending"))


def masked_for(role: str, settings: ReviewSettings) -> bool:
    """Whether numbers (the customer's, and long ones said in the call) are masked for `role`."""
    return role not in settings.unmask_roles


def call_page(
    engine: Engine,
    call: CallRecord,
    user: User,
    settings: ReviewSettings,
    signals: SignalsFile | None = None,
    language: str = "zh",
) -> CallPage:
    """The call as `user` may see it; with `signals` (the thresholds of silences and overlaps),
    its timeline, labelled in `language`."""
    found = judged(engine, call.call_id)
    item, verdict_id, result, blind = found.item, found.verdict_id, found.result, found.blind
    findings: list[FindingView] = []
    if verdict_id and result is not None and not blind:
        findings = finding_views(engine, verdict_id, settings, result)
    shown = None if blind else result
    transcript = transcript_lines(engine, call.call_id, result)
    lines = _lines(transcript, shown.verdict if shown else None)
    audio_roles, audio_events = _audio(result.audio if result else None)
    unmasked = not masked_for(user.role, settings)
    drawn = None
    if signals is not None:
        verdict = shown.verdict if shown else None
        codes = [code for code, _ in (verdict.judged_items() if verdict else ())]
        labels = {code: word(code, language) for code in [*codes, *(f.code for f in findings)]}
        timed = [(f.code, f.start) for f in findings if f.start is not None]
        audio = result.audio if result else None
        drawn = timeline(transcript, call.duration_s, verdict, timed, audio, signals, labels)
    return CallPage(
        call=call,
        number=call.customer_number if unmasked else mask_number(call.customer_number),
        result=shown,
        lines=tuple(lines),
        findings=tuple(findings),
        has_audio=recording_path(engine, call.call_id) is not None,
        audio_roles=audio_roles,
        audio_events=audio_events,
        item=item,
        blind=blind,
        audit=tuple(entries(engine, call.call_id, limit=50)),
        masked=not unmasked,
        timeline=drawn,
        disagreements=disagreements(shown.verdict if shown else None),
    )


def _reasons(result: CallResult) -> dict[tuple[str, str], list[Reason | None]]:
    """Each finding's reason as a template, by (kind, code) in finding order: the stored rows
    were written from the same result by the same `findings_of`, so they line up."""
    found: dict[tuple[str, str], list[Reason | None]] = {}
    for finding in findings_of(result):
        found.setdefault((finding.kind, finding.code), []).append(finding.why)
    return found


def finding_views(
    engine: Engine, verdict_id: int, settings: ReviewSettings, result: CallResult
) -> list[FindingView]:
    """A verdict's stored findings, each with its latest review, disputes and reason."""
    rows = stored.findings(engine, verdict_id)
    states = stored.finding_states(engine, verdict_id)
    return _views(rows, states, _disputes(engine, rows), result, settings)


def stored_finding_views(
    engine: Engine, verdict_ids: Sequence[int], settings: ReviewSettings
) -> dict[int, list[FindingView]]:
    """Verdicts' findings as their call pages show them, results read from the database (the
    API lists them across calls): four queries for a whole page, not four per verdict."""
    results = stored.verdict_results(engine, verdict_ids)
    found = stored.findings_of(engine, list(results))
    states = stored.finding_states_of(engine, list(results))
    disputes = _disputes(engine, [f for rows in found.values() for f in rows])
    return {
        vid: _views(found.get(vid, []), states, disputes, result, settings)
        for vid, result in results.items()
    }


def _disputes(engine: Engine, rows: Sequence[stored.Finding]) -> dict[int, list[Dispute]]:
    disputes: dict[int, list[Dispute]] = {}
    for dispute in stored.disputes_of(engine, [f.id for f in rows]):
        disputes.setdefault(dispute.finding_id, []).append(dispute)
    return disputes


def _views(
    rows: Sequence[stored.Finding],
    states: Mapping[int, stored.ReviewState],
    disputes: Mapping[int, list[Dispute]],
    result: CallResult,
    settings: ReviewSettings,
) -> list[FindingView]:
    whys = _reasons(result)
    views = []
    for f in rows:
        state = states.get(f.id)
        start = min((float(e.start) for e in f.evidence), default=None)
        views.append(
            FindingView(
                f.id,
                f.kind,
                f.code,
                f.reason,
                start,
                bool(flagged_codes([(f.kind, f.code)], settings)),
                state.action if state else None,
                state.reviewer if state else None,
                state.note if state else None,
                tuple(disputes.get(f.id, ())),
                (whys.get((f.kind, f.code)) or [None]).pop(0),
                f.evidence,
            )
        )
    return views
