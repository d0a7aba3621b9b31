"""Orchestration overhead and memory of the nightly flow, measured in one run.

1. The same 1,000 calls judged and stored by the plain code path and by the nightly Prefect flow
   (default chunks of 500), each into a fresh SQLite database, alternating five times; each
   side's best and median are printed with every round. Both sides do the same useful work:
   `judge_paths`, one streamed read of the results (`digest`: touched dates, counts, flagged
   calls), the scorecard rebuild and the summary markdown, with the rules loaded through the
   same per-process cache. What only the flow does is the orchestration being measured: the
   Prefect flow and task runs, chunking (two results files concatenated into one) and posting
   the two artifacts. The flow runs once on a small batch first, so Prefect's one-time server
   start is not counted; its per-run fixed cost is printed apart (both sides on 10 calls).
   Target: the flow takes at most 10% longer.
2. Peak resident memory of the flow on 1,000 and on 10,000 calls, each in a fresh process.
   Target: flat (the second no more than about the first plus the results file it merges).

    python bench/flow_overhead.py [--calls 1000] [--big 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.bench_env import DAY, make_batch  # noqa: E402  (before Prefect: its settings)


def plain(root: Path, db: str, out: Path) -> float:
    """The flow's useful work without Prefect: judge, digest, rebuild, summarise."""
    from qa_pipeline.batch.run import judge_paths
    from qa_pipeline.ingest.batch import discover
    from qa_pipeline.judging.judge import load_rules_cached
    from qa_pipeline.scorecards.persist import rebuild
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import Store
    from qa_pipeline.verdict.digest import digest, markdown

    started = time.perf_counter()
    store = Store(connect(db))
    summary = judge_paths(discover(root / DAY), out, load_rules_cached(), store=store)
    night = digest(summary.results_path)
    cards = rebuild(store.engine, night.dates)
    markdown(DAY, night, cards)
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


def compare(root: Path, work: Path, rounds: int, tag: str) -> tuple[list[float], list[float]]:
    """Both sides, alternated (this shared machine's speed drifts), each into a fresh database."""
    loops, flows = [], []
    for n in range(rounds):
        name = f"{tag}{n}"
        loops.append(plain(root, f"sqlite:///{work / f'plain{name}.db'}", work / f"p{name}.jsonl"))
        flows.append(flow(root, f"sqlite:///{work / f'flow{name}.db'}", work / f"flow{name}"))
    return loops, flows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--big", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qa-bench-") as tmp:
        work = Path(tmp)
        root = make_batch(work / "calls", args.calls)
        warm = make_batch(work / "warm", 10)
        flow(warm, f"sqlite:///{work / 'warm.db'}", work / "warm-out")  # server start, not counted
        small_loops, small_flows = compare(warm, work, 3, "small")
        fixed = median(small_flows) - median(small_loops)
        loops, flows = compare(root, work, args.rounds, "")
        pairs = list(zip(loops, flows, strict=True))
        rounds = ", ".join(f"{p:.2f}/{f:.2f} ({f / p - 1:+.0%})" for p, f in pairs)
        print(f"{args.calls} calls, plain/flow per round (s): {rounds}")
        print(f"plain loop best {min(loops):.2f}s median {median(loops):.2f}s; "
              f"flow best {min(flows):.2f}s median {median(flows):.2f}s")  # fmt: skip
        # Rounds are paired (plain, then flow at once): the median of their ratios is the
        # figure least moved by another process taking the machine for a while.
        print(f"overhead {median(f / p for p, f in pairs) - 1:+.1%} median of rounds, "
              f"{min(flows) / min(loops) - 1:+.1%} best to best, "
              f"{median(flows) / median(loops) - 1:+.1%} median to median (target <= +10%); "
              f"fixed per-run part (10 calls each side) {fixed:+.2f}s")  # fmt: skip
        small, big = peak_memory(args.calls, work), peak_memory(args.big, work)
        print(f"peak memory: {args.calls} calls {small:.0f} MiB, {args.big} calls {big:.0f} MiB "
              f"(ratio {big / small:.2f}; flat is about 1)")  # fmt: skip


if __name__ == "__main__":
    main()
