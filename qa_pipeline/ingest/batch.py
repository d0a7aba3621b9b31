"""A batch is a folder of `<call_id>.json` files; other files are ignored."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.errors import InputDirError


def discover(input_dir: Path) -> list[Path]:
    """The call files of a batch folder, in name order (labels.jsonl and the rest are ignored)."""
    if not input_dir.exists():
        raise InputDirError(str(input_dir), "does not exist")
    if not input_dir.is_dir():
        raise InputDirError(str(input_dir), "is not a folder")
    return sorted(p for p in input_dir.glob("*.json") if p.is_file())
