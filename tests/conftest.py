"""Shared fixtures: the bundled rule set (loaded once) and a builder for small test calls."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from qa_pipeline.ruleset import Ruleset, load_ruleset
from qa_pipeline.transcript.model import Call, Segment
from qa_pipeline.verdict.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SHARED_DEV_CALLS = ROOT.parent / "shared" / "dev-calls"
ZONES = {"zh": "+08:00", "en": "-05:00"}


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_ruleset(ROOT / "rules")


@pytest.fixture(scope="session")
def engine(ruleset: Ruleset) -> Engine:
    return Engine(ruleset)


def changed_rules(folder: Path) -> Ruleset:
    """The bundled rules copied to `folder` with a comment added: a new rules version that
    judges exactly as before (what re-judging tests need)."""
    shutil.copytree(ROOT / "rules", folder)
    with (folder / "criteria.yaml").open("a", encoding="utf-8") as criteria:
        criteria.write("\n# changed\n")
    return load_ruleset(folder)


def make_call(
    turns: Sequence[Sequence[str]],
    *,
    campaign: str,
    language: str,
    started_at: str | None = None,
    hangup_by: str | None = None,
    call_id: str = "test-call",
) -> Call:
    """A call from [speaker, text] pairs, timed at a realistic pace (zh 4.5 chars/s, en 2.5
    words/s, 0.5 s between turns); the recording ends 0.5 s after the last word."""
    segments = []
    clock = 0.3
    for speaker, text in turns:
        length = len(text) / 4.5 if language == "zh" else len(text.split()) / 2.5
        end = clock + max(length, 0.6)
        segments.append(Segment(round(clock, 2), round(end, 2), speaker, text))  # type: ignore[arg-type]
        clock = end + 0.5
    start = datetime.fromisoformat(started_at or f"2026-11-02T10:00:00{ZONES[language]}")
    return Call(
        call_id=call_id,
        campaign=campaign,
        language=language,
        agent_id="T001",
        team="T",
        customer_number="13800000000",
        started_at=start,
        duration_s=round(clock, 2),
        hangup_by=hangup_by,  # type: ignore[arg-type]
        segments=tuple(segments),
    )


PG_URL = os.environ.get("QA_PIPELINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        with create_engine(PG_URL).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any driver or network failure means "not here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, or a Postgres schema of its own.
    Without PostgreSQL the Postgres cases skip, except in CI (CI=true), where they fail."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qa.db'}"
        return
    problem = _postgres_reachable()
    if problem:
        message = f"PostgreSQL not reachable at {PG_URL}: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f"create schema {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()
