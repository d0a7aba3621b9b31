"""Review SLA (from the hotline practice): a flagged call waiting longer than its window is
overdue and escalated. Customer-dissatisfaction flags get the short window."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime, timedelta

from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.storage.audit import record
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import review_items, update_item
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.transaction import transaction


def _matches(code: str, prefix: str) -> bool:
    return code == prefix or code.startswith(prefix + ".")


def sla_minutes(codes: Iterable[str], settings: ReviewSettings) -> int:
    """The review window of a call with these finding codes."""
    dissatisfied = any(_matches(c, p) for c in codes for p in settings.dissatisfaction_codes)
    return settings.sla_dissatisfaction_minutes if dissatisfied else settings.sla_default_minutes


def is_overdue(queued_at: datetime, minutes: int, status: str, now: datetime) -> bool:
    return status == "pending" and utc(now) - utc(queued_at) > timedelta(minutes=minutes)


def escalate_overdue(engine: Engine, now: datetime) -> list[str]:
    """Mark every overdue, not yet escalated pending item escalated (once), with an audit
    entry; returns their call ids."""
    escalated = []
    with transaction(engine) as tx:
        for item in review_items(tx, pending_unescalated=True):
            if is_overdue(item.queued_at, item.sla_minutes, item.status, now):
                update_item(tx, dataclasses.replace(item, escalated_at=now))
                escalated.append(item.call_id)
                after = {"escalated_at": now.isoformat(), "sla_minutes": item.sla_minutes}
                record(tx, "system", "escalate", item.call_id, None, None, after)
    return escalated
