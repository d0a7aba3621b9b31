"""One row per judged call (its latest verdict), the table every scorecard is computed from."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select

from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.storage.tables import CallRow, ReviewItemRow, TaskRow, VerdictRow

CRITERIA = ("account_holder_verified", "caller_competent", "disclosures", "explicit_consent")
COLUMNS = (
    "call_id", "agent_id", "team", "local_date", "customer_number", "outcome", "valid_sale",
    *CRITERIA, *(f"forbidden_{c}" for c in CATEGORIES), "agent_hung_up_first",
    "script_adherence", "revisits_open", "revisits_closed",
)  # fmt: skip


def call_row(result: dict[str, Any], local_date: str) -> dict[str, Any]:
    """The scorecard's view of one results row."""
    criteria = result.get("criteria") or {}
    forbidden = [f["category"] for f in result.get("forbidden_phrases") or []]
    return {
        "call_id": result["call_id"],
        "agent_id": result.get("agent_id"),
        "team": result.get("team"),
        "local_date": local_date,
        "customer_number": result.get("customer_number"),
        "outcome": result.get("outcome"),
        "valid_sale": result.get("valid_sale"),
        **{c: (criteria.get(c) or {}).get("passed") for c in CRITERIA},
        **{f"forbidden_{c}": forbidden.count(c) for c in CATEGORIES},
        "agent_hung_up_first": bool((result.get("agent_hung_up_first") or {}).get("value")),
        "script_adherence": (result.get("script") or {}).get("adherence"),
        "revisits_open": 0,
        "revisits_closed": 0,
    }


def reviewed(row: dict[str, Any], final: dict[str, Any] | None) -> dict[str, Any]:
    """A call's row as its review left it (the workbench's final verdict), if reviewed."""
    if not final:
        return row
    forbidden = final["forbidden"]
    return row | {
        "valid_sale": final["valid_sale"],
        "agent_hung_up_first": final["agent_hung_up_first"],
        **{c: final["criteria"].get(c) for c in CRITERIA},
        **{f"forbidden_{c}": forbidden.get(c, 0) for c in CATEGORIES},
    }


def _connected(bind: Engine | Connection) -> AbstractContextManager[Connection]:
    return nullcontext(bind) if isinstance(bind, Connection) else bind.connect()


def load_frame(bind: Engine | Connection) -> pd.DataFrame:
    """Judged calls with their latest verdict and their revisit tasks' status. Verdicts are
    streamed and reduced to a compact row at once, newest per call winning: memory grows with
    the number of calls, not with the size of their results. Given a connection, it reads in
    that connection's transaction (a scorecard rebuild reads under its lock)."""
    latest: dict[str, tuple[Any, dict[str, Any]]] = {}
    with _connected(bind) as connection:
        dates = {
            cid: day for cid, day in connection.execute(select(CallRow.call_id, CallRow.local_date))
        }
        query = select(
            VerdictRow.call_id, VerdictRow.created_at, VerdictRow.id, VerdictRow.result
        ).where(VerdictRow.status == "ok")
        # Options on the statement, not the connection: they would stick to a caller's connection.
        streamed = connection.execute(query.execution_options(stream_results=True, yield_per=500))
        for call_id, created, verdict_id, result in streamed:
            key = (created, verdict_id)
            if call_id not in latest or key > latest[call_id][0]:
                latest[call_id] = (key, call_row(result, dates.get(call_id, "")))
        # A review's final verdict counts for the verdict it reviewed, not a later rejudging.
        finals = {
            (verdict_id, call_id): final
            for call_id, verdict_id, final in connection.execute(
                select(ReviewItemRow.call_id, ReviewItemRow.verdict_id, ReviewItemRow.final)
            )
        }
        revisits = connection.execute(
            select(TaskRow.call_id, TaskRow.status).where(TaskRow.kind == "revisit")
        ).all()
    rows = [reviewed(row, finals.get((key[1], cid))) for cid, (key, row) in latest.items()]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    status = {cid: s for cid, s in revisits}
    frame["revisits_open"] = frame["call_id"].map(lambda c: int(status.get(c) == "open"))
    frame["revisits_closed"] = frame["call_id"].map(lambda c: int(status.get(c) == "closed"))
    return frame
