"""The evidence pack of one call: what an operator sends the regulator when a customer
complains about a value-added service. One ZIP file:

- `index.html`: one self-contained page (inline style, no script, no network), in the chosen
  language: the verdict and its reasons; for each of the identity answer, permission, price,
  trial end, cancel method and consent, its evidence times, the clip cut from the recording,
  what was said and the transcript around it (the evidence highlighted), or for an absence the
  stretch searched; the review history and who signed it off; the call's metadata.
- `clips/N-ITEM.wav`: the clips, cut at the evidence times (`audio.clips`).
- `manifest.json`: what the pack holds, each file with its SHA-256 and size; `SHA256SUMS`
  the same for `sha256sum -c` (manifest.json included).

It reads what the call page reads (`views.judged`, `transcript_lines`, `finding_views`,
`mark_lines`) and masks what the call page masks for the role (`views.masked_for`), so the pack
never says more than the page would to the same role. The recording is only cut: a clip is as
the role hears it on the call page."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jinja2

from qa_pipeline.audio.clips import Clip, cut_clips
from qa_pipeline.errors import AudioFileError, EvidenceError
from qa_pipeline.review.auth import mask_number, mask_spoken_numbers
from qa_pipeline.review.i18n import LANGUAGES, translator, when
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.review.views import (
    FindingView,
    Line,
    finding_views,
    judged,
    mark_lines,
    masked_for,
    transcript_lines,
)
from qa_pipeline.storage.audit import entries, record
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.history import HistoryStep, review_history
from qa_pipeline.storage.review import CallRecord, recording_path
from qa_pipeline.storage.transaction import transaction
from qa_pipeline.verdict.model import CallResult, Evidence, Item, TranscriptLine
from qa_pipeline.verdict.reasons import Reason, word

HERE = Path(__file__).resolve().parent
FORMAT = "qa-pipeline evidence pack 1"
# The items a complaint turns on, by their finding codes (criteria.yaml's four standards).
PACK_ITEMS = (
    ("identity", "account_holder_verified.identity"),
    ("permission", "account_holder_verified.permission"),
    ("price", "disclosures.fees"),
    ("trial_end", "disclosures.trial_end"),
    ("cancel_method", "disclosures.cancel_method"),
    ("consent", "explicit_consent"),
)
CONTEXT_TURNS = 2  # transcript lines shown before and after an item's evidence
SIGN_OFF_ACTIONS = ("confirm", "overturn", "dispute_decide", "calibration")


@dataclass(frozen=True)
class ExcerptLine:
    line: Line  # with the item's evidence highlighted
    searched: bool  # inside the stretch searched for something never said


@dataclass(frozen=True)
class PackItem:
    key: str  # identity | permission | price | trial_end | cancel_method | consent
    code: str  # its finding code
    judged: bool  # False: the rules judged no such item
    passed: bool | None  # None: does not apply
    why: Reason | None
    reason: str  # English, where there is no template
    said: tuple[Evidence, ...]  # what was said
    searched: tuple[tuple[float, float], ...]  # the stretches searched for an absence
    span: tuple[float, float] | None  # from the first evidence's start to the last's end
    excerpt: tuple[ExcerptLine, ...]
    clip: str | None = None  # its file in the pack
    clip_span: tuple[float, float] | None = None  # what was cut (the span, within the audio)
    review: str | None = None  # confirm | overturn, of its finding


@dataclass(frozen=True)
class Recording:
    name: str | None  # the file's name (None: the call has no recording)
    sha256: str | None
    problem: str | None  # missing | unreadable | truncated (the clips it holds are kept)
    detail: str | None  # the decoder's words, naming the file


@dataclass(frozen=True)
class SignOff:
    actor: str
    at: datetime


@dataclass(frozen=True)
class PackPage:
    """What index.html shows."""

    call: CallRecord
    number: str
    result: CallResult | None
    valid: bool | None  # the final verdict's (after review), else the engine's
    reviewed: bool  # a final verdict exists
    final: Mapping[str, bool | None]  # each criterion's pass after review (reviewed only)
    standing: tuple[FindingView, ...]  # findings not overturned, review flags left out
    items: tuple[PackItem, ...]
    history: tuple[HistoryStep, ...]
    queued: bool
    signed_off: SignOff | None
    recording: Recording
    role: str
    masked: bool
    generated_at: datetime
    generated_by: str


@dataclass(frozen=True)
class Pack:
    name: str  # a file name for it: evidence-CALL_ID.zip
    data: bytes
    recording_problem: str | None  # English, naming the file and what the pack lacks
    role: str
    language: str
    masked: bool
    clips: int


def evidence_pack(
    engine: Engine,
    call: CallRecord,
    role: str,
    language: str,
    settings: ReviewSettings,
    generated_by: str,
    now: datetime,
) -> Pack:
    """The pack of `call` (already scoped to the asker) as `role` may see it, in `language`."""
    if language not in LANGUAGES:
        raise EvidenceError(f"language {language!r} is not one of {list(LANGUAGES)}")
    found = judged(engine, call.call_id)
    if found.blind:
        raise EvidenceError(
            f"call {call.call_id} is a pending blind calibration call: its verdict stays hidden "
            "until a QA lead judges it in the workbench"
        )
    result = found.result
    verdict = result.verdict if result else None
    findings: list[FindingView] = []
    if found.verdict_id and result is not None:
        findings = finding_views(engine, found.verdict_id, settings, result)
    transcript = transcript_lines(engine, call.call_id, result)
    items = [_item(key, code, verdict.judged_items() if verdict else (), transcript, findings)
             for key, code in PACK_ITEMS]  # fmt: skip
    path = recording_path(engine, call.call_id)
    recording, clips, problem = _clips(path, items)
    items = [_with_clip(item, n, clips.get(item.key)) for n, item in enumerate(items, 1)]
    final = found.item.final if found.item else None
    history = review_history(engine, found.verdict_id) if found.verdict_id else []
    masked = masked_for(role, settings)
    reviewed = found.item is not None and found.item.status == "reviewed"
    page = PackPage(
        call=call,
        number=mask_number(call.customer_number) if masked else call.customer_number,
        result=result,
        valid=final.valid_sale if final else (verdict.valid_sale if verdict else None),
        reviewed=final is not None,
        final=final.criteria if final else {},
        standing=tuple(f for f in findings if f.state != "overturn" and f.kind != "review_flag"),
        items=tuple(items),
        history=tuple(history),
        queued=found.item is not None,
        signed_off=_signed_off(engine, call.call_id, reviewed),
        recording=recording,
        role=role,
        masked=masked,
        generated_at=now,
        generated_by=generated_by,
    )
    say = mask_spoken_numbers if masked else _as_is
    html = _render(page, language, say)
    files = {"index.html": html.encode("utf-8")}
    files |= {item.clip: clips[item.key].wav for item in items if item.clip}
    manifest = _manifest(page, language, say, files)
    files["manifest.json"] = manifest
    files["SHA256SUMS"] = "".join(
        f"{_sha256(data)}  {name}\n" for name, data in sorted(files.items())
    ).encode("utf-8")
    name = f"evidence-{_safe(call.call_id)}.zip"
    return Pack(name, _zip(files, now), problem, role, language, masked, len(clips))


def _as_is(text: str) -> str:
    return text


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


def _item(
    key: str,
    code: str,
    judged_items: Iterable[tuple[str, Item]],
    transcript: Sequence[TranscriptLine],
    findings: Sequence[FindingView],
) -> PackItem:
    item: Item | None = dict(judged_items).get(code)
    if item is None:
        return PackItem(key, code, False, None, None, "", (), (), None, ())
    # A sentence that shows two things (a price and its period) is evidence twice: once here.
    said = tuple(dict.fromkeys(e for e in item.evidence if e.source != "searched"))
    searched = tuple((e.start, e.end) for e in item.evidence if e.source == "searched")
    span = (
        (min(e.start for e in item.evidence), max(e.end for e in item.evidence))
        if item.evidence
        else None
    )
    review = next((f.state for f in findings if f.kind == "criterion" and f.code == code), None)
    return PackItem(key, code, True, item.passed, item.why, item.reason, said, searched, span,
                    _excerpt(transcript, said, searched), review=review)  # fmt: skip


def _excerpt(
    transcript: Sequence[TranscriptLine],
    said: Sequence[Evidence],
    searched: Sequence[tuple[float, float]],
) -> tuple[ExcerptLine, ...]:
    """The lines of the evidence, or of the stretches searched, and a few around them."""
    lines = mark_lines(transcript, said)
    inside = [any(line.start < end and start < line.end for start, end in searched)
              for line in lines]  # fmt: skip
    hits = [n for n, line in enumerate(lines) if line.evidence or inside[n]]
    if not hits:
        return ()
    first, last = max(0, hits[0] - CONTEXT_TURNS), min(len(lines), hits[-1] + CONTEXT_TURNS + 1)
    return tuple(ExcerptLine(lines[n], inside[n]) for n in range(first, last))


def _clips(
    path: str | None, items: Sequence[PackItem]
) -> tuple[Recording, dict[str, Clip], str | None]:
    """Each item's clip by its key; an unreadable recording leaves none, and says why."""
    if path is None:
        return Recording(None, None, None, None), {}, None
    source = Path(path)
    wanted = [item for item in items if item.span is not None]
    try:
        cut = cut_clips(source, [item.span for item in wanted if item.span is not None])
        with source.open("rb") as recorded:
            digest = hashlib.file_digest(recorded, "sha256").hexdigest()
    except (AudioFileError, OSError) as exc:
        problem = "missing" if not source.is_file() else "unreadable"
        detail = exc.message if isinstance(exc, AudioFileError) else f"{path}: {exc}"
        lacks = f"{detail}; the pack holds the transcript only"
        return Recording(source.name, None, problem, detail), {}, lacks
    clips = {item.key: clip for item, clip in zip(wanted, cut.clips, strict=True) if clip}
    if cut.truncated:
        detail = f"{path}: the file breaks off after {cut.duration_s:.2f} s"
        lacks = f"{detail}; clips after the break are missing"
        return Recording(source.name, digest, "truncated", detail), clips, lacks
    return Recording(source.name, digest, None, None), clips, None


