"""Full-text search over transcript lines, for Chinese as for English: a trigram index
(SQLite FTS5 `trigram`, PostgreSQL pg_trgm) matches any substring of three characters or more.
A shorter query (two-character Chinese words are common: 退订) cannot use trigrams and is a
plain LIKE scan; so is every query where migration 0010 could not make the index. The query
is always a bound parameter: FTS syntax, quotes and LIKE wildcards match as themselves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    column,
    delete,
    insert,
    select,
    table,
    text,
)

from qa_pipeline.storage.tables import CallRow, TranscriptLineRow

FTS = "transcript_lines_fts"  # migration 0010's names
TRGM_INDEX = "ix_transcript_lines_trgm"
TRIGRAM = 3  # the shortest query a trigram index can answer
ROLE = 64  # transcript_lines.role


@dataclass(frozen=True, slots=True)
class SearchHit:
    call_id: str
    line_no: int
    start: float
    role: str
    text: str
    team: str
    agent_id: str
    local_date: str


def index_transcript(
    connection: Connection,
    call_id: str,
    segments: Sequence[Mapping[str, Any]],
    roles: Mapping[str, str],
) -> None:
    """Make `segments` the call's searchable lines (its latest transcript), speakers named by
    `roles` where the verdict mapped them; in the caller's transaction."""
    connection.execute(delete(TranscriptLineRow).where(TranscriptLineRow.call_id == call_id))
    values = [
        {"call_id": call_id, "line_no": n, "start": float(s["start"]),
         "role": roles.get(str(s["speaker"]), str(s["speaker"]))[:ROLE], "text": str(s["text"])}
        for n, s in enumerate(segments)
    ]  # fmt: skip
    if values:
        connection.execute(insert(TranscriptLineRow), values)


def search_mode(engine: Engine) -> str:
    """How this database searches: `fts5` (SQLite trigram), `pg_trgm`, or `scan` (no index
    could be made: LIKE / ILIKE over every line, correct but slower)."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            found = connection.scalar(
                text("select 1 from sqlite_master where type = 'table' and name = :name"),
                {"name": FTS},
            )
            return "fts5" if found else "scan"
        found = connection.scalar(
            text("select 1 from pg_indexes where indexname = :name and schemaname = "
                 "current_schema()"), {"name": TRGM_INDEX},
        )  # fmt: skip
        return "pg_trgm" if found else "scan"


def _like(query: str) -> str:
    """`%query%` with LIKE's own characters escaped (the escape character is a backslash)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_lines(
    engine: Engine,
    query: str,
    scope_team: str | None,
    limit: int = 200,
    scope_agent: str | None = None,
    mode: str | None = None,
) -> list[SearchHit]:
    """Lines holding `query` (case-insensitive), newest calls first, within a scope team and
    a scope agent (an agent user: their own calls) if given; at most `limit`. `mode`: the
    database's `search_mode`, when the caller has it already."""
    line = TranscriptLineRow
    statement = select(
        line.call_id, line.line_no, line.start, line.role, line.text, CallRow.team,
        CallRow.agent_id, CallRow.local_date,
    )  # fmt: skip
    if len(query) >= TRIGRAM and (mode or search_mode(engine)) == "fts5":
        # One FTS5 string: inside double quotes every character is literal ("" is a quote).
        # The index leads the join, so SQLite reads only the matching lines (led by the
        # calls of a team, it would probe every line of the team's calls).
        phrase = '"' + query.replace('"', '""') + '"'
        index = table(FTS, column("rowid"))
        statement = (
            statement.select_from(index)
            .join(line, line.id == index.c.rowid)
            .where(text(f"{FTS} MATCH :phrase").bindparams(phrase=phrase))
        )
    else:  # PostgreSQL's trigram index answers ILIKE itself; short queries scan
        statement = statement.where(line.text.ilike(_like(query), escape="\\"))
    statement = statement.join(CallRow, CallRow.call_id == line.call_id)
    if scope_team is not None:
        statement = statement.where(CallRow.team == scope_team)
    if scope_agent is not None:
        statement = statement.where(CallRow.agent_id == scope_agent)
    statement = statement.order_by(
        CallRow.local_date.desc(), TranscriptLineRow.call_id, TranscriptLineRow.line_no
    ).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [
        SearchHit(r.call_id, r.line_no, r.start, r.role, r.text, r.team, r.agent_id,
                  r.local_date)
        for r in rows
    ]  # fmt: skip


def outside_search_index(name: str | None, type_: str, parent: object) -> bool:
    """Alembic's `include_name`: False for the trigram index's own objects (the FTS5 table and
    its shadow tables, the pg_trgm index), which migration 0010 makes outside the models."""
    return not (name and (name.startswith(FTS) or name == TRGM_INDEX))
