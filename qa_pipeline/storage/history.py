"""A verdict's review history, every step in time order: each confirm and overturn (not only
the latest, which is all the call page needs), each dispute raised and decided. The evidence
pack shows it as who did what, when, with their notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from qa_pipeline.storage.tables import DisputeRow, FindingRow, ReviewRow
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.transaction import Bind, reading


@dataclass(frozen=True, slots=True)
class HistoryStep:
    at: datetime  # UTC
    actor: str
    action: str  # confirm | overturn | dispute | upheld | rejected
    finding_id: int | None
    code: str  # the finding's code
    note: str | None  # the review's note, the dispute's reason or the decision's note


def review_history(bind: Bind, verdict_id: int) -> list[HistoryStep]:
    """Every review and dispute step on the verdict's findings, oldest first."""
    reviews = select(ReviewRow).where(ReviewRow.verdict_id == verdict_id)
    disputes = (
        select(DisputeRow, FindingRow.code)
        .join(FindingRow, FindingRow.id == DisputeRow.finding_id)
        .where(FindingRow.verdict_id == verdict_id)
    )
    # (step, rank): an upheld dispute writes its decision and the overturn it causes at one
    # time; the higher rank sorts first, so the decision comes before the overturn.
    steps: list[tuple[HistoryStep, int]] = []
    with reading(bind) as session:
        for r in session.scalars(reviews):
            steps.append((HistoryStep(
                utc(r.created_at), r.reviewer, r.action, r.finding_id, r.finding_code, r.note
            ), 0))  # fmt: skip
        for d, code in session.execute(disputes):
            steps.append((HistoryStep(
                utc(d.raised_at), d.raised_by, "dispute", d.finding_id, code, d.reason
            ), 1))  # fmt: skip
            if d.decided_at is not None and d.decided_by is not None:
                steps.append((HistoryStep(
                    utc(d.decided_at), d.decided_by, d.status, d.finding_id, code,
                    d.decision_note,
                ), 2))  # fmt: skip
    return [step for step, _ in sorted(steps, key=lambda s: (s[0].at, -s[1]))]
