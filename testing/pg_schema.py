"""A PostgreSQL schema of its own for one test or benchmark run, so runs at the same time on
one database never meet (tests, benches and other engineers' suites share `test`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def own_schema(url: str, prefix: str = "t") -> Iterator[str]:
    """`url` for a fresh schema in its database (dropped afterwards); SQLite URLs as they are."""
    if not url.startswith("postgresql"):
        yield url
        return
    from sqlalchemy import create_engine, text

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"drop schema {schema} cascade"))
        admin.dispose()


# What a run stores, table by table (findings with their call, for a readable diff).
TABLES = {
    "calls": "select * from calls",
    "transcripts": "select * from transcripts",
    "recordings": "select * from recordings",
    "verdicts": "select * from verdicts",
    "findings": "select v.call_id, f.* from findings f join verdicts v on v.id = f.verdict_id",
    "tasks": "select * from tasks",
    "scorecards": "select * from scorecards",
}
# Row ids, and the clock: when a row was written, and the callbacks' due times (from now).
VOLATILE = {"id", "verdict_id", "created_at", "due_at"}


def stored_rows(url: str) -> dict[str, list[str]]:
    """Every stored row, as sorted text, less the columns a second run cannot repeat: two runs
    of the same calls compare equal, and a row stored twice shows."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: sorted(
                    repr(sorted((k, v) for k, v in row.items() if k not in VOLATILE))
                    for row in connection.execute(text(query)).mappings()
                )
                for table, query in TABLES.items()
            }
    finally:
        engine.dispose()
