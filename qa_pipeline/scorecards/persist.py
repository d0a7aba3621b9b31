"""Scorecards kept in the database, rebuilt for the periods a run touched.

Two runs (or a run and a review) may rebuild the same scorecards at once. A rebuild is
therefore one transaction that first takes the scorecard lock, then reads the calls and writes
its rows in the unique key's order: rebuilds cannot interleave (so they cannot deadlock on each
other's rows), the later one reads what the earlier one's run stored (so it never overwrites
newer numbers with a stale frame), and any other writer of these rows meets them in the same
order.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from qa_pipeline.scorecards.compute import Level, PeriodKind, period_of, scorecard
from qa_pipeline.scorecards.frame import load_frame
from qa_pipeline.storage.locks import SCORECARDS, hold_for_transaction
from qa_pipeline.storage.tables import ScorecardRow
from qa_pipeline.storage.upsert import insert_for

LEVELS: tuple[Level, ...] = ("agent", "team", "center")
PERIODS: tuple[PeriodKind, ...] = ("day", "week", "month")
KEY = ("level", "key", "period", "period_start")  # the table's unique key


def scorecard_rows(frame: pd.DataFrame, dates: Collection[str]) -> Iterator[dict[str, Any]]:
    """Every scorecard row whose period contains one of `dates`, as table values."""
    touched = pd.Series(sorted(dates))
    for period in PERIODS:
        periods = set(period_of(touched, period))
        for level in LEVELS:
            card = scorecard(frame, level, period)
            rows = card[card["period"].isin(periods)]
            # NaN (a rate with nothing to divide by) is not JSON: store null
            rows = rows.astype(object).where(rows.notna(), None)
            for record in rows.to_dict("records"):
                yield {
                    "level": level, "key": str(record[level]), "period": period,
                    "period_start": record["period"],
                    "metrics": json.loads(json.dumps(record, default=float)),
                }  # fmt: skip


def rebuild(engine: Engine, dates: Collection[str]) -> int:
    """Recompute and upsert every scorecard whose period contains one of `dates`, from the
    calls stored when the scorecard lock is granted."""
    if not dates:
        return 0
    with engine.begin() as connection:
        hold_for_transaction(connection, SCORECARDS)
        rows = sorted(
            scorecard_rows(load_frame(connection), dates), key=lambda r: [r[k] for k in KEY]
        )
        if rows:
            statement = insert_for(connection, ScorecardRow)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=list(KEY), set_={"metrics": statement.excluded.metrics}
                ),
                rows,
            )
    return len(rows)
