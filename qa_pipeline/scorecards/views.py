"""Scorecard tables and charts as the workbench pages show (and export) them, within a user's
scope. Pages get a `Table` of plain values, never a DataFrame."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd

from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.scorecards.compute import language_ranking, period_of, scorecard
from qa_pipeline.scorecards.export import chart_png, frame_file
from qa_pipeline.scorecards.frame import load_frame
from qa_pipeline.storage.db import Engine

HEAD = ("calls", "sales", "valid_sales", "valid_rate")
TAIL = (
    "forbidden_per_100", "agent_hung_up_first", "script_adherence", "revisits_open",
    "yellow_cards",
)  # fmt: skip
RANKING = ("rank", "agent_id", "calls", "forbidden_per_100", "yellow_cards")
CARD_FORMATS = {  # export format: media type
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Value = str | int | float | bool | None  # None: nothing to show (a rate over no sales)


@dataclass(frozen=True)
class Table:
    """Rows of plain values under named columns, in the frame's order."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Value, ...], ...]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Table:
        plain = frame.astype(object).where(frame.notna(), None)
        return cls(tuple(frame.columns), tuple(plain.itertuples(index=False, name=None)))


def _shown(card: pd.DataFrame) -> list[str]:
    """The columns on screen: volumes, each criterion's pass rate, language, hang-ups."""
    rates = [c for c in card.columns if c.endswith("_pass_rate")]
    return [*HEAD, *rates, *TAIL]


def scoped_frame(engine: Engine, scope_team: str | None) -> pd.DataFrame:
    frame = load_frame(engine)
    return frame[frame["team"] == scope_team] if scope_team else frame


def _full(engine: Engine, scope_team: str | None, params: dict[str, str]) -> pd.DataFrame:
    frame = scoped_frame(engine, scope_team)
    if frame.empty:
        return pd.DataFrame(columns=[params["level"], "period", *HEAD, *TAIL])
    card = scorecard(frame, params["level"], params["period"])  # type: ignore[arg-type]
    card["forbidden_per_100"] = card[[f"forbidden_{c}_per_100" for c in CATEGORIES]].sum(axis=1)
    return card


def _card(engine: Engine, scope_team: str | None, params: dict[str, str]) -> pd.DataFrame:
    card = _full(engine, scope_team, params)
    level = params["level"]
    if params.get("key"):
        card = card[card[level].astype(str) == params["key"]]
    return card[[level, "period", *_shown(card)]].reset_index(drop=True)


def card_keys(engine: Engine, scope_team: str | None, params: dict[str, str]) -> tuple[str, ...]:
    """Every agent, team (or the center) of the level within scope: the chart picker's."""
    card = _full(engine, scope_team, params)
    return tuple(sorted({str(k) for k in card[params["level"]].dropna()}))


def card_table(engine: Engine, scope_team: str | None, params: dict[str, str]) -> Table:
    """The scorecard table on screen: one row per key and period."""
    return Table.of(_card(engine, scope_team, params))


def card_file(
    engine: Engine,
    scope_team: str | None,
    params: dict[str, str],
    fmt: str,
    headers: Callable[[str], str] | None = None,
) -> bytes:
    """The table on screen as a file in one of CARD_FORMATS: xlsx styled, its headers named by
    `headers` (the page's, in the reader's language); csv with the columns' ids, for programs."""
    card = _card(engine, scope_team, params)
    names = {str(c): headers(str(c)) for c in card.columns} if headers else None
    return frame_file(card, fmt, names)


def card_chart(
    engine: Engine,
    scope_team: str | None,
    params: dict[str, str],
    words: Mapping[str, str] | None = None,
) -> bytes | None:
    """The trend of the chosen key (else the first) as PNG, labelled in `words` (see
    CHART_WORDS); None with nothing to chart."""
    card = _full(engine, scope_team, params)
    if card.empty:
        return None
    level = params["level"]
    keys = [str(k) for k in card[level].unique()]
    key = params["key"] if params.get("key") in keys else keys[0]
    return chart_png(card.assign(**{level: card[level].astype(str)}), level, key, words)


def ranking_table(
    engine: Engine, scope_team: str | None, month: str, min_calls: int
) -> tuple[Table, str]:
    """The month's service-language ranking (best first), default the latest month, with that
    month."""
    frame = scoped_frame(engine, scope_team)
    if frame.empty:
        return Table(RANKING, ()), month
    month = month or str(period_of(frame["local_date"], "month").max())
    return Table.of(language_ranking(frame, month, min_calls)[list(RANKING)]), month


def valid_rate_trend(engine: Engine, scope_team: str | None, days: int = 14) -> Table:
    """The center's (or the scope team's) valid rate per day over the last `days` days with
    calls: day, calls, sales, valid sales, valid rate."""
    frame = scoped_frame(engine, scope_team)
    columns = ("period", "calls", "sales", "valid_sales", "valid_rate")
    if frame.empty:
        return Table(columns, ())
    card = scorecard(frame, "center", "day").sort_values("period").tail(days)
    return Table.of(card[list(columns)].reset_index(drop=True))
