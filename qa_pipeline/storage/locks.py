"""Writers that must not interleave take a lock for the length of their transaction, on
SQLite and PostgreSQL alike; the lock ends with the transaction, so a killed process holds none.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SCORECARDS = 7_274_728  # advisory lock id of scorecard rebuilds (migrations use 7_274_727)


def hold_for_transaction(connection: Connection, lock_id: int) -> None:
    """Wait for `lock_id`, then hold it until this transaction commits or rolls back.

    PostgreSQL: a transaction-scoped advisory lock, so only writers that ask for it wait.
    SQLite: the database's write lock (BEGIN IMMEDIATE, waiting up to the busy timeout), which
    must therefore be the transaction's first statement; SQLite has one writer anyway.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("select pg_advisory_xact_lock(:id)"), {"id": lock_id})
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
