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
    judged = frame[period_of(frame["local_date"], "week") == week]
    per_team = judged.groupby("team").agg(
        calls=("call_id", "count"),
        sales=("outcome", lambda s: int((s == "sale").sum())),
        valid_sales=("valid_sale", lambda s: int(s.eq(True).sum())),
    )
    if cdr is not None:
        dials = cdr.assign(local_date=cdr["started_at"].str.slice(0, 10))
        dials = dials[period_of(dials["local_date"], "week") == week]
        connected = pd.to_numeric(dials["duration_s"], errors="coerce").fillna(0) > 0
        per_team["dials"] = dials.groupby("team").size()
        per_team["connected"] = dials[connected].groupby("team").size()
    else:  # without CDRs every judged call was a connected dial
        per_team["dials"] = per_team["calls"]
        per_team["connected"] = per_team["calls"]
    per_team["complaints"] = _complaints_by_team(frame, week, complaints)
    per_team = per_team.fillna(0)
    total = per_team.sum(numeric_only=True).to_frame("center").T
    out = pd.concat([per_team, total])
    out["connect_rate"] = (out["connected"] / out["dials"].where(out["dials"] > 0)).round(4)
    out["valid_rate"] = (out["valid_sales"] / out["sales"].where(out["sales"] > 0)).round(4)
    out.index.name = "team"
    columns = [
        "dials",
        "connected",
        "connect_rate",
        "calls",
        "sales",
        "valid_sales",
        "valid_rate",
        "complaints",
    ]
    return out[columns].reset_index()


def _complaints_by_team(
    frame: pd.DataFrame, week: str, complaints: pd.DataFrame | None
) -> pd.Series:
    if complaints is None:
        return pd.Series(dtype="int64")
    in_week = complaints[period_of(complaints["date"], "week") == week]
    calls = frame.sort_values("local_date")
    teams = []
    for number, day in zip(in_week["number"], in_week["date"], strict=True):
        earlier = calls[(calls["customer_number"] == number) & (calls["local_date"] <= day)]
        teams.append(earlier["team"].iloc[-1] if len(earlier) else "unattributed")
    return pd.Series(teams, dtype="object").value_counts()
