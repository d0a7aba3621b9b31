"""One unit of work for callers above storage: the storage functions handed a `Transaction`
commit together or not at all, and callers never see a session or build a query."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.orm import Session

Row = TypeVar("Row")
Result = TypeVar("Result")


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


def one_row(bind: Bind, query: Select[Row], make: Callable[[Row], Result]) -> Result | None:
    """The query's one row made into a result, or None; inside a transaction the row is
    locked for its length (a read before a write that depends on it)."""
    if isinstance(bind, Transaction):
        query = query.with_for_update()
    with reading(bind) as session:
        row = session.scalar(query)
        return make(row) if row is not None else None
