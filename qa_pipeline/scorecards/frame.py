"""One row per judged call (its latest verdict, as its review left it), the table every
scorecard is computed from. The criteria are the ones the verdicts carry (criteria.yaml's, and
any of older rule versions still stored), in name order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from qa_pipeline.ruleset.schema import CATEGORIES
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.scorecards import ScoredCall, scored_calls
from qa_pipeline.verdict.facts import VerdictFacts
from qa_pipeline.verdict.final import FinalVerdict

HEAD = (
    "call_id", "agent_id", "team", "local_date", "customer_number", "outcome", "valid_sale",
)  # fmt: skip
TAIL = (
    *(f"forbidden_{c}" for c in CATEGORIES), "agent_hung_up_first", "script_adherence",
    "revisits_open", "revisits_closed", "yellow_cards",
)  # fmt: skip


def criteria_of(frame: pd.DataFrame) -> list[str]:
    """The criterion columns of a call frame."""
    return [c for c in frame.columns if c not in HEAD and c not in TAIL]


def call_row(
    facts: VerdictFacts,
    local_date: str,
    criteria: Sequence[str],
    revisit: str | None = None,
    yellow_cards: int = 0,
) -> dict[str, Any]:
    """The scorecard's view of one verdict."""
    return {
        "call_id": facts.call_id,
        "agent_id": facts.agent_id,
        "team": facts.team,
        "local_date": local_date,
        "customer_number": facts.customer_number,
        "outcome": facts.outcome,
        "valid_sale": facts.valid_sale,
        **{c: facts.criteria.get(c) for c in criteria},
        **{f"forbidden_{c}": facts.forbidden.count(c) for c in CATEGORIES},
        "agent_hung_up_first": facts.agent_hung_up_first,
        "script_adherence": facts.script_adherence,
        "revisits_open": int(revisit == "open"),
        "revisits_closed": int(revisit == "closed"),
        "yellow_cards": yellow_cards,
    }


def reviewed(row: dict[str, Any], final: FinalVerdict | None) -> dict[str, Any]:
    """A call's row as its review left it (the workbench's final verdict), if reviewed."""
    if final is None:
        return row
    criteria = [c for c in row if c not in HEAD and c not in TAIL]
    return row | {
        "valid_sale": final.valid_sale,
        "agent_hung_up_first": final.agent_hung_up_first,
        **{c: final.criteria.get(c) for c in criteria},
        **{f"forbidden_{c}": final.forbidden.get(c, 0) for c in CATEGORIES},
    }


def frame_of(calls: Sequence[ScoredCall]) -> pd.DataFrame:
    criteria = sorted({name for call in calls for name in call.facts.criteria})
    rows = [
        reviewed(call_row(c.facts, c.local_date, criteria, c.revisit, c.yellow_cards), c.final)
        for c in calls
    ]
    return pd.DataFrame(rows, columns=[*HEAD, *criteria, *TAIL])


def load_frame(engine: Engine) -> pd.DataFrame:
    """Judged calls with their latest verdict and their revisit tasks' status."""
    return frame_of(scored_calls(engine))
