"""Scorecards in the database: the judged calls they are computed from, and rebuilds.

A rebuild is one transaction that first takes the scorecard lock, then reads the calls and
writes its rows in the unique key's order: rebuilds cannot interleave (so they cannot deadlock on
each other's rows), the later one reads what the earlier one's run stored (so it never
overwrites newer numbers with a stale frame), and any other writer of these rows meets them in
the same order. What the rows hold is computed by the caller (`compute`), outside storage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, select

from qa_pipeline.storage.cases import yellow_cards
from qa_pipeline.storage.locks import SCORECARDS, hold_for_transaction
from qa_pipeline.storage.tables import CallRow, ReviewItemRow, ScorecardRow, TaskRow, VerdictRow
from qa_pipeline.storage.upsert import insert_for
from qa_pipeline.verdict.facts import VerdictFacts
from qa_pipeline.verdict.final import FinalVerdict
from qa_pipeline.verdict.serialize import facts_from_row

KEY = ("level", "key", "period", "period_start")  # the table's unique key


@dataclass(frozen=True, slots=True)
class ScoredCall:
    """A judged call as scorecards count it: its latest verdict, with a review's final verdict
    when that verdict was reviewed, and its revisit task's status."""

    facts: VerdictFacts
    local_date: str
    final: FinalVerdict | None
    revisit: Literal["open", "closed"] | None
    yellow_cards: int = 0  # the agent's yellow card for this call (storage/cases.py)


@dataclass(frozen=True, slots=True)
class ScorecardRecord:
    level: str
    key: str
    period: str
    period_start: str
    metrics: Mapping[str, Any]


Compute = Callable[[Sequence[ScoredCall], Collection[str]], Iterator[ScorecardRecord]]


def scored_calls(bind: Engine | Connection) -> list[ScoredCall]:
    """Every judged call with its latest verdict. Verdicts are streamed and reduced to their
    facts at once, newest per call winning: memory grows with the number of calls, not with the
    size of their results. Given a connection, it reads in that connection's transaction."""
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return _scored_calls(connection)
    return _scored_calls(bind)


def _scored_calls(connection: Connection) -> list[ScoredCall]:
    latest: dict[str, tuple[tuple[Any, int], VerdictFacts]] = {}
    days = connection.execute(select(CallRow.call_id, CallRow.local_date))
    dates = {call_id: day for call_id, day in days}
    query = select(
        VerdictRow.call_id, VerdictRow.created_at, VerdictRow.id, VerdictRow.result
    ).where(VerdictRow.status == "ok")
    # Options on the statement, not the connection: they would stick to a caller's connection.
    streamed = connection.execute(query.execution_options(stream_results=True, yield_per=500))
    for call_id, created, verdict_id, result in streamed:
        key = (created, verdict_id)
        if call_id not in latest or key > latest[call_id][0]:
            latest[call_id] = (key, facts_from_row(result))
    # A review's final verdict counts for the verdict it reviewed, not a later rejudging.
    finals = {
        (verdict_id, call_id): FinalVerdict.from_dict(final)
        for call_id, verdict_id, final in connection.execute(
            select(ReviewItemRow.call_id, ReviewItemRow.verdict_id, ReviewItemRow.final)
        )
        if final
    }
    revisits = {
        cid: status
        for cid, status in connection.execute(
            select(TaskRow.call_id, TaskRow.status).where(TaskRow.kind == "revisit")
        )
    }
    cards = yellow_cards(connection)
    return [
        ScoredCall(
            facts,
            dates.get(call_id, ""),
            finals.get((key[1], call_id)),
            revisits.get(call_id),  # type: ignore[arg-type]
            cards.get(call_id, 0),
        )
        for call_id, (key, facts) in latest.items()
    ]


def _values(record: ScorecardRecord) -> dict[str, Any]:
    return {"level": record.level, "key": record.key, "period": record.period,
            "period_start": record.period_start, "metrics": dict(record.metrics)}  # fmt: skip


def rebuild_scorecards(engine: Engine, dates: Collection[str], compute: Compute) -> int:
    """Recompute and upsert every scorecard whose period contains one of `dates`, from the
    calls stored when the scorecard lock is granted."""
    if not dates:
        return 0
    with engine.begin() as connection:
        hold_for_transaction(connection, SCORECARDS)
        records = sorted(
            compute(_scored_calls(connection), dates), key=lambda r: [getattr(r, k) for k in KEY]
        )
        if records:
            statement = insert_for(connection, ScorecardRow)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=list(KEY), set_={"metrics": statement.excluded.metrics}
                ),
                [_values(r) for r in records],
            )
    return len(records)
