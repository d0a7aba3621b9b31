"""Database location and schema. `--db URL` anywhere; by default a SQLite file in the data
directory (QA_PIPELINE_DATA_DIR, else ./data), so `make demo` needs nothing else."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from qa_pipeline.errors import DatabaseError, MissingExtraError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

__all__ = ["Engine", "connect", "data_dir", "default_url", "migrate"]  # Engine: callers' handle


def data_dir() -> Path:
    return Path(os.environ.get("QA_PIPELINE_DATA_DIR", "data"))


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'qa-pipeline.db'}"


def _sqlite_pragmas(dbapi_connection: object, record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets a reader and a writer work at once; the busy timeout makes concurrent runs wait
    # for the lock instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def connect(url: str | None = None) -> Engine:
    """An engine at `url` with the schema migrated to the latest version; a URL that cannot be
    parsed or a database that cannot be opened is a DatabaseError naming it."""
    url = url or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(url, "not a database URL (e.g. sqlite:///data/qa.db or "
                            "postgresql+psycopg://user@host/db)") from None  # fmt: skip
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername.startswith("sqlite") and parsed.database:
        try:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(shown, f"cannot create its folder: {exc.strerror}") from None
    try:
        if parsed.get_driver_name() == "psycopg":
            MissingExtraError.check("psycopg", "postgres", "PostgreSQL (postgresql+psycopg://)")
        engine = create_engine(url, future=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseError(
            shown, f"not a database this build can open ({exc}); use sqlite:/// or "
            "postgresql+psycopg://"
        ) from None  # fmt: skip
    if parsed.drivername.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        migrate(engine)
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split())
        raise DatabaseError(shown, f"cannot open it: {reason}") from None
    return engine


_LOCK = threading.Lock()
_MIGRATED: set[str] = set()
_PG_MIGRATION_LOCK = 7_274_727  # advisory lock id: one migrator at a time across processes


def migrate(engine: Engine) -> None:
    """Upgrade the schema to head, once per process and URL, safe against concurrent runs."""
    key = engine.url.render_as_string(hide_password=False)
    with _LOCK:
        if key in _MIGRATED:
            return
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        for attempt in range(3):
            try:
                with engine.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        connection.execute(
                            text(f"select pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                        )
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                break
            except OperationalError as exc:
                # SQLite: another process created the tables first; its version row is
                # committed by now, so the next upgrade finds nothing to do.
                if "already exists" not in str(exc) or attempt == 2:
                    raise
                time.sleep(0.2)
        _MIGRATED.add(key)
