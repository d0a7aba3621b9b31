"""Writing results: one transaction per call, inserts that ignore what is already there (by
unique key), so re-runs, killed runs and concurrent runs all converge on the same rows."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, insert, select
from sqlalchemy.orm import Session

from qa_pipeline.callbacks.plan import PlannedTask
from qa_pipeline.ingest.model import Call
from qa_pipeline.storage.encodings import Encodings
from qa_pipeline.storage.search import index_transcript
from qa_pipeline.storage.tables import (
    CallRow,
    FindingRow,
    RecordingRow,
    TranscriptRow,
    VerdictRow,
)
from qa_pipeline.storage.tasks import insert_tasks
from qa_pipeline.storage.upsert import insert_for
from qa_pipeline.verdict.findings import Finding, findings_of
from qa_pipeline.verdict.model import CallResult
from qa_pipeline.verdict.serialize import from_row, to_row


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def after_fork(self) -> None:
        """In a forked process: open connections of its own, leaving the parent's alone."""
        self.engine.dispose(close=False)

    def encodings(self) -> Encodings:
        """Where the understanding stage keeps sentence encodings."""
        return Encodings(self.engine)

    def stored_result(self, content_hash: str, rules_version: str) -> CallResult | None:
        """The stored result for this exact content under these rules, if judged before. The
        content hash alone names the call (its id is in the content), whatever the file name."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(VerdictRow.result)
                .where(VerdictRow.content_hash == content_hash)
                .where(VerdictRow.rules_version == rules_version)
                .limit(1)
            ).scalar_one_or_none()
        return from_row(row) if row is not None else None

    def save(
        self,
        result: CallResult,
        content_hash: str,
        call: Call | None,
        tasks: Sequence[PlannedTask] = (),
    ) -> bool:
        """Store a result with its call, transcript and callback tasks, in one transaction;
        False when it was already there."""
        row = to_row(result)
        with self.engine.begin() as connection:
            if call is not None:
                self._save_call(connection, call, content_hash, _role_names(result))
                # One row per leg, keyed by the call's content hash and the leg's place; the
                # path resolved, so playback does not depend on where `run` was started.
                for leg, path in enumerate(result.recordings):
                    key = hashlib.sha256(f"{content_hash}:{leg}".encode()).hexdigest()
                    where = str(Path(path).resolve())
                    connection.execute(
                        insert_for(connection, RecordingRow)
                        .values(call_id=call.call_id, path=where, content_hash=key)
                        .on_conflict_do_nothing(index_elements=["call_id", "content_hash"])
                    )
            inserted = connection.execute(
                insert_for(connection, VerdictRow)
                .values(
                    call_id=result.call_id,
                    content_hash=content_hash,
                    rules_version=result.rules_version,
                    status=result.status,
                    error=result.error,
                    outcome=result.outcome,
                    valid_sale=result.valid_sale,
                    revisit_required=result.revisit_required,
                    result=row,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["call_id", "content_hash", "rules_version"])
                .returning(VerdictRow.id)
            ).scalar_one_or_none()
            if inserted is None:
                return False
            findings = [_finding_values(f, inserted) for f in findings_of(result)]
            if findings:
                connection.execute(insert(FindingRow), findings)
            insert_tasks(connection, result, tasks)
            return True

    @staticmethod
    def _save_call(
        connection: Connection, call: Call, content_hash: str, roles: dict[str, str]
    ) -> None:
        fields = ("call_id", "campaign", "language", "agent_id", "team", "customer_number")
        values: dict[str, Any] = {name: getattr(call, name) for name in fields}
        values |= {"started_at": call.started_at, "duration_s": call.duration_s}
        values |= {
            "started_local": call.started_at.isoformat(),
            "local_date": call.started_at.date().isoformat(),
        }
        values["hangup_by"] = call.hangup_by
        upsert = insert_for(connection, CallRow).values(values)
        connection.execute(
            upsert.on_conflict_do_update(
                index_elements=["call_id"], set_={k: v for k, v in values.items() if k != "call_id"}
            )
        )
        segments = [
            {"start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text}
            for s in call.segments
        ]
        added = connection.execute(
            insert_for(connection, TranscriptRow)
            .values(
                call_id=call.call_id,
                content_hash=content_hash,
                source=call.source,
                segments=segments,
                talking_at_end=None if call.talking_at_end is None else list(call.talking_at_end),
                revisit_of=call.revisit_of,
                heard_by=call.heard_by,
            )
            .on_conflict_do_nothing(index_elements=["call_id", "content_hash"])
            .returning(TranscriptRow.id)
        ).scalar_one_or_none()
        if added is not None:  # a new latest transcript: search reads it from now on
            index_transcript(connection, call.call_id, segments, roles)


def _role_names(result: CallResult) -> dict[str, str]:
    """The verdict's speaker-to-role mapping (diarized labels to agent and customer)."""
    return dict(result.verdict.roles.mapping) if result.verdict is not None else {}


