"""Scorecards kept in the database, rebuilt for the periods a run touched (storage takes the
lock and writes; this module computes the rows)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence

import pandas as pd

from qa_pipeline.scorecards.compute import Level, PeriodKind, period_of, scorecard
from qa_pipeline.scorecards.frame import frame_of
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.scorecards import ScorecardRecord, ScoredCall, rebuild_scorecards

LEVELS: tuple[Level, ...] = ("agent", "team", "center")
PERIODS: tuple[PeriodKind, ...] = ("day", "week", "month")


def scorecard_rows(frame: pd.DataFrame, dates: Collection[str]) -> Iterator[ScorecardRecord]:
    """Every scorecard row whose period contains one of `dates`."""
    touched = pd.Series(sorted(dates))
    for period in PERIODS:
        periods = set(period_of(touched, period))
        for level in LEVELS:
            card = scorecard(frame, level, period)
            rows = card[card["period"].isin(periods)]
            # NaN (a rate with nothing to divide by) is not JSON: store null
            rows = rows.astype(object).where(rows.notna(), None)
            for record in rows.to_dict("records"):
                metrics = json.loads(json.dumps(record, default=float))
                yield ScorecardRecord(level, str(record[level]), period, record["period"], metrics)


def _compute(calls: Sequence[ScoredCall], dates: Collection[str]) -> Iterator[ScorecardRecord]:
    return scorecard_rows(frame_of(calls), dates)


def rebuild(engine: Engine, dates: Collection[str]) -> int:
    """Recompute and upsert every scorecard whose period contains one of `dates`, from the
    calls stored when the scorecard lock is granted."""
    return rebuild_scorecards(engine, dates, _compute)
