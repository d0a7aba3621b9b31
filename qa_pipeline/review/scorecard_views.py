"""Scorecard tables and charts as the pages show (and export) them, within a user's scope."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.scorecards.compute import language_ranking, period_of, scorecard
from qa_pipeline.scorecards.export import trend_chart
from qa_pipeline.scorecards.frame import load_frame

HEAD = ("calls", "sales", "valid_sales", "valid_rate")
TAIL = ("forbidden_per_100", "agent_hung_up_first", "script_adherence", "revisits_open")


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


def card_table(engine: Engine, scope_team: str | None, params: dict[str, str]) -> pd.DataFrame:
    """The scorecard table on screen (and in its export): one row per key and period."""
    card = _full(engine, scope_team, params)
    level = params["level"]
    if params.get("key"):
        card = card[card[level].astype(str) == params["key"]]
    return card[[level, "period", *_shown(card)]].reset_index(drop=True)


def chart_png(engine: Engine, scope_team: str | None, params: dict[str, str]) -> bytes | None:
    """The trend of the chosen key (else the first) as PNG; None with nothing to chart."""
    card = _full(engine, scope_team, params)
    if card.empty:
        return None
    level = params["level"]
    keys = [str(k) for k in card[level].unique()]
    key = params["key"] if params.get("key") in keys else keys[0]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "trend.png"
        trend_chart(card.assign(**{level: card[level].astype(str)}), level, key, path)
        return path.read_bytes()


def ranking_table(
    engine: Engine, scope_team: str | None, month: str, min_calls: int
) -> tuple[pd.DataFrame, str]:
    """The month's service-language ranking (best first), default the latest month."""
    frame = scoped_frame(engine, scope_team)
    if frame.empty:
        return pd.DataFrame(columns=["rank", "agent_id", "calls", "forbidden_per_100"]), month
    month = month or str(period_of(frame["local_date"], "month").max())
    ranked = language_ranking(frame, month, min_calls)
    return ranked[["rank", "agent_id", "calls", "forbidden_per_100"]], month
