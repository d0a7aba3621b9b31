"""The nightly flow on a two-worker Dask cluster against the same flow in one process,
measured in one run.

The cluster is started the way README's "Scaling out" section says (`dask scheduler`, then
`dask worker` processes, one thread each), here all on this machine; both sides write to
PostgreSQL, each run into a schema of its own; Prefect is a temporary local server.

1. Wall time of the sequential flow and of the flow on the cluster, same 2,000-call transcript
   batch, chunks of 500 (the default), and their ratio. Each side first runs a 20-call batch
   (on Dask in chunks of one call, so both workers get some): the server start, the workers'
   imports and first rules and model loads are printed apart, not counted.
2. Per-chunk cost of Dask + Prefect: the same batch on the cluster in chunks of 50 (40 chunks)
   against chunks of 500 (4): the extra wall seconds per extra chunk.
3. Payloads: the pickled bytes of a chunk's arguments (500 paths) and of its result.
4. At 20,000 calls (chunks of 500): the Dask tasks submitted (one per chunk), the most the
   scheduler held at once, and the scheduler process's resident memory, polled every 0.2 s.

    python bench/dask_scaling.py [--calls 2000] [--big 20000] [--chunk 500] [--small-chunk 50]
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("QA_PIPELINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
sys.path.insert(0, str(ROOT))

from testing.bench_env import DAY, make_batch  # noqa: E402  (before Prefect: its settings)
from testing.pg_schema import own_schema  # noqa: E402


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cluster(workers: int) -> Iterator[str]:
    """`dask scheduler` and `workers` single-thread `dask worker` processes; the address."""
    dask = str(Path(sys.executable).parent / "dask")
    address = f"tcp://127.0.0.1:{_free_port()}"
    env = os.environ | {"PYTHONPATH": str(ROOT)}  # the workers import flows/ and testing/
    port = address.rsplit(":", 1)[1]
    quiet: dict[str, Any] = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": env,
        "cwd": ROOT,
    }
    started = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], **quiet
        )
    ]
    worker = [
        dask,
        "worker",
        address,
        "--nthreads",
        "1",
        "--no-dashboard",
        "--memory-limit",
        "2GiB",
    ]
    started += [subprocess.Popen([*worker, "--name", f"w{n}"], **quiet) for n in range(workers)]
    try:
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            process.wait(timeout=60)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


class SchedulerWatch:
    """Polls the scheduler in a thread: the most tasks it held, its largest resident size."""

    def __init__(self, address: str) -> None:
        from distributed import Client

        self.client = Client(address)
        self.peak_tasks = 0
        self.peak_rss = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def rss(self) -> int:
        return int(self.client.run_on_scheduler(_scheduler_rss))

    def _poll(self) -> None:
        while not self.stop.wait(0.2):
            tasks, rss = self.client.run_on_scheduler(_scheduler_state)
            self.peak_tasks = max(self.peak_tasks, tasks)
            self.peak_rss = max(self.peak_rss, rss)

    def __enter__(self) -> SchedulerWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.client.close()


def _scheduler_rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _scheduler_state(dask_scheduler: Any) -> tuple[int, int]:
    return len(dask_scheduler.tasks), _scheduler_rss()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--big", type=int, default=20000, help="0: skip the big run")
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--small-chunk", type=int, default=50)
    args = parser.parse_args()
    from prefect.testing.utilities import prefect_test_harness

    from flows.dask_runner import runner
    from flows.nightly_qa import judge_chunk, nightly_qa, plan_chunks
    from qa_pipeline.ingest.batch import discover

    with (
        tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp,
        prefect_test_harness(server_startup_timeout=120),
    ):
        work = Path(tmp)
        warm, batch = make_batch(work / "warm", 20), make_batch(work / "calls", args.calls)

        def run(flow: Any, root: Path, chunk: int, db: str, tag: str) -> None:
            flow(str(root), DAY, None, db, str(work / tag), chunk_size=chunk)

        with own_schema(PG_URL, "bench") as db:
            first_seq = timed(lambda: run(nightly_qa, warm, args.chunk, db, "warm-seq"))
        with own_schema(PG_URL, "bench") as db:
            sequential = timed(lambda: run(nightly_qa, batch, args.chunk, db, "seq"))
        started = time.perf_counter()
        with cluster(2) as address:
            from distributed import Client

            with Client(address) as client:
                client.wait_for_workers(2)
            up = time.perf_counter() - started
            on_dask = nightly_qa.with_options(task_runner=runner(address, None, None))
            with own_schema(PG_URL, "bench") as db:
                # chunks of one call: both workers get some, and warm up
                first_dask = timed(lambda: run(on_dask, warm, 1, db, "warm-dask"))
            with own_schema(PG_URL, "bench") as db:
                dask = timed(lambda: run(on_dask, batch, args.chunk, db, "dask"))
                # A chunk's result again, every call reused from the store: its pickled size.
                chunk = plan_chunks(discover(batch / DAY), args.chunk)[0]
                result = judge_chunk.fn(chunk, str(work / "again.jsonl"), None, db, None)
            with own_schema(PG_URL, "bench") as db:
                small = timed(lambda: run(on_dask, batch, args.small_chunk, db, "dask-small"))
            big_line = ""
            if args.big:
                root = make_batch(work / "big", args.big)
                with SchedulerWatch(address) as watch, own_schema(PG_URL, "bench") as db:
                    before = watch.rss()
                    big = timed(lambda: run(on_dask, root, args.chunk, db, "dask-big"))
                chunks = -(-args.big // args.chunk)
                big_line = (
                    f"{args.big} calls on 2 workers: {big:.1f}s, {chunks} Dask tasks (chunks of "
                    f"{args.chunk}), at most {watch.peak_tasks} held by the scheduler at once; "
                    f"scheduler RSS {before / 2**20:.0f} MiB before, {watch.peak_rss / 2**20:.0f} "
                    "MiB at most during the run"
                )
        chunks = -(-args.calls // args.chunk)
        small_chunks = -(-args.calls // args.small_chunk)
        print(f"{args.calls} calls, chunks of {args.chunk}: sequential {sequential:.1f}s, "
              f"2 Dask workers {dask:.1f}s (speed-up x{sequential / dask:.2f})")  # fmt: skip
        print(f"chunks of {args.small_chunk} on 2 workers: {small:.1f}s for {small_chunks} "
              f"chunks: {(small - dask) / (small_chunks - chunks):+.3f}s of wall time per "
              "extra chunk")  # fmt: skip
        print(f"one-time: cluster up {up:.1f}s; first 20-call run sequential {first_seq:.1f}s "
              f"(server start included), on Dask in 20 chunks {first_dask:.1f}s (each worker "
              "imports, loads the rules and the understanding model)")  # fmt: skip
        print(f"payload of a {len(chunk)}-call chunk: arguments {len(pickle.dumps(chunk))} B, "
              f"result {len(pickle.dumps(result))} B")  # fmt: skip
        if big_line:
            print(big_line)


if __name__ == "__main__":
    main()
