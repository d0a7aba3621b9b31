"""Tables. Columns holding call fields are sized by ingest/limits.py, the constraint set the
call-file parser enforces: a value either database would refuse never reaches it.

A verdict is keyed by (call id, transcript content hash, rules version): re-running a
batch adds nothing, a changed rule set adds new verdicts next to the old ones, and unique
constraints (not luck) keep concurrent runs from creating duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from qa_pipeline.ingest.limits import AGENT_ID, CALL_ID, CAMPAIGN, CUSTOMER_NUMBER, LANGUAGE, TEAM


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON, list[Any]: JSON, list[Any] | None: JSON
    }  # fmt: skip


class CallRow(Base):
    __tablename__ = "calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID), unique=True)
    campaign: Mapped[str] = mapped_column(String(CAMPAIGN))
    language: Mapped[str] = mapped_column(String(LANGUAGE))
    agent_id: Mapped[str] = mapped_column(String(AGENT_ID), index=True)
    team: Mapped[str] = mapped_column(String(TEAM), index=True)
    customer_number: Mapped[str] = mapped_column(String(CUSTOMER_NUMBER))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The local time with its offset as said in the call file: SQLite keeps no time zone, and
    # the call's local date decides the trial end and the scorecard day.
    started_local: Mapped[str] = mapped_column(String(40))
    local_date: Mapped[str] = mapped_column(String(10), index=True)
    duration_s: Mapped[float] = mapped_column(Float)
    hangup_by: Mapped[str | None] = mapped_column(String(16))


class EncodingRow(Base):
    """A sentence encoding of the understanding stage; `key` hashes the encoder and the text."""

    __tablename__ = "sentence_encodings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class RecordingRow(Base):
    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("call_id", "content_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id"))
    path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))


class TranscriptRow(Base):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("call_id", "content_hash"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    segments: Mapped[list[Any]]
    # What re-judging needs besides the words: who was still talking when the recording ended
    # (None: no audio to tell) and the call a revisit re-confirms.
    talking_at_end: Mapped[list[Any] | None]
    revisit_of: Mapped[str | None] = mapped_column(String(CALL_ID))
    heard_by: Mapped[str | None] = mapped_column(String(CAMPAIGN))  # the recognizer, if any


class VerdictRow(Base):
    __tablename__ = "verdicts"
    __table_args__ = (
        UniqueConstraint("call_id", "content_hash", "rules_version"),
        Index("ix_verdicts_content_rules", "content_hash", "rules_version"),  # reuse lookups
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    valid_sale: Mapped[bool | None]
    revisit_required: Mapped[bool]
    result: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FindingRow(Base):
    """One failed criterion item, forbidden phrase or hang-up finding of a verdict."""

    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict_id: Mapped[int] = mapped_column(
        ForeignKey("verdicts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # criterion | forbidden | hangup | review_flag
    code: Mapped[str] = mapped_column(String(64))  # e.g. disclosures.fees, forbidden.arguing
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]]


class TaskRow(Base):
    """A revisit (failed sale) or confirmation (trial sale) callback."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("call_id", "kind"),
        Index("ix_tasks_status_due", "status", "due_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # revisit | confirm_1 | confirm_2 | confirm_3
    priority: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason_codes: Mapped[list[Any]]
    summary: Mapped[str] = mapped_column(Text)
    customer_number: Mapped[str] = mapped_column(String(CUSTOMER_NUMBER))
    agent_id: Mapped[str] = mapped_column(String(AGENT_ID))
    team: Mapped[str] = mapped_column(String(TEAM))
    campaign: Mapped[str] = mapped_column(String(CAMPAIGN))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    trial_end: Mapped[str | None] = mapped_column(String(10))  # confirmations: ISO date
    extended: Mapped[bool] = mapped_column(default=False, server_default=false())
    linked_call_id: Mapped[str | None] = mapped_column(String(CALL_ID))  # the revisit's own call
    linked_valid: Mapped[bool | None]


class ScorecardRow(Base):
    __tablename__ = "scorecards"
    __table_args__ = (UniqueConstraint("level", "key", "period", "period_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))  # agent | team | center
    key: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))  # day | week | month
    period_start: Mapped[str] = mapped_column(String(16))
    metrics: Mapped[dict[str, Any]]


class ReviewRow(Base):
    """A QA lead's decision on a finding (the review workbench writes these)."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verdict_id: Mapped[int] = mapped_column(
        ForeignKey("verdicts.id", ondelete="CASCADE"), index=True
    )
    finding_code: Mapped[str] = mapped_column(String(64))
    # Two findings of a verdict can share a code (two forbidden phrases of one category).
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # confirm | overturn
    reviewer: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserRow(Base):
    """A workbench user: qa_lead (all teams), supervisor (one team), admin (users too) or
    agent (their own calls: `agent_id` links them to the calls' agent_id)."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    team: Mapped[str | None] = mapped_column(String(TEAM))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    agent_id: Mapped[str | None] = mapped_column(String(AGENT_ID), unique=True)


class SessionRow(Base):
    """A signed-in workbench session, kept server-side so logging out ends it: the cookie only
    carries a random token, stored here as its SHA-256."""

    __tablename__ = "review_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ReviewItemRow(Base):
    """A call in the review queue: flagged by the engine, or drawn blind for calibration.
    `final` holds what the review changed (criteria passes, overturned findings)."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_status_severity", "status", "severity"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID), unique=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16))  # flagged | calibration
    blind: Mapped[bool]
    status: Mapped[str] = mapped_column(String(16))  # pending | reviewed
    severity: Mapped[int]
    sla_minutes: Mapped[int]
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    engine_valid_sale: Mapped[bool | None]
    final_valid_sale: Mapped[bool | None]
    final: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DisputeRow(Base):
    """A supervisor's dispute of a confirmed finding, and the QA lead's decision."""

    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("findings.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[str] = mapped_column(String(CALL_ID), index=True)
    raised_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))  # open | upheld | rejected
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CalibrationJudgmentRow(Base):
    """A reviewer's blind pass/fail on one criterion of a calibration call, next to the
    engine's: the agreement rate per rule is computed from these."""

    __tablename__ = "calibration_judgments"
    __table_args__ = (UniqueConstraint("item_id", "criterion"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_items.id", ondelete="CASCADE"))
    criterion: Mapped[str] = mapped_column(String(64))
    reviewer_passed: Mapped[bool]
    engine_passed: Mapped[bool | None]
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Every workbench action: who, when, what, and the state before and after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(CALL_ID), index=True)
    target: Mapped[str | None] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AgentCaseRow(Base):
    """A service case opened for the agent of a call (customer dissatisfaction, a confirmed
    service-language finding): the agent explains by `due_at`, else it is escalated to the
    team's leader; the leader's decision may give a yellow card and a callback."""

    __tablename__ = "agent_cases"
    __table_args__ = (Index("ix_agent_cases_agent_status", "agent_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID), unique=True)
    agent_id: Mapped[str] = mapped_column(String(AGENT_ID))
    team: Mapped[str] = mapped_column(String(TEAM), index=True)
    local_date: Mapped[str] = mapped_column(String(10))  # the call's: the card's month
    codes: Mapped[list[Any]]  # the finding codes that opened it
    status: Mapped[str] = mapped_column(String(16))  # open | explained | upheld | dismissed
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    explanation: Mapped[str | None] = mapped_column(Text)
    explained_by: Mapped[str | None] = mapped_column(String(64))
    explained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    yellow_card: Mapped[bool] = mapped_column(default=False, server_default=false())
    callback_task_id: Mapped[int | None]


class ApiTokenRow(Base):
    """A user's API token (issue 14): like a session, only the token's SHA-256 is kept, so a read
    of the table gives no usable token; `prefix` (its first characters) tells tokens apart in
    listings."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClaimRow(Base):
    """Who holds a queued call for review, and until when: a claim past `expires_at` is as
    good as none (review/claims.py decides who may take one)."""

    __tablename__ = "review_claims"
    call_id: Mapped[str] = mapped_column(String(CALL_ID), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64), index=True)
    assigned_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SavedFilterRow(Base):
    """A user's named queue filter: the query string of /queue, cleaned to known filters."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TranscriptLineRow(Base):
    """One line of a call's latest transcript, for full-text search (storage/search.py): on
    SQLite an FTS5 trigram index follows this table by triggers, on PostgreSQL a pg_trgm GIN
    index covers `text` (both made by migration 0010, outside these models)."""

    __tablename__ = "transcript_lines"
    __table_args__ = (UniqueConstraint("call_id", "line_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(CALL_ID))
    line_no: Mapped[int]
    start: Mapped[float] = mapped_column(Float)
    role: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
