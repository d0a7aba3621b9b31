"""Calibration: a random share of passed calls enters the queue blind (a larger share for agents
with recent failures); reviewers' decisions are compared with the engine's per rule."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import blind_judgments, latest_decisions


def drawn(call_id: str, share: float, seed: str) -> bool:
    """A stable draw: the same call is drawn (or not) on every sync, without stored state."""
    digest = hashlib.sha256(f"{seed}:{call_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def share_for(local_date: str, failure_dates: list[str], settings: ReviewSettings) -> float:
    """The larger share when the agent had a flagged call in the days before this one."""
    day = date.fromisoformat(local_date)
    since = (day - timedelta(days=settings.calibration_recent_days)).isoformat()
    recent = any(since <= d < local_date for d in failure_dates)
    return settings.calibration_share_recent_failures if recent else settings.calibration_share


@dataclass(frozen=True)
class RuleAgreement:
    """How often reviewers agreed with one rule: on flagged calls (confirmed vs overturned,
    the rule's measured precision) and on blind calibration calls."""

    rule: str
    confirmed: int
    overturned: int
    blind_agreed: int
    blind_total: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.overturned
        return round(self.confirmed / decided, 3) if decided else None

    @property
    def blind_agreement(self) -> float | None:
        return round(self.blind_agreed / self.blind_total, 3) if self.blind_total else None


def agreement(engine: Engine, sale_only: Collection[str] = ()) -> list[RuleAgreement]:
    """Per rule (finding code), from each finding's latest review and each blind judgment.
    A finding of a `sale_only` criterion on a call that was not a sale (stored before
    criteria had a scope) did not apply: its review measures nothing about the rule."""
    counts: Counter[tuple[str, str]] = Counter()
    for code, action, outcome in latest_decisions(engine):
        if outcome != "sale" and code.split(".")[0] in sale_only:
            continue
        counts[(code, action)] += 1
    for judged in blind_judgments(engine):
        counts[(judged.criterion, "blind")] += 1
        counts[(judged.criterion, "agreed")] += judged.reviewer_passed == bool(judged.engine_passed)
    rules = sorted({rule for rule, _ in counts})
    return [
        RuleAgreement(
            rule,
            counts[(rule, "confirm")],
            counts[(rule, "overturn")],
            counts[(rule, "agreed")],
            counts[(rule, "blind")],
        )
        for rule in rules
    ]
