"""Scorecard arithmetic: grouped counts and rates, per level and period."""

from __future__ import annotations

from typing import Literal

import pandas as pd

from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.scorecards.frame import criteria_of

Level = Literal["agent", "team", "center"]
PeriodKind = Literal["day", "week", "month"]
KEYS: dict[str, str] = {"agent": "agent_id", "team": "team"}


def period_of(dates: pd.Series, period: PeriodKind) -> pd.Series:
    """2026-11-20 -> 2026-11-20 (day), 2026-W47 (ISO week), 2026-11 (month)."""
    days = pd.to_datetime(dates)
    if period == "day":
        return days.dt.strftime("%Y-%m-%d")
    if period == "week":
        iso = days.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    return days.dt.strftime("%Y-%m")


def _rate(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).round(4)


def scorecard(frame: pd.DataFrame, level: Level, period: PeriodKind) -> pd.DataFrame:
    """One row per (key, period): volumes, validity, criteria pass rates over sales,
    forbidden phrases per 100 calls by category, hang-ups, adherence, revisits."""
    criteria = criteria_of(frame)
    data = frame.assign(
        key=frame[KEYS[level]] if level in KEYS else "center",
        period=period_of(frame["local_date"], period),
        pitch=frame["outcome"].isin(["sale", "declined"]),
        sale=frame["outcome"].eq("sale"),
        valid=frame["valid_sale"].eq(True),
        **{f"{c}_pass": frame[c].eq(True) & frame["outcome"].eq("sale") for c in criteria},
    )
    grouped = data.groupby(["key", "period"], sort=True)
    out = grouped.agg(
        calls=("call_id", "count"),
        pitches=("pitch", "sum"),
        sales=("sale", "sum"),
        valid_sales=("valid", "sum"),
        agent_hung_up_first=("agent_hung_up_first", "sum"),
        script_adherence=("script_adherence", "mean"),
        revisits_open=("revisits_open", "sum"),
        revisits_closed=("revisits_closed", "sum"),
        yellow_cards=("yellow_cards", "sum"),
        **{f"{c}_passed": (f"{c}_pass", "sum") for c in criteria},
        **{f"forbidden_{c}": (f"forbidden_{c}", "sum") for c in CATEGORIES},
    )
    out["valid_rate"] = _rate(out["valid_sales"], out["sales"])
    out["invalid_rate"] = _rate(out["sales"] - out["valid_sales"], out["sales"])
    for c in criteria:
        out[f"{c}_pass_rate"] = _rate(out.pop(f"{c}_passed"), out["sales"])
    for c in CATEGORIES:
        out[f"forbidden_{c}_per_100"] = (out.pop(f"forbidden_{c}") * 100 / out["calls"]).round(2)
    out["script_adherence"] = out["script_adherence"].round(3)
    return out.reset_index().rename(columns={"key": level})


def rows_where(frame: pd.DataFrame, **equal: str | None) -> pd.DataFrame:
    """The rows whose columns hold the values given; a value of None, or a column the frame
    does not have, sets no condition."""
    for column, value in equal.items():
        if value and column in frame:
            frame = frame[frame[column] == value]
    return frame


def language_ranking(frame: pd.DataFrame, month: str, min_calls: int) -> pd.DataFrame:
    """Agents of one month by forbidden phrases per 100 calls, fewest first (best at the top,
    worst at the bottom), among agents with at least `min_calls` calls; with their yellow
    cards of the month (a tie goes to the agent with fewer)."""
    month_rows = frame[period_of(frame["local_date"], "month") == month]
    counts = month_rows.assign(
        forbidden=month_rows[[f"forbidden_{c}" for c in CATEGORIES]].sum(axis=1)
    )
    per_agent = counts.groupby("agent_id").agg(
        calls=("call_id", "count"), forbidden=("forbidden", "sum"),
        yellow_cards=("yellow_cards", "sum"),
    )  # fmt: skip
    per_agent = per_agent[per_agent["calls"] >= min_calls]
    per_agent["forbidden_per_100"] = (per_agent["forbidden"] * 100 / per_agent["calls"]).round(2)
    ranked = per_agent.sort_values(
        ["forbidden_per_100", "yellow_cards", "calls"], ascending=[True, True, False]
    )
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    return ranked.reset_index()
