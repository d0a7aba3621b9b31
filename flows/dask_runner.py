"""The nightly flow on a Dask cluster: the one module that imports prefect-dask and dask.

Chunks become Dask tasks through Prefect's `DaskTaskRunner`. A chunk that hears recordings can
ask for a worker resource (`dask worker --resources asr=1`), so ASR runs only on the workers
started for it while judging-only chunks go anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qa_pipeline.errors import MissingExtraError


def runner(address: str | None, local_workers: int | None, asr_resource: str | None) -> Any:
    """A task runner for the cluster at `address`, or for a local cluster of `local_workers`
    processes (one thread each; each holds `asr_resource`, else no chunk could hear)."""
    MissingExtraError.check("prefect_dask", "dask", "The Dask task runner (--dask-*)")
    import dask
    from prefect_dask.task_runners import DaskTaskRunner

    # Local workers that may have children: each call is judged in a forked worker process
    # within its time budget (--call-budget). Remote workers need
    # DASK_DISTRIBUTED__WORKER__DAEMON=False in their environment (README).
    dask.config.set({"distributed.worker.daemon": False})
    if address:
        return DaskTaskRunner(address=address)
    kwargs: dict[str, Any] = {"n_workers": local_workers, "threads_per_worker": 1}
    if asr_resource:
        kwargs["resources"] = {asr_resource: 1}
    return DaskTaskRunner(cluster_kwargs=kwargs)


@contextmanager
def needing(resource: str | None) -> Iterator[None]:
    """Tasks submitted inside run only on workers holding one unit of `resource` (None: any
    worker). Without a Dask runner the annotation is recorded and ignored."""
    if resource is None:
        yield
        return
    MissingExtraError.check("dask", "dask", f"A chunk resource ({resource})")
    from dask.base import annotate

    with annotate(resources={resource: 1}):
        yield
