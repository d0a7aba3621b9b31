"""How fast transcript search answers, with the trigram index and without: the sample calls'
lines replicated into N calls (one rare phrase planted once), each query timed through
`search_lines` (the search page's query: scope join, newest first, 200 at most), then again with
the index dropped (the plain LIKE / ILIKE scan that migration 0010 falls back to).

    python bench/search_speed.py [--calls 5000] [--db URL]   (default: a temporary SQLite file)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from qa_pipeline.storage.db import connect  # noqa: E402
from qa_pipeline.storage.search import FTS, TRGM_INDEX, search_lines, search_mode  # noqa: E402
from qa_pipeline.storage.tables import CallRow, TranscriptLineRow  # noqa: E402
from testing.pg_schema import own_schema  # noqa: E402

QUERIES = ("退订", "就能退订", "cancel anytime", "核查编号九九七")
RARE = "这是核查编号九九七的那一行"
STARTED = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def _lines() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "samples" / "calls").glob("*.json")):
        call = json.loads(path.read_text(encoding="utf-8"))
        found += [(s["speaker"], s["text"]) for s in call["segments"]]
    return found


def _fill(url: str, calls: int) -> None:
    engine = connect(url)
    lines = _lines()
    per_call = 20
    with engine.begin() as connection:
        connection.execute(insert(CallRow), [
            {"call_id": f"b-{n:06d}", "campaign": "c", "language": "zh", "agent_id": "A1",
             "team": "T1", "customer_number": "13800000000",
             "started_at": STARTED, "started_local": "2026-11-01T10:00:00",
             "local_date": f"2026-11-{1 + n % 28:02d}", "duration_s": 60.0, "hangup_by": None}
            for n in range(calls)
        ])  # fmt: skip
        rows = []
        for n in range(calls):
            for i in range(per_call):
                role, said = lines[(n * per_call + i) % len(lines)]
                if n == calls // 2 and i == 3:
                    said = RARE
                rows.append({"call_id": f"b-{n:06d}", "line_no": i, "start": float(i * 3),
                             "role": role, "text": said})  # fmt: skip
        for at in range(0, len(rows), 20_000):
            connection.execute(insert(TranscriptLineRow), rows[at : at + 20_000])
    with engine.begin() as connection:  # planner statistics, as a live database keeps them
        connection.execute(text("analyze"))
    engine.dispose()


def _time(url: str, label: str) -> None:
    engine = connect(url)
    mode = search_mode(engine)
    for query in QUERIES:
        search_lines(engine, query, None)  # warm the cache
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            hits = search_lines(engine, query, "T1")
            runs.append(time.perf_counter() - start)
        print(f"| {label} | {mode} | {query} | {len(hits)} | {1000 * min(runs):.1f} |")
    engine.dispose()


def _drop_index(url: str) -> None:
    engine = connect(url)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            for trigger in ("ai", "ad", "au"):
                connection.execute(text(f"drop trigger transcript_lines_{trigger}"))
            connection.execute(text(f"drop table {FTS}"))
        else:
            connection.execute(text(f"drop index {TRGM_INDEX}"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (a schema of its own)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        own_schema(args.db or f"sqlite:///{tmp}/search.db", prefix="bench") as url,
    ):
        start = time.perf_counter()
        _fill(url, args.calls)
        print(f"{args.calls} calls, {args.calls * 20} lines indexed in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        print("| database | mode | query | hits | best of 5 (ms) |")
        print("| --- | --- | --- | --- | --- |")
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        _time(url, kind)
        _drop_index(url)
        _time(url, kind)


if __name__ == "__main__":
    main()
