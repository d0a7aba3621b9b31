"""Writing results.jsonl so that runs cannot collide: each run writes its own temporary file
(named after the process and a random token) and renames it over the results at the end, under
an exclusive lock on `<results>.lock`. A second run into the same folder is refused at once with
a clear error instead of renaming a file the first run is still writing; a run killed midway
leaves the previous results intact, and the next run removes its temporary file."""

from __future__ import annotations

import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

from qa_pipeline.errors import OutputBusyError

_HELD: set[int] = set()  # descriptors of the results locks this process holds


def _drop_locks_in_child() -> None:
    """A forked worker (the time budget's) closes its copies of the lock descriptors: flock
    locks belong to the open file, so a worker still busy with a call would otherwise keep the
    folder locked after its batch process was killed, and refuse the rerun."""
    for fd in _HELD:
        with suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


@contextmanager
def _locked(final: Path) -> Iterator[None]:
    lock_path = final.with_name(final.name + ".lock")
    with lock_path.open("a+", encoding="utf-8") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            lock.seek(0)
            raise OutputBusyError(str(final), lock.read().strip() or "unknown") from exc
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        _HELD.add(lock.fileno())
        try:
            yield  # the lock goes with the file's closing, or with the process when it is killed
        finally:
            _HELD.discard(lock.fileno())


def leftover_partials(final: Path) -> list[Path]:
    """Temporary results files of earlier runs into `final` that never finished (killed, or
    their machine lost); the nightly flow logs them as a retried chunk."""
    return sorted(final.parent.glob(final.name + ".*.partial"))


@contextmanager
def results_writer(final: Path) -> Iterator[TextIO]:
    """A text file whose lines become `final` when the block ends without an error."""
    final.parent.mkdir(parents=True, exist_ok=True)
    with _locked(final):
        for stale in leftover_partials(final):  # left by a killed run
            stale.unlink(missing_ok=True)
        partial = final.with_name(f"{final.name}.{os.getpid()}-{secrets.token_hex(4)}.partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                yield out
                out.flush()
                os.fsync(out.fileno())
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
