"""One unit of work for callers above storage: the storage functions handed a `Transaction`
commit together or not at all, and callers never see a session or build a query."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Transaction:
    """Rows read through a transaction are locked for its length where the database can."""

    session: Session

    def connection(self) -> Connection:
        return self.session.connection()


Bind = Engine | Transaction  # reads run on their own connection, or inside a transaction


@contextmanager
def transaction(engine: Engine) -> Iterator[Transaction]:
    """Commits when the block ends, rolls back when it raises."""
    with Session(engine) as session, session.begin():
        yield Transaction(session)


@contextmanager
def reading(bind: Bind) -> Iterator[Session]:
    """A session for reads: the transaction's own, or a short one of the engine's."""
    if isinstance(bind, Transaction):
        yield bind.session
        return
    with Session(bind) as session:
        yield session
