"""Orchestration overhead and memory of the nightly flow, measured in one run.

1. The same 1,000 calls judged and stored by the plain code path (`judge_paths` + scorecard
   rebuild) and by the nightly Prefect flow (default chunks of 500), each into a fresh SQLite
   database, alternating three times and keeping each side's best; the flow runs once on a small
   batch first, so Prefect's one-time server start is not counted.
   Target: the flow takes at most 10% longer.
2. Peak resident memory of the flow on 1,000 and on 10,000 calls, each in a fresh process.
   Target: flat (the second no more than about the first plus the results file it merges).

    python bench/flow_overhead.py [--calls 1000] [--big 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-20"
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qa-bench-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(ROOT))


def make_batch(root: Path, count: int) -> Path:
    from qa_pipeline.evaluation.synthetic import replicate

    replicate(ROOT / "samples" / "calls", root / DAY, count)
    return root


def plain(root: Path, db: str, out: Path) -> float:
    from qa_pipeline.ingest.batch import discover
    from qa_pipeline.pipeline import judge_paths, touched_dates
    from qa_pipeline.ruleset import load_ruleset
    from qa_pipeline.scorecards.frame import load_frame
    from qa_pipeline.scorecards.persist import rebuild
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import Store

    started = time.perf_counter()
    store = Store(connect(db))
    summary = judge_paths(discover(root / DAY), out, load_ruleset(), store=store)
    rebuild(store.engine, load_frame(store.engine), touched_dates(summary.results_path))
    return time.perf_counter() - started


def flow(root: Path, db: str, out: Path) -> float:
    from flows.nightly_qa import nightly_qa

    started = time.perf_counter()
    nightly_qa(str(root), DAY, None, db, str(out))
    return time.perf_counter() - started


def peak_memory(count: int, work: Path) -> float:
    """Peak RSS (MiB) of a fresh process running the flow on `count` calls."""
    root = make_batch(work / f"mem-{count}", count)
    args = (
        str(root),
        DAY,
        None,
        f"sqlite:///{work / f'mem-{count}.db'}",
        str(work / f"mem-out-{count}"),
    )
    code = (
        f"import resource, sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from flows.nightly_qa import nightly_qa\n"
        f"nightly_qa(*{args!r}, chunk_size=500)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return int(result.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        work = Path(tmp)
        root = make_batch(work / "calls", args.calls)
        warm = make_batch(work / "warm", 10)
        flow(warm, f"sqlite:///{work / 'warm.db'}", work / "warm-out")  # server start, not counted
        # Alternate and keep each side's best of three: this shared machine's speed drifts.
        loops, flows = [], []
        for n in range(3):
            db = work / f"plain{n}.db"
            loops.append(plain(root, f"sqlite:///{db}", work / f"plain{n}.jsonl"))
            flows.append(flow(root, f"sqlite:///{work / f'flow{n}.db'}", work / f"flow{n}"))
        loop_s, flow_s = min(loops), min(flows)
        print(f"{args.calls} calls: plain loop {loop_s:.2f}s, flow {flow_s:.2f}s, "
              f"overhead {flow_s / loop_s - 1:+.1%} (target <= +10%)")  # fmt: skip
        small, big = peak_memory(args.calls, work), peak_memory(args.big, work)
        print(f"peak memory: {args.calls} calls {small:.0f} MiB, {args.big} calls {big:.0f} MiB "
              f"(ratio {big / small:.2f}; flat is about 1)")  # fmt: skip


if __name__ == "__main__":
    main()
