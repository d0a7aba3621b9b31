"""The weekly report: dials and connect rate from call-detail records, validity from verdicts,
complaints from a complaints file (number, date, reason) attributed to the team that last
called that number."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from qa_pipeline.errors import InputDirError
from qa_pipeline.scorecards.compute import period_of

CDR_COLUMNS = ("call_id", "team", "started_at", "duration_s")
COMPLAINT_COLUMNS = ("number", "date", "reason")


def read_csv(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, dtype=str)
    except (OSError, ValueError) as exc:
        raise InputDirError(str(path), f"cannot read as CSV: {exc}") from exc
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputDirError(str(path), f"missing columns {missing}; has {list(table.columns)}")
    return table


def weekly_report(
    frame: pd.DataFrame, week: str, cdr: pd.DataFrame | None, complaints: pd.DataFrame | None
) -> pd.DataFrame:
    """One row per team and a `center` row. Dials, connected calls and the connect rate come
    from call-detail records only: without them they are "unknown" (judged calls are only the
    answered ones, so they say nothing about dials). A week without calls is a row of zeros."""
    judged = frame[_in_week(frame["local_date"], week)]
    teams = judged["team"]
    columns: dict[str, pd.Series] = {
        "calls": judged.groupby(teams)["call_id"].count(),
        "sales": judged["outcome"].eq("sale").groupby(teams).sum(),
        "valid_sales": judged["valid_sale"].eq(True).groupby(teams).sum(),
    }
    if cdr is not None:
        dials = cdr[_in_week(cdr["started_at"].str.slice(0, 10), week)]
        answered = pd.to_numeric(dials["duration_s"], errors="coerce").fillna(0) > 0
        columns["dials"] = dials.groupby("team").size()
        columns["connected"] = answered.groupby(dials["team"]).sum()
    columns["complaints"] = _complaints_by_team(frame, week, complaints)
    per_team = pd.concat(
        [c.astype("int64").rename(name) for name, c in columns.items()], axis=1
    ).fillna(0).astype("int64")  # fmt: skip
    per_team.index = per_team.index.astype(str)
    out = pd.concat([per_team, per_team.sum().to_frame("center").T]).astype("int64")
    out = out.astype("object")
    if cdr is not None:
        out["connect_rate"] = [
            _rate(c, d) for c, d in zip(out["connected"], out["dials"], strict=True)
        ]
    else:
        out["dials"] = out["connected"] = out["connect_rate"] = UNKNOWN
    out["valid_rate"] = [_rate(v, s) for v, s in zip(out["valid_sales"], out["sales"], strict=True)]
    out.index.name = "team"
    return out[REPORT_COLUMNS].reset_index()


UNKNOWN = "unknown"
REPORT_COLUMNS = [
    "dials", "connected", "connect_rate", "calls", "sales", "valid_sales", "valid_rate",
    "complaints",
]  # fmt: skip


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _in_week(dates: pd.Series, week: str) -> pd.Series:
    """Which dates fall in the ISO week (an empty column is no date, not a dtype error)."""
    if dates.empty:
        return pd.Series(False, index=dates.index, dtype=bool)
    return period_of(dates, "week") == week


def _complaints_by_team(
    frame: pd.DataFrame, week: str, complaints: pd.DataFrame | None
) -> pd.Series:
    if complaints is None:
        return pd.Series(dtype="int64")
    in_week = complaints[_in_week(complaints["date"], week)]
    calls = frame.sort_values("local_date")
    teams = []
    for number, day in zip(in_week["number"], in_week["date"], strict=True):
        earlier = calls[(calls["customer_number"] == number) & (calls["local_date"] <= day)]
        teams.append(earlier["team"].iloc[-1] if len(earlier) else "unattributed")
    return pd.Series(teams, dtype="object").value_counts()
