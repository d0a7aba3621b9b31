"""What the per-call time budget costs, measured in one run; and the nightly batch with bad
input (issue 15).

1. The same calls judged without a budget (in this process) and with one (each call sent to a
   worker process, its verdict sent back), into no database, alternating `--rounds` times; the
   best of each side and their ratio are printed. The worker's one-time fork is inside the
   timed side. `--understand` judges with the understanding stage as well.
2. `--nightly N`: a batch of N call files of which 10% are bad (testing/bad_calls.py, every kind
   in turn) judged and stored into a fresh SQLite database (and `--pg URL`'s PostgreSQL
   schema): rows, judged and failed counts, and whether every failed row names its file.

    python bench/call_budget.py [--calls 200] [--rounds 3] [--understand] [--nightly 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.pg_schema import own_schema  # noqa: E402


def _timed(folder: Path, out: Path, budget: float | None, understand: bool) -> float:
    from qa_pipeline.batch.run import run_batch
    from qa_pipeline.judging.judge import load_rules_cached

    ruleset = load_rules_cached()
    started = time.perf_counter()
    run_batch(folder, out, ruleset, understand=understand, call_budget_s=budget)
    return time.perf_counter() - started


def overhead(calls: int, rounds: int, understand: bool) -> None:
    from testing.synthetic import replicate

    with tempfile.TemporaryDirectory() as tmp:
        folder = replicate(ROOT / "samples" / "calls", Path(tmp) / "calls", calls)
        _timed(folder, Path(tmp) / "warm", None, understand)  # rules and models load once
        inline: list[float] = []
        worker: list[float] = []
        for n in range(rounds):
            inline.append(_timed(folder, Path(tmp) / f"a{n}", None, understand))
            worker.append(_timed(folder, Path(tmp) / f"b{n}", 60.0, understand))
            print(f"round {n + 1}: in-process {inline[-1]:.2f}s, worker {worker[-1]:.2f}s")
        a, b = min(inline), min(worker)
        print(
            f"{calls} calls: in-process {a:.2f}s ({1000 * a / calls:.1f} ms/call), with a time "
            f"budget {b:.2f}s ({1000 * b / calls:.1f} ms/call); ratio {b / a:.2f}"
        )


def nightly(count: int, pg: str | None) -> None:
    from testing.bad_calls import BAD_CALLS, write_batch

    samples = ROOT / "samples" / "calls"
    copies = max(1, -(-count // 10 // len(BAD_CALLS)))  # enough rounds for 10% bad
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        bad = write_batch(samples, folder, copies)
        for name in bad[count // 10 :]:  # exactly 10% bad
            path = folder / f"{name}.json"
            path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
        bad = bad[: count // 10]
        _top_up(folder, samples, count - len(list(folder.iterdir())))
        urls = {"sqlite": f"sqlite:///{tmp}/qa.db"} | ({"postgresql": pg} if pg else {})
        for name, url in urls.items():
            with own_schema(url, "bench") as fresh:
                _nightly_on(name, fresh, folder, Path(tmp), len(bad))


def _nightly_on(name: str, url: str, folder: Path, tmp: Path, bad: int) -> None:
    from qa_pipeline.batch.run import run_batch
    from qa_pipeline.judging.judge import load_rules_cached
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import Store

    started = time.perf_counter()
    summary = run_batch(folder, tmp / name, load_rules_cached(), store=Store(connect(url)))
    seconds = time.perf_counter() - started
    rows = [json.loads(line) for line in summary.results_path.open(encoding="utf-8")]
    failed = [r for r in rows if r["status"] == "failed"]
    named = sum(Path(r["source"]).name in (r["error"] or "") for r in failed)
    print(
        f"{name}: {len(list(folder.iterdir()))} inputs ({bad} bad) -> {len(rows)} "
        f"rows, {len(rows) - len(failed)} judged, {len(failed)} failed, {named} failed "
        f"rows naming their file, in {seconds:.1f}s"
    )


def _top_up(folder: Path, samples: Path, count: int) -> None:
    """`count` more good calls (new ids), so the batch has the size asked for."""
    from testing.synthetic import replicate

    extra = replicate(samples, folder / "extra", max(0, count))
    for path in extra.iterdir():
        path.rename(folder / f"x-{path.name}")
    extra.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--understand", action="store_true")
    parser.add_argument("--nightly", type=int, help="also a batch of N calls, 10%% bad")
    parser.add_argument("--pg", help="the nightly batch on this PostgreSQL URL too")
    args = parser.parse_args()
    overhead(args.calls, args.rounds, args.understand)
    if args.nightly:
        nightly(args.nightly, args.pg)


if __name__ == "__main__":
    main()
