"""The JSON API's request and response bodies (pydantic models: FastAPI validates requests
with them and documents both in the OpenAPI document). Times are ISO 8601 in UTC; a call's
`started_local` keeps the offset its call file gave."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Value = str | int | float | bool | None


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Body):
    code: str = Field(description="stable error code (E120-E126; E080 family for review rules)")
    message: str
    status: int


class ErrorOut(Body):
    error: ErrorDetail


class Me(Body):
    name: str
    role: str
    team: str | None = Field(description="a supervisor's team: everything is scoped to it")


class QueueState(Body):
    status: str = Field(description="pending | reviewed")
    source: str = Field(description="flagged | calibration")
    blind: bool
    severity: str = Field(description="high | medium | low | blind")
    queued_at: datetime
    reviewed_at: datetime | None
    overdue: bool
    escalated: bool


class CallSummary(Body):
    call_id: str
    campaign: str
    team: str
    agent_id: str
    customer_number: str = Field(description="masked for roles not in unmask_roles")
    started_local: str
    local_date: str
    duration_s: float
    language: str
    outcome: str | None = Field(description="sale | declined | no_pitch; null: not judged")
    valid_sale: bool | None = Field(description="after review where reviewed, else the engine's")
    engine_valid_sale: bool | None
    revisit_required: bool | None
    queue: QueueState | None = Field(description="null: not in the review queue")


class Evidence(Body):
    start: float
    end: float
    speaker: str
    text: str
    match: str | None


class Dispute(Body):
    id: int
    raised_by: str
    reason: str
    status: str = Field(description="open | upheld | rejected")
    decided_by: str | None
    decision_note: str | None


class FindingOut(Body):
    id: int
    call_id: str
    kind: str = Field(description="criterion | forbidden | hangup | review_flag")
    code: str
    name: str = Field(description="the code's name in the requested language")
    reason: str = Field(description="why, in the requested language")
    flagged: bool = Field(description="puts the call in the review queue")
    state: str | None = Field(description="confirm | overturn | null (not reviewed)")
    reviewer: str | None
    note: str | None
    evidence: list[Evidence] = Field(description="what was said, or the stretch searched")
    disputes: list[Dispute]


class ItemOut(Body):
    code: str
    name: str
    passed: bool | None
    reason: str
    evidence: list[Evidence]


class CriterionOut(Body):
    code: str
    name: str
    applies: bool = Field(description="false: a sale criterion on a call that is no sale")
    passed: bool | None = Field(description="the engine's")
    final_passed: bool | None = Field(description="after review (the engine's until reviewed)")
    items: list[ItemOut]


class VerdictOut(Body):
    outcome: str
    outcome_name: str
    outcome_reason: str
    valid_sale: bool | None = Field(description="the engine's")
    final_valid_sale: bool | None = Field(description="after review (the engine's until then)")
    revisit_required: bool
    rules_version: str


class CallDetail(CallSummary):
    lang: str = Field(description="the language of names and reasons")
    blind: bool = Field(description="a pending blind calibration call: the verdict is hidden")
    verdict: VerdictOut | None
    criteria: list[CriterionOut]
    findings: list[FindingOut]


class PageOf(Body):
    page: int
    size: int
    total: int = Field(description="rows matching the filters, on every page")
    pages: int


class CallsPage(PageOf):
    items: list[CallSummary]


class FindingsPage(PageOf):
    items: list[FindingOut]


class ReviewOut(Body):
    id: int
    call_id: str
    team: str
    finding_id: int | None
    finding_code: str
    action: str = Field(description="confirm | overturn")
    reviewer: str
    note: str | None
    created_at: datetime


class ReviewsPage(PageOf):
    items: list[ReviewOut]


class TaskOut(Body):
    id: int
    call_id: str
    kind: str
    priority: str
    status: str
    outcome: str | None
    reason_codes: list[str]
    summary: str
    customer_number: str = Field(description="masked for roles not in unmask_roles")
    agent_id: str
    team: str
    campaign: str
    due_at: datetime
    created_at: datetime
    closed_at: datetime | None
    trial_end: str | None
    extended: bool
    linked_call_id: str | None


class TasksPage(PageOf):
    items: list[TaskOut]


class ScorecardPage(PageOf):
    level: str
    period: str
    columns: list[str]
    items: list[dict[str, Value]] = Field(description="one row per key and period")


class ReviewIn(Body):
    action: Literal["confirm", "overturn"]
    note: str = Field("", max_length=2000)


class DisputeIn(Body):
    reason: str = Field(min_length=1, max_length=2000)


class DisputeOut(Body):
    dispute_id: int
    finding: FindingOut
