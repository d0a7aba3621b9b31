"""review at speed: claims on queued calls, saved queue filters, transcript search (issue 14)

Transcript lines get a trigram index: SQLite FTS5 (`tokenize='trigram'`, SQLite >= 3.34) kept
in step with `transcript_lines` by triggers; PostgreSQL pg_trgm (a GIN index, which LIKE and
ILIKE use). Where neither can be made, search still works by a plain scan (storage/search.py
says which). The lines of every call's latest transcript are filled in here.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-05 03:30:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Kept in step with storage/search.py (the names it looks for).
FTS = "transcript_lines_fts"
TRGM_INDEX = "ix_transcript_lines_trgm"
_SQLITE_FTS = [
    f"CREATE VIRTUAL TABLE {FTS} USING fts5(text, content='transcript_lines', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER transcript_lines_ai AFTER INSERT ON transcript_lines BEGIN "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
    f"CREATE TRIGGER transcript_lines_ad AFTER DELETE ON transcript_lines BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); END",
    f"CREATE TRIGGER transcript_lines_au AFTER UPDATE ON transcript_lines BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, text) VALUES ('delete', old.id, old.text); "
    f"INSERT INTO {FTS}(rowid, text) VALUES (new.id, new.text); END",
]


def upgrade() -> None:
    op.create_table(
        "review_claims",
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.create_index("ix_review_claims_holder", "review_claims", ["holder"])
    op.create_table(
        "saved_filters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "name"),
    )
    op.create_index("ix_saved_filters_user_id", "saved_filters", ["user_id"])
    op.create_table(
        "transcript_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "line_no"),
    )
    bind = op.get_bind()
    _trigram_index(bind)
    _fill(bind)


def _trigram_index(bind: sa.Connection) -> None:
    """The dialect's trigram index, in a savepoint: a database that cannot make one (an old
    SQLite, pg_trgm not installable) keeps the plain scan."""
    savepoint = bind.begin_nested()
    try:
        if bind.dialect.name == "sqlite":
            for statement in _SQLITE_FTS:
                bind.execute(sa.text(statement))
        elif bind.dialect.name == "postgresql":
            # In `public`, not the first schema of the search path: a schema dropped with
            # CASCADE (per-test schemas) must not take the extension, and other schemas'
            # indexes, with it.
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
            schema = bind.scalar(sa.text(
                "select extnamespace::regnamespace::text from pg_extension "
                "where extname = 'pg_trgm'"
            ))  # fmt: skip
            bind.execute(sa.text(
                f"CREATE INDEX {TRGM_INDEX} ON transcript_lines USING gin "
                f"(text {schema}.gin_trgm_ops)"
            ))  # fmt: skip
        savepoint.commit()
    except DBAPIError:
        savepoint.rollback()


def _fill(bind: sa.Connection) -> None:
    """Index each call's latest transcript (speakers as the call file labelled them)."""
    transcripts = sa.table(
        "transcripts", sa.column("id", sa.Integer), sa.column("call_id", sa.String),
        sa.column("segments", sa.JSON),
    )  # fmt: skip
    lines = sa.table(
        "transcript_lines", sa.column("call_id", sa.String), sa.column("line_no", sa.Integer),
        sa.column("start", sa.Float), sa.column("role", sa.String), sa.column("text", sa.Text),
    )  # fmt: skip
    latest = sa.select(sa.func.max(transcripts.c.id)).group_by(transcripts.c.call_id)
    rows = bind.execute(
        sa.select(transcripts.c.call_id, transcripts.c.segments).where(transcripts.c.id.in_(latest))
    )
    values: list[dict[str, Any]] = []
    for call_id, segments in rows:
        if isinstance(segments, str):
            segments = json.loads(segments)
        values += [
            {"call_id": call_id, "line_no": n, "start": float(s.get("start") or 0.0),
             "role": str(s.get("speaker") or "")[:64], "text": str(s.get("text") or "")}
            for n, s in enumerate(segments or ())
        ]  # fmt: skip
    if values:
        bind.execute(sa.insert(lines), values)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("transcript_lines_ai", "transcript_lines_ad", "transcript_lines_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    op.execute(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
    op.drop_table("transcript_lines")
    op.drop_index("ix_saved_filters_user_id", table_name="saved_filters")
    op.drop_table("saved_filters")
    op.drop_index("ix_review_claims_holder", table_name="review_claims")
    op.drop_table("review_claims")
