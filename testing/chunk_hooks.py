"""Chunk hooks for the nightly flow's `chunk_hook`, named `testing.chunk_hooks:NAME`: each
Dask worker imports this module itself, so they read their instructions from files named in
the folder `$QA_PIPELINE_DRILLS`, named in the environment the workers inherit.

`kill_once`: the worker judging the call named in the file `kill-at` there kills its own
process (SIGKILL: no cleanup, no goodbye to the scheduler), once. The first process to rename
the file away fires; any later attempt finds no file and goes on.
`note_span`: appends "pid start end" of each chunk's hearing (from its first decode to its
results file written) to the file `spans` there, to show which chunks heard at the same time.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

DRILLS = "QA_PIPELINE_DRILLS"

_started: list[float] = []  # this process's current chunk: when its hearing began


def _drill_file(name: str) -> Path | None:
    folder = os.environ.get(DRILLS)
    return Path(folder) / name if folder else None


def kill_once(step: str, artifact: object) -> None:
    path = _drill_file("kill-at")
    if step != "judge" or path is None:
        return
    try:
        target = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return
    if getattr(artifact, "call_id", None) != target:
        return
    try:
        path.rename(path.with_name(path.name + ".fired"))
    except FileNotFoundError:  # another process fired first
        return
    os.kill(os.getpid(), signal.SIGKILL)


def note_span(step: str, artifact: object) -> None:
    """Hearing starts with "decode"; a chunk ends with "write" (its results file renamed)."""
    spans = _drill_file("spans")
    if spans is None:
        return
    if step == "decode" and not _started:
        _started.append(time.time())
    elif step == "write" and _started:
        with spans.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {_started.pop():.6f} {time.time():.6f}\n")
