"""A batch folder: transcript call files (`<call_id>.json`), recordings with optional sidecars
and `calls.csv` (see recordings.py); other files are ignored."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.errors import InputDirError
from qa_pipeline.ingest.recordings import EXTENSIONS, Source, discover_sources


def discover(input_dir: Path) -> list[Source]:
    """The calls of a batch folder in call-id order: transcript files as paths, recordings as
    RecordingCall (labels.jsonl and other files are ignored)."""
    if not input_dir.exists():
        raise InputDirError(str(input_dir), "does not exist")
    if not input_dir.is_dir():
        raise InputDirError(str(input_dir), "is not a folder")
    entries = sorted(input_dir.iterdir())
    # Anything named *.json is a call, even a folder or a broken link: it gets a failed row.
    jsons = [p for p in entries if p.suffix.lower() == ".json"]
    audio = [p for p in entries if p.suffix.lower() in EXTENSIONS and p.is_file()]
    return discover_sources(input_dir, audio, jsons)


def transcript_files(input_dir: Path) -> list[Path]:
    """Only the transcript call files of a batch folder."""
    return [s for s in discover(input_dir) if isinstance(s, Path)]
