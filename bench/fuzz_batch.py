"""The fuzz measurement of issue 15: N mutated call files (testing/fuzz_calls.py, seeded) judged
as one batch into a fresh SQLite database and, with --pg, a fresh PostgreSQL schema; then the
same batch again into the same database. Prints, per database: inputs, rows, batch aborts,
rows that are not strict JSON, failed rows not naming their file, internal errors (a bug caught
per call), calls stopped by the time budget, verdicts added by the rerun, seconds.

    python bench/fuzz_batch.py [--files 3000] [--seed 15] [--pg postgresql+psycopg://...]
                               [--understand]

Without --understand the calls are judged by the rules alone: the fuzz is about the batch, and
the understanding stage encodes every sentence of a 3,000-segment file (minutes of CPU each;
the time budget stops them, which --understand then counts).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.pg_schema import own_schema  # noqa: E402


def _write(folder: Path, files: int, seed: int) -> None:
    from testing.fuzz_calls import mutate

    samples = sorted((ROOT / "samples" / "calls").glob("*.json"))
    goods = [json.loads(p.read_text(encoding="utf-8")) for p in samples]
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for n in range(files):
        call = rng.choice(goods) | {"call_id": f"fz-{n:05d}"}
        (folder / f"fz-{n:05d}.json").write_bytes(mutate(call, rng))


def _strict(line: str) -> dict[str, Any] | None:
    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        row: dict[str, Any] = json.loads(line, parse_constant=refuse)
    except ValueError:
        return None
    return row


def _verdicts(url: str) -> int:
    from sqlalchemy import func, select

    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.tables import VerdictRow

    with connect(url).connect() as connection:
        return int(connection.execute(select(func.count()).select_from(VerdictRow)).scalar_one())


def measure(name: str, url: str, folder: Path, out: Path, understand: bool) -> None:
    from qa_pipeline.batch.run import run_batch
    from qa_pipeline.judging.judge import load_rules_cached
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import Store

    inputs = len(list(folder.iterdir()))
    counts: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        summary = run_batch(
            folder, out, load_rules_cached(), store=Store(connect(url)), understand=understand
        )
    except Exception as exc:  # what must not happen: count it, say what it was
        print(f"{name}: batch aborted: {exc.__class__.__name__}: {exc}")
        return
    seconds = time.perf_counter() - started
    for line in summary.results_path.read_text(encoding="utf-8").splitlines():
        row = _strict(line)
        counts["rows"] += 1
        if row is None:
            counts["not strict JSON"] += 1
            continue
        counts[row["status"]] += 1
        error = row["error"] or ""
        unnamed = bool(error) and Path(row["source"]).name not in error
        counts["failed not naming the file"] += unnamed
        counts["internal errors"] += "internal error" in error
        counts["stopped by the time budget"] += "time budget" in error
    before = _verdicts(url)
    run_batch(folder, out.with_name(out.name + "-again"), load_rules_cached(),
              store=Store(connect(url)), understand=understand)  # fmt: skip
    print(
        f"{name}: {inputs} inputs -> {counts['rows']} rows ({counts['ok']} judged, "
        f"{counts['failed']} failed); 0 batch aborts; not strict JSON {counts['not strict JSON']}; "
        f"failed rows not naming their file {counts['failed not naming the file']}; internal "
        f"errors {counts['internal errors']}; stopped by the time budget "
        f"{counts['stopped by the time budget']}; verdicts added by the rerun "
        f"{_verdicts(url) - before}; {seconds:.1f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--pg", help="also on this PostgreSQL URL (a fresh schema in it)")
    parser.add_argument("--understand", action="store_true", help="with the understanding stage")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "calls"
        _write(folder, args.files, args.seed)
        measure("sqlite", f"sqlite:///{tmp}/qa.db", folder, Path(tmp) / "sqlite", args.understand)
        if args.pg:
            with own_schema(args.pg, "fuzz") as url:
                measure("postgresql", url, folder, Path(tmp) / "postgresql", args.understand)


if __name__ == "__main__":
    main()