def _with_clip(item: PackItem, number: int, clip: Clip | None) -> PackItem:
    if clip is None:
        return item
    name = f"clips/{number}-{item.key}.wav"
    return dataclasses.replace(item, clip=name, clip_span=(clip.start, clip.end))


def _signed_off(engine: Engine, call_id: str, reviewed: bool) -> SignOff | None:
    """Who closed the call's review: the newest review action on it, once it is reviewed."""
    if not reviewed:
        return None
    for entry in entries(engine, call_id):
        if entry.action in SIGN_OFF_ACTIONS:
            return SignOff(entry.actor, entry.at)
    return None


@functools.cache
def _template() -> jinja2.Template:
    """The pack's page template, loaded and compiled once per process (not per pack)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True
    )
    return environment.get_template("evidence_pack.html")


def _render(page: PackPage, language: str, say: Callable[[str], str]) -> str:
    return _template().render(
        page=page,
        lang=language,
        t=translator(language),
        name=lambda code: word(str(code), language),
        # Every text of the call (transcript, reasons, notes, names) as the role may see it.
        say=say,
        reason=lambda why, fallback="": say(why.text(language) if why is not None else fallback),
        when=lambda value: when(value, language),
    )


def _manifest(
    page: PackPage, language: str, say: Callable[[str], str], files: dict[str, bytes]
) -> bytes:
    verdict = page.result.verdict if page.result else None
    recording = page.recording
    data = {
        "format": FORMAT,
        "call_id": page.call.call_id,
        "generated_at": page.generated_at.isoformat(),
        "generated_by": page.generated_by,
        "role": page.role,
        "numbers_masked": page.masked,
        "language": language,
        "call": {
            "campaign": page.call.campaign, "agent_id": page.call.agent_id,
            "team": page.call.team, "customer_number": page.number,
            "started_at": page.call.started_local, "duration_s": page.call.duration_s,
        },
        "verdict": {
            "rules_version": page.result.rules_version if page.result else None,
            "outcome": verdict.outcome.value if verdict else None,
            "engine_valid_sale": verdict.valid_sale if verdict else None,
            "valid_sale": page.valid, "reviewed": page.reviewed,
            "signed_off_by": page.signed_off.actor if page.signed_off else None,
            "signed_off_at": page.signed_off.at.isoformat() if page.signed_off else None,
        },
        "recording": {
            "file": say(recording.name) if recording.name else None,
            "sha256": recording.sha256, "problem": recording.problem,
            "detail": say(recording.detail) if recording.detail else None,
        },
        "items": [
            {"item": i.key, "code": i.code, "judged": i.judged, "passed": i.passed,
             "evidence_start": i.span[0] if i.span else None,
             "evidence_end": i.span[1] if i.span else None,
             "searched": [list(s) for s in i.searched], "clip": i.clip,
             "clip_start": i.clip_span[0] if i.clip_span else None,
             "clip_end": i.clip_span[1] if i.clip_span else None, "review": i.review}
            for i in page.items
        ],
        "files": {name: {"sha256": _sha256(body), "bytes": len(body)}
                  for name, body in sorted(files.items())},
    }  # fmt: skip
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _zip(files: dict[str, bytes], now: datetime) -> bytes:
    """Stored in a fixed order with the generation time, so a pack is one byte sequence."""
    stamp = now.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("index.html", "manifest.json", "SHA256SUMS"):
            archive.writestr(zipfile.ZipInfo(name, stamp), files[name], zipfile.ZIP_DEFLATED)
        for name in sorted(n for n in files if n.startswith("clips/")):
            archive.writestr(zipfile.ZipInfo(name, stamp), files[name], zipfile.ZIP_DEFLATED)
    return out.getvalue()


def record_export(engine: Engine, actor: str, call_id: str, pack: Pack) -> None:
    """Who took which pack of a call out of the system, in the audit log."""
    after = {"file": pack.name, "sha256": _sha256(pack.data), "role": pack.role,
             "language": pack.language}  # fmt: skip
    with transaction(engine) as tx:
        record(tx, actor, "evidence_pack", call_id, pack.name, None, after)
