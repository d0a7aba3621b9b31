"""Inserts that tolerate what is already there, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from qa_pipeline.storage.tables import Base


def insert_for(connection: Connection, model: type[Base]) -> Any:
    """An INSERT that supports ON CONFLICT on the connection's database."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def insert_ignore(
    connection: Connection, model: type[Base], values: dict[str, Any], keys: list[str]
) -> Any:
    """INSERT ... ON CONFLICT (keys) DO NOTHING."""
    return insert_for(connection, model).values(values).on_conflict_do_nothing(index_elements=keys)
