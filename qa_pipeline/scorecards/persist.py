"""Scorecards kept in the database, rebuilt for the periods a run touched."""

from __future__ import annotations

import json
from collections.abc import Collection

import pandas as pd
from sqlalchemy import Engine

from qa_pipeline.scorecards.compute import Level, PeriodKind, period_of, scorecard
from qa_pipeline.storage.models import ScorecardRow
from qa_pipeline.storage.upsert import insert_for

LEVELS: tuple[Level, ...] = ("agent", "team", "center")
PERIODS: tuple[PeriodKind, ...] = ("day", "week", "month")


def rebuild(engine: Engine, frame: pd.DataFrame, dates: Collection[str]) -> int:
    """Recompute and upsert every scorecard whose period contains one of `dates`."""
    if not dates:
        return 0
    touched = pd.Series(sorted(dates))
    written = 0
    with engine.begin() as connection:
        for period in PERIODS:
            periods = set(period_of(touched, period))
            for level in LEVELS:
                card = scorecard(frame, level, period)
                rows = card[card["period"].isin(periods)]
                # NaN (a rate with nothing to divide by) is not JSON: store null
                rows = rows.astype(object).where(rows.notna(), None)
                for record in rows.to_dict("records"):
                    metrics = json.loads(json.dumps(record, default=float))
                    values = {
                        "level": level, "key": str(record[level]), "period": period,
                        "period_start": record["period"], "metrics": metrics,
                    }  # fmt: skip
                    statement = insert_for(connection, ScorecardRow).values(values)
                    connection.execute(
                        statement.on_conflict_do_update(
                            index_elements=["level", "key", "period", "period_start"],
                            set_={"metrics": statement.excluded.metrics},
                        )
                    )
                    written += 1
    return written