def _finding_values(finding: Finding, verdict_id: int) -> dict[str, Any]:
    evidence = [dataclasses.asdict(e) for e in finding.evidence]
    return {"verdict_id": verdict_id, "kind": finding.kind, "code": finding.code,
            "reason": finding.reason, "evidence": evidence}  # fmt: skip


def stored_calls(engine: Engine) -> Iterator[tuple[Call, str]]:
    """Every stored call with its latest transcript (rebuilt for re-judging) and that
    transcript's content hash."""
    from qa_pipeline.ingest.model import Segment

    with Session(engine) as session:
        latest = _latest_transcripts()
        query = (
            select(CallRow, TranscriptRow)
            .join(latest, latest.c.call_id == CallRow.call_id)
            .join(TranscriptRow, TranscriptRow.id == latest.c.id)
            .order_by(CallRow.call_id)
        )
        for call, transcript in session.execute(query):
            segments = tuple(Segment(**s) for s in transcript.segments)
            ended = transcript.talking_at_end
            rebuilt = Call(
                call.call_id, call.campaign, call.language, call.agent_id, call.team,
                call.customer_number, datetime.fromisoformat(call.started_local), call.duration_s,
                call.hangup_by, segments, transcript.source,  # type: ignore[arg-type]
                transcript.revisit_of, None if ended is None else tuple(ended),
                transcript.heard_by,
            )  # fmt: skip
            yield rebuilt, transcript.content_hash


def _latest_transcripts() -> Any:
    """Each stored call's latest transcript id (what `stored_calls` rebuilds and re-judges)."""
    return (
        select(TranscriptRow.call_id, func.max(TranscriptRow.id).label("id"))
        .group_by(TranscriptRow.call_id)
        .subquery()
    )


@dataclass(frozen=True)
class RejudgeBacklog:
    calls: int  # stored calls with a transcript
    pending: int  # of those, with no verdict under the rules version: `rejudge` would judge them


def rejudge_backlog(engine: Engine, rules_version: str) -> RejudgeBacklog:
    """How many stored calls a `rejudge` under `rules_version` would judge, counted in SQL (no
    transcript is loaded): the same test as `rejudge`, a verdict for the latest transcript's
    content hash under that version."""
    latest = _latest_transcripts()
    transcripts = (
        select(TranscriptRow.content_hash)
        .join(latest, TranscriptRow.id == latest.c.id)
        .join(CallRow, CallRow.call_id == latest.c.call_id)
        .subquery()
    )
    judged = exists().where(
        VerdictRow.content_hash == transcripts.c.content_hash,
        VerdictRow.rules_version == rules_version,
    )
    with engine.connect() as connection:
        calls = connection.scalar(select(func.count()).select_from(transcripts))
        pending = connection.scalar(select(func.count()).select_from(transcripts).where(~judged))
    return RejudgeBacklog(int(calls or 0), int(pending or 0))
