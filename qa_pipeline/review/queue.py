"""The review queue: flagged calls (failed criteria, forbidden phrases, agent hung up first, low
role confidence) and blind calibration draws, filtered and sorted by severity, then age."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from qa_pipeline.review.calibration import drawn, share_for
from qa_pipeline.review.settings import ReviewSettings, severity_of
from qa_pipeline.review.sla import is_overdue, sla_minutes
from qa_pipeline.storage.db import Engine
from qa_pipeline.storage.review import (
    NewItem,
    QueueCandidate,
    finding_codes,
    queue_candidates,
    queue_facets,
    queue_item,
    queued_calls,
    review_items,
    update_item,
)
from qa_pipeline.storage.tasks import utc
from qa_pipeline.storage.transaction import transaction

FLAG_KINDS = ("criterion", "forbidden", "hangup")
SEVERITY_NAMES = {3: "high", 2: "medium", 1: "low", 0: "blind"}


def flagged_codes(findings: Iterable[tuple[str, str]], settings: ReviewSettings) -> list[str]:
    """The codes among (kind, code) findings that put a call in the queue."""
    return [
        code
        for kind, code in findings
        if kind in FLAG_KINDS or (kind == "review_flag" and _listed(code, settings.review_flags))
    ]


def _listed(code: str, flags: Iterable[str]) -> bool:
    """A flag or a flag family (`model_unsure` lists `model_unsure.explicit_consent`)."""
    return any(code == flag or code.startswith(flag + ".") for flag in flags)


def sync_queue(engine: Engine, settings: ReviewSettings, now: datetime) -> int:
    """Queue every flagged call and every calibration draw not queued yet; a pending item whose
    call was judged again follows the new verdict. Returns the number of new items."""
    added = 0
    with transaction(engine) as tx:
        candidates = queue_candidates(tx)
        items = {i.call_id: i for i in review_items(tx)}
        failures: dict[str, list[str]] = defaultdict(list)
        for c in candidates:
            if c.call is not None and flagged_codes(c.findings, settings):
                failures[c.call.agent_id].append(c.call.local_date)
        for c in candidates:
            codes = flagged_codes(c.findings, settings)
            item = items.get(c.call_id)
            if item is not None:
                if item.verdict_id != c.verdict_id and item.status == "pending" and codes:
                    severity = max(severity_of(code, settings) for code in codes)
                    update_item(tx, dataclasses.replace(
                        item, verdict_id=c.verdict_id, severity=severity,
                        engine_valid_sale=c.valid_sale,
                    ))  # fmt: skip
                continue
            source = _source(c, codes, failures, settings)
            if c.call is not None and source is not None:
                severity = max((severity_of(code, settings) for code in codes), default=0)
                added += queue_item(tx, NewItem(
                    c.call_id, c.verdict_id, source, source == "calibration", severity,
                    sla_minutes(codes, settings), now, c.valid_sale,
                ))  # fmt: skip
    return added


def _source(
    candidate: QueueCandidate,
    codes: list[str],
    failures: dict[str, list[str]],
    settings: ReviewSettings,
) -> str | None:
    """Why a stored call enters the queue: flagged, drawn blind for calibration, or not. Only
    sales are drawn: a blind review judges the validity criteria, which decide nothing on a
    declined or no-pitch call."""
    if codes:
        return "flagged"
    if candidate.call is None or candidate.valid_sale is None:
        return None
    share = share_for(candidate.call.local_date, failures[candidate.call.agent_id], settings)
    return "calibration" if drawn(candidate.call_id, share, settings.calibration_seed) else None


@dataclass(frozen=True)
class QueueFilter:
    date_from: str | None = None
    date_to: str | None = None
    team: str | None = None
    agent: str | None = None
    campaign: str | None = None
    criterion: str | None = None
    severity: int | None = None
    state: str = "pending"  # pending | reviewed | all


@dataclass(frozen=True)
class QueueEntry:
    item_id: int
    call_id: str
    agent_id: str
    team: str
    campaign: str
    local_date: str
    started_local: str
    source: str
    blind: bool
    severity: int
    codes: tuple[str, ...]
    status: str
    overdue: bool
    escalated: bool
    waited_minutes: int

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES.get(self.severity, "low")


def build_queue(
    engine: Engine,
    scope_team: str | None,
    wanted: QueueFilter,
    settings: ReviewSettings,
    now: datetime,
) -> list[QueueEntry]:
    """The queue as this user may see it: a supervisor's scope team is applied in the query."""
    rows = queued_calls(
        engine, scope_team, None if wanted.state == "all" else wanted.state, wanted.team,
        wanted.agent, wanted.campaign, wanted.date_from, wanted.date_to,
    )  # fmt: skip
    findings = finding_codes(engine, [i.verdict_id for i, _ in rows])
    entries = []
    for item, call in rows:
        codes = tuple(() if item.blind else flagged_codes(findings[item.verdict_id], settings))
        if wanted.criterion and not any(
            c == wanted.criterion or c.startswith(wanted.criterion + ".") for c in codes
        ):
            continue
        if wanted.severity is not None and item.severity != wanted.severity:
            continue
        waited = int((utc(now) - utc(item.queued_at)).total_seconds() // 60)
        entries.append(
            QueueEntry(
                item.id,
                item.call_id,
                call.agent_id,
                call.team,
                call.campaign,
                call.local_date,
                call.started_local,
                item.source,
                item.blind,
                item.severity,
                codes,
                item.status,
                is_overdue(item.queued_at, item.sla_minutes, item.status, now),
                item.escalated_at is not None,
                waited,
            )
        )
    # Severity first, then age: the oldest call of a severity first.
    entries.sort(key=lambda e: (-e.severity, utc(datetime.fromisoformat(e.started_local))))
    return entries


def filter_choices(
    engine: Engine, scope_team: str | None, scope_agent: str | None = None
) -> dict[str, list[str]]:
    """Values for the queue's filter menus, within the user's scope."""
    facets = queue_facets(engine, scope_team, scope_agent)
    return {
        "team": list(facets.teams),
        "agent": list(facets.agents),
        "campaign": list(facets.campaigns),
        "criterion": sorted({c.split(".")[0] for c in facets.codes} | set(facets.codes)),
    }


@dataclass(frozen=True)
class QueueSummary:
    """What the home page says of the pending queue: how many, how many overdue, how many of
    high severity, and the finding codes that fail most, with their counts."""

    pending: int
    overdue: int
    high: int
    top_codes: tuple[tuple[str, int], ...]


def summarize(entries: Iterable[QueueEntry], top: int = 5) -> QueueSummary:
    rows = [e for e in entries if e.status == "pending"]
    codes = Counter(code for e in rows for code in e.codes)
    return QueueSummary(
        len(rows),
        sum(e.overdue for e in rows),
        sum(e.severity == 3 for e in rows),
        tuple(codes.most_common(top)),
    )
