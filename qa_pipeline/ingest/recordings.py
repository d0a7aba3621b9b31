"""A recordings batch: audio files, optional `<call_id>.json` sidecars and an optional
`calls.csv` of call-detail records.

A call's recordings are found by the CDR's `recording` column, else by name: `<call_id>.wav`,
or `<call_id>.leg<N>.<ext>` for the legs of a transferred call (joined in CDR start-time
order, else by N). A `.json` beside a recording is its sidecar (metadata, optionally
segments); a `.json` without one is a transcript call file as before.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.errors import CallFileError
from qa_pipeline.ingest.call_file import parse_call, read_bytes
from qa_pipeline.ingest.cdr import CdrRow, CdrTable, read_cdr
from qa_pipeline.ingest.model import Call

CDR_NAME = "calls.csv"
# Recording formats a batch folder may hold (PyAV decodes each).
EXTENSIONS = (".wav", ".mp3", ".m4a", ".amr", ".ogg", ".opus", ".flac")
_LEG = re.compile(r"^(?P<call>.+)\.leg(?P<n>\d+)$")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class RecordingCall:
    """One call to be heard: its recordings in time order, sidecar and CDR rows."""

    call_id: str
    legs: tuple[Path, ...]
    sidecar: Path | None
    cdr_rows: tuple[CdrRow, ...]
    cdr_problems: tuple[str, ...]  # this call's bad CDR rows, or the file's problem
    cdr_path: str | None

    @property
    def source(self) -> str:
        return str(self.legs[0])


Source = Path | RecordingCall


def _leg_key(path: Path) -> tuple[str, int]:
    stem = path.name[: -len(path.suffix)]
    match = _LEG.match(stem)
    return (match["call"], int(match["n"])) if match else (stem, 0)


def discover_sources(folder: Path, audio: list[Path], jsons: list[Path]) -> list[Source]:
    """Transcript files and recording calls of a batch folder, in call-id order."""
    cdr = read_cdr(folder / CDR_NAME) if (folder / CDR_NAME).is_file() else None
    named = cdr.by_recording() if cdr else {}
    legs: dict[str, list[tuple[float, int, Path]]] = {}
    for path in audio:
        call_id, n = _leg_key(path)
        call_id = named.get(path.name, call_id)
        rows = cdr.rows.get(call_id, ()) if cdr else ()
        started = next((r.started_at for r in rows if r.recording == path.name), None)
        legs.setdefault(call_id, []).append((started.timestamp() if started else 0.0, n, path))
    by_stem = {p.stem: p for p in jsons}
    sources: list[Source] = [p for p in jsons if p.stem not in legs]
    for call_id, found in legs.items():
        ordered = tuple(path for _, _, path in sorted(found, key=lambda x: (x[0], x[1])))
        sources.append(_recording_call(call_id, ordered, by_stem.get(call_id), cdr))
    return sorted(sources, key=lambda s: s.call_id if isinstance(s, RecordingCall) else s.stem)


def _recording_call(
    call_id: str, legs: tuple[Path, ...], sidecar: Path | None, cdr: CdrTable | None
) -> RecordingCall:
    if cdr is None:
        return RecordingCall(call_id, legs, sidecar, (), (), None)
    problems = cdr.errors.get(call_id, ())
    if cdr.file_error:
        problems = (cdr.file_error,)
    rows = tuple(sorted(cdr.rows.get(call_id, ()), key=_leg_order))
    return RecordingCall(call_id, legs, sidecar, rows, problems, cdr.path)


def _leg_order(row: CdrRow) -> tuple[bool, float, int]:
    """Legs in start-time order (rows without a start last), then in file order."""
    started = row.started_at.timestamp() if row.started_at is not None else 0.0
    return (row.started_at is None, started, row.line)


def recording_hash(call: RecordingCall) -> str:
    """Content hash of everything the verdict depends on: audio bytes, sidecar, CDR rows."""
    digest = hashlib.sha256()
    for leg in call.legs:
        with leg.open("rb") as audio:
            while chunk := audio.read(_HASH_CHUNK):
                digest.update(chunk)
    if call.sidecar is not None:
        digest.update(call.sidecar.read_bytes())
    for row in call.cdr_rows:
        digest.update(json.dumps(dict(row.fields), sort_keys=True).encode())
    return digest.hexdigest()


def _sidecar(call: RecordingCall) -> dict[str, Any]:
    if call.sidecar is None:
        return {}
    source = str(call.sidecar)
    try:
        data = json.loads(read_bytes(call.sidecar).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CallFileError(source, [f"sidecar is not valid JSON/UTF-8 ({exc})"]) from exc
    if not isinstance(data, dict):
        raise CallFileError(source, ["sidecar must be a JSON object"])
    return data


def call_metadata(
    call: RecordingCall, duration_s: float, languages: Mapping[str, str]
) -> tuple[Call, bool]:
    """The call's metadata (CDR first leg, then the sidecar's own keys on top) as a Call with
    the sidecar's segments if it has them; True when those segments make ASR unnecessary."""
    if call.cdr_problems and not call.sidecar:
        raise CallFileError(call.cdr_path or call.source, list(call.cdr_problems))
    merged: dict[str, Any] = {"call_id": call.call_id}
    if call.cdr_rows:
        first, last = call.cdr_rows[0], call.cdr_rows[-1]
        merged |= {k: v for k, v in first.fields.items() if k not in ("recording", "hangup_by")}
        merged["hangup_by"] = last.hangup_by  # the last leg's end is the call's end
    merged["duration_s"] = round(duration_s, 3)  # the recording, not the CDR, is heard
    side = _sidecar(call)
    has_segments = "segments" in side
    merged |= side
    merged.setdefault("hangup_by", None)
    merged.setdefault("segments", [])
    if "language" not in merged:  # recordings rarely say; the campaign does
        merged["language"] = languages.get(str(merged.get("campaign")), "")
    where = call.sidecar or (call.cdr_path and Path(call.cdr_path)) or call.legs[0]
    try:
        return parse_call(merged, str(where)), has_segments
    except CallFileError as exc:  # the CDR row may be why a field is missing: say both
        if not call.cdr_problems:
            raise
        cdr = [f"{call.cdr_path}: {p}" for p in call.cdr_problems]
        raise CallFileError(exc.path, [*exc.problems, *cdr]) from exc


def cdr_warnings(call: RecordingCall) -> tuple[str, ...]:
    """The call's CDR problems when its sidecar made them harmless: judged, but said."""
    if not call.sidecar:
        return ()
    return tuple(f"{call.cdr_path}: {p}" for p in call.cdr_problems)
