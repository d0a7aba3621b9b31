"""A local Dask cluster as the tests start one: named worker processes under nannies (a killed
one is restarted), no dashboard, workers that may have children (each call is judged in a forked
worker, `--call-budget`; Dask's default daemonic workers may not)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dask
from distributed import Client, Nanny, Scheduler, SpecCluster


@contextmanager
def local_cluster(workers: Mapping[str, Mapping[str, Any]]) -> Iterator[Client]:
    """A client of a cluster with one nannied worker per name, each with its `Worker` options,
    all of them up before it is handed out."""
    specs = {name: {"cls": Nanny, "options": dict(options)} for name, options in workers.items()}
    # a free port should a dashboard start anyway: 8787 may be another cluster's on this machine
    scheduler_options = {"dashboard": False, "dashboard_address": ":0", "host": "127.0.0.1"}
    scheduler = {"cls": Scheduler, "options": scheduler_options}
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        SpecCluster(workers=specs, scheduler=scheduler) as spec,
        Client(spec) as client,
    ):
        client.wait_for_workers(len(specs))
        yield client
