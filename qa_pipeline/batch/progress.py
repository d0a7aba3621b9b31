"""A progress bar (rich) over a batch's hook steps, for a person at a terminal: the total from
the "discover" step, one tick per call judged or reused. The one module that imports rich."""

from __future__ import annotations

from collections.abc import Iterator, Sized
from contextlib import contextmanager

from qa_pipeline.batch.run import Hook

TICKS = frozenset({"judge", "reuse"})  # one per call, whatever became of it


@contextmanager
def progress_bar(label: str, then: Hook, shown: bool, total: int | None = None) -> Iterator[Hook]:
    """A hook that moves a bar on stderr and passes every step on to `then`; with `shown`
    False (not a terminal, or --quiet) it is `then` itself and rich is never imported."""
    if not shown:
        yield then
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        bar = progress.add_task(label, total=total)

        def hook(step: str, artifact: object) -> None:
            if step == "discover" and isinstance(artifact, Sized):
                progress.update(bar, total=len(artifact))
            elif step in TICKS:
                progress.advance(bar)
            then(step, artifact)

        yield hook
