"""Run a batch: discover call files, judge each, write results.jsonl.

Steps report through `hook(step, artifact)` (pyannote-style) so progress bars, timing and
debugging plug in without touching the pipeline. A bad call never stops the batch: every input
becomes exactly one row, a failed one with its reason when it cannot be judged, stored or
written. Results are written to a per-run temporary file and renamed at the end (batch/output.py),
so an interrupted run leaves the previous results intact.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from qa_pipeline.batch.budget import BudgetedJudge, Judged, judged
from qa_pipeline.batch.limits import DEFAULT_CALL_BUDGET_S
from qa_pipeline.batch.output import results_writer
from qa_pipeline.callbacks.plan import plan_tasks
from qa_pipeline.errors import QAPipelineError
from qa_pipeline.hearing.listener import Heard, Listener
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.call_file import content_hash, parse_bytes, read_bytes
from qa_pipeline.ingest.limits import printable, row_call_id
from qa_pipeline.ingest.model import Call
from qa_pipeline.ingest.recordings import RecordingCall, Source, call_metadata, recording_hash
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.understand import configured_reader
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.storage.repository import Store, stored_calls
from qa_pipeline.verdict.model import CallResult, CallVerdict
from qa_pipeline.verdict.serialize import read_results, to_json

Hook = Callable[[str, object], None]
Judging = Callable[[Call], Judged]  # judge.judge within the batch's time budget, or without

GROUP_CALLS = 16  # recordings heard together, their speech packed into shared windows
GROUP_BYTES = 64 * 2**20  # and at most this much recording file: bounds the audio held


def _no_hook(step: str, artifact: object) -> None:
    return None


@dataclass(frozen=True)
class BatchSummary:
    results_path: Path
    calls: int
    failed: int
    outcomes: dict[str, int]


def _judge_file(
    judging: Judging, version: str, path: Path, data: bytes, hook: Hook
) -> tuple[CallResult, Call | None]:
    """Parse and judge one file's bytes; every failure is a failed result, never a raise."""
    source = printable(str(path))
    try:
        call = parse_bytes(data, source)
        hook("load", call)
    except QAPipelineError as exc:
        return CallResult(row_call_id(path.stem), "failed", exc.message, source, version), None
    return _judge_call(judging, version, call)


def _judge_call(judging: Judging, version: str, call: Call) -> tuple[CallResult, Call]:
    outcome = judging(call)
    if isinstance(outcome, str):
        return _result(call, version, outcome, None), call
    return _result(call, version, None, outcome), call


@contextmanager
def _judging(judge: Judge, store: Store | None, budget_s: float | None) -> Iterator[Judging]:
    """How a batch judges a call: in a worker process within `budget_s` seconds, or (None or
    0) in this process without a limit."""
    if not budget_s:
        yield functools.partial(judged, judge)
        return
    worker = BudgetedJudge(judge, budget_s, store)
    try:
        yield worker
    finally:
        worker.close()


def _result(call: Call, version: str, error: str | None, verdict: CallVerdict | None) -> CallResult:
    if error and call.source and not error.startswith(call.source):
        error = f"{call.source}: {error}"  # every failed row names its file
    return CallResult(
        call_id=call.call_id,
        status="failed" if error else "ok",
        error=error,
        source=call.source,
        rules_version=version,
        campaign=call.campaign,
        language=call.language,
        agent_id=call.agent_id,
        team=call.team,
        customer_number=call.customer_number,
        started_at=call.started_at.isoformat(),
        revisit_of=call.revisit_of,
        verdict=verdict,
    )


def _store(
    store: Store,
    ruleset: Ruleset,
    result: CallResult,
    digest: str,
    call: Call | None,
    do_not_call: Collection[str],
) -> bool:
    """Save a fresh result with the callbacks it needs, in one transaction."""
    campaign = ruleset.campaigns.get(result.campaign or "")
    planned = plan_tasks(result, campaign, ruleset.tasks, datetime.now(UTC), do_not_call)
    return store.save(result, digest, call, planned)


def _flag_do_not_call(result: CallResult, do_not_call: Collection[str]) -> CallResult:
    if result.customer_number in do_not_call:
        return result.flagged("do_not_call")
    return result


@dataclass
class _Batch:
    """What every call of one batch is judged with, and the call ids seen so far."""

    judge: Judge
    judging: Judging
    store: Store | None
    hook: Hook
    do_not_call: Collection[str]
    listener: Listener | None
    seen: dict[str, str] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.judge.version

    def reused(self, digest: str, source: str) -> CallResult | None:
        """The stored result of this content under these rules, unless its call id is taken."""
        stored = self.store.stored_result(digest, self.version) if self.store else None
        if stored is not None and stored.call_id not in self.seen:
            self.seen[stored.call_id] = source
            self.hook("reuse", stored)
            return stored
        return None

    def failed(self, call_id: str, error: str, source: str, digest: str) -> CallResult:
        source = printable(source)
        failed = CallResult(row_call_id(call_id), "failed", printable(error), source, self.version)
        return self.finish(failed, None, digest)

    def finish(
        self, result: CallResult, call: Call | None, digest: str, flags: Sequence[str] = ()
    ) -> CallResult:
        """A fresh result: duplicate ids refused, flags added, checked writable, stored."""
        if result.call_id in self.seen:
            error = f"{result.source}: duplicate call_id: also in {self.seen[result.call_id]}"
            result = CallResult(result.call_id, "failed", error, result.source, self.version)
            call = None
        try:
            to_json(result)  # what cannot be written must not be stored: reruns would stop here
        except ValueError as exc:
            error = f"{result.source}: the verdict cannot be written as JSON: {exc}"
            result = CallResult(result.call_id, "failed", error, result.source, self.version)
            call = None
        self.seen.setdefault(result.call_id, result.source)
        self.hook("judge", result)
        result = _flag_do_not_call(result, self.do_not_call).flagged(*flags)
        if self.store is not None:
            _store(self.store, self.judge.ruleset, result, digest, call, self.do_not_call)
        return result


def _file_result(batch: _Batch, item: Path) -> CallResult:
    """A transcript file's result: reused from the store when this content was judged under
    these rules, else judged now (and stored)."""
    try:
        data = read_bytes(item)  # read and hashed once, for the lookup and the judging
    except QAPipelineError as exc:
        return batch.failed(item.stem, exc.message, str(item), "")
    digest = content_hash(data)
    reused = batch.reused(digest, str(item))
    if reused is not None:
        return reused
    result, call = _judge_file(batch.judging, batch.version, item, data, batch.hook)
    return batch.finish(result, call, digest)


def _blocks(paths: Sequence[Source]) -> Iterator[Path | list[RecordingCall]]:
    """Transcript files one at a time; consecutive recordings in groups heard together (their
    speech shares encoder windows), bounded so the decoded audio held stays small."""
    group: list[RecordingCall] = []
    size = 0
    for item in paths:
        if not isinstance(item, RecordingCall):
            if group:
                yield group
                group, size = [], 0
            yield item
            continue
        group.append(item)
        size += _file_bytes(item)
        if len(group) >= GROUP_CALLS or size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _file_bytes(item: RecordingCall) -> int:
    return sum(leg.stat().st_size for leg in item.legs if leg.is_file())


def _block_results(batch: _Batch, block: Path | list[RecordingCall]) -> list[CallResult]:
    if isinstance(block, Path):
        return [_file_result(batch, block)]
    return _recording_results(batch, block)


def _recording_results(batch: _Batch, items: Sequence[RecordingCall]) -> list[CallResult]:
    """Results of a group of recordings: stored ones reused, the rest heard together and
    judged; a failure anywhere is that call's failed result."""
    listener = batch.listener
    assert listener is not None, "judge_paths makes a listener for any batch with recordings"
    known = [_known_recording(batch, listener, item) for item in items]
    to_hear = [item for item, (_, done) in zip(items, known, strict=True) if done is None]
    heard = iter(listener.hear_group(to_hear))
    return [
        done if done is not None else _heard_result(batch, item, digest, next(heard))
        for item, (digest, done) in zip(items, known, strict=True)
    ]


def _known_recording(
    batch: _Batch, listener: Listener, item: RecordingCall
) -> tuple[str, CallResult | None]:
    """The recording's digest and, when no hearing is needed, its result (reused or failed)."""
    try:
        fingerprint = recording_hash(item) + "|asr:" + listener.asr_fingerprint()
    except OSError as exc:
        return "", batch.failed(item.call_id, f"{item.source}: {exc}", item.source, "")
    digest = content_hash(fingerprint.encode())
    return digest, batch.reused(digest, item.source)


def _heard_result(
    batch: _Batch, item: RecordingCall, digest: str, heard: Heard | Exception
) -> CallResult:
    if isinstance(heard, QAPipelineError):
        return _failed_recording(batch, item, heard.message, digest)
    if isinstance(heard, Exception):  # a bug or a model crash must not cost the batch
        error = f"internal error while hearing: {heard.__class__.__name__}: {heard}"
        return _failed_recording(batch, item, error, digest)
    batch.hook("hear", heard)
    result, call = _judge_call(batch.judging, batch.version, heard.call)
    roles = result.verdict.roles.mapping if result.verdict is not None else {}
    result = dataclasses.replace(
        result,
        asr=heard.asr,
        audio=heard.audio.with_roles(roles),
        recordings=heard.recordings,
        input_warnings=heard.warnings,
    ).with_suspects(heard.suspects)
    return batch.finish(result, call, digest, heard.review_flags)


def _failed_recording(batch: _Batch, item: RecordingCall, error: str, digest: str) -> CallResult:
    """A recording that could not be heard, still with its sidecar's and CDR's fields
    (campaign, agent, team...) when they can be read, so it counts where it belongs."""
    languages = {cid: c.language for cid, c in batch.judge.ruleset.campaigns.items()}
    try:
        call, _ = call_metadata(item, 0.0, languages)
    except QAPipelineError:
        return batch.failed(item.call_id, error, item.source, digest)
    failed = dataclasses.replace(_result(call, batch.version, error, None), source=item.source)
    return batch.finish(failed, None, digest)


def run_batch(
    input_dir: Path,
    out_dir: Path,
    ruleset: Ruleset,
    hook: Hook = _no_hook,
    store: Store | None = None,
    do_not_call: Collection[str] = frozenset(),
    listener: Listener | None = None,
    *,
    understand: bool = True,
    call_budget_s: float | None = DEFAULT_CALL_BUDGET_S,
) -> BatchSummary:
    paths = discover(input_dir)
    hook("discover", paths)
    return judge_paths(
        paths, out_dir / "results.jsonl", ruleset, hook, store, do_not_call, listener,
        understand=understand, call_budget_s=call_budget_s,
    )  # fmt: skip


def judging_version(ruleset: Ruleset, understand: bool = True) -> str:
    """The version a batch's verdicts are stored under: the rules', and the model's when the
    understanding stage reads the calls (what `rejudge` and `rules check --db` compare)."""
    return Judge(ruleset, reader=configured_reader(ruleset) if understand else None).version


@contextmanager
def _batch_judge(
    ruleset: Ruleset, hook: Hook, store: Store | None, understand: bool
) -> Iterator[Judge]:
    """The judge of a batch: with the configured understanding stage unless told not to, its
    sentence encodings kept in the store beside the transcripts (a rejudge encodes nothing).
    The process shares one reader per rule set: the store is unbound when the batch ends, so
    a later batch (another database, or none) never writes into this one's."""
    reader = configured_reader(ruleset) if understand else None
    if reader is not None:
        reader.bind_store(store.encodings() if store is not None else None)
    try:
        yield Judge(ruleset, hook, reader)
    finally:
        if reader is not None:
            reader.bind_store(None)


def judge_paths(
    paths: Sequence[Source],
    results_path: Path,
    ruleset: Ruleset,
    hook: Hook = _no_hook,
    store: Store | None = None,
    do_not_call: Collection[str] = frozenset(),
    listener: Listener | None = None,
    *,
    understand: bool = True,
    call_budget_s: float | None = DEFAULT_CALL_BUDGET_S,
) -> BatchSummary:
    """Judge `paths` (transcript files and recording calls) into `results_path` (and the
    store): the one code path behind `qa-pipeline run` and each chunk of the nightly flow.
    `listener` hears recordings (its models load on the first recording); `understand`: judge
    with the understanding model models.yaml configures (else with the rules alone);
    `call_budget_s`: the time one call may take to judge (None or 0: no limit)."""
    if listener is None and any(isinstance(p, RecordingCall) for p in paths):
        listener = Listener(ruleset, hook=hook)  # one per batch: models load once
    outcomes: Counter[str] = Counter()
    failed = 0
    with (
        _batch_judge(ruleset, hook, store, understand) as judge,
        results_writer(results_path) as out,
        _judging(judge, store, call_budget_s) as judging,
    ):
        batch = _Batch(judge, judging, store, hook, do_not_call, listener)
        for block in _blocks(paths):
            for result in _block_results(batch, block):
                failed += not result.ok
                if result.outcome:
                    outcomes[result.outcome] += 1
                out.write(to_json(result) + "\n")
    hook("write", results_path)
    return BatchSummary(results_path, len(paths), failed, dict(outcomes))


@dataclass(frozen=True)
class RejudgeSummary:
    calls: int
    judged: int
    already: int


def rejudge(
    ruleset: Ruleset,
    store: Store,
    hook: Hook = _no_hook,
    do_not_call: Collection[str] = frozenset(),
    *,
    understand: bool = True,
    call_budget_s: float | None = DEFAULT_CALL_BUDGET_S,
) -> RejudgeSummary:
    """Judge every stored transcript under `ruleset` (and the understanding model); verdicts
    under other versions stay."""
    calls = fresh = 0
    with (
        _batch_judge(ruleset, hook, store, understand) as judge,
        _judging(judge, store, call_budget_s) as judging,
    ):
        for call, digest in stored_calls(store.engine):
            calls += 1
            if store.stored_result(digest, judge.version) is not None:
                continue
            result, _ = _judge_call(judging, judge.version, call)
            hook("judge", result)
            result = _flag_do_not_call(result, do_not_call)
            fresh += _store(store, ruleset, result, digest, call, do_not_call)
    return RejudgeSummary(calls, fresh, calls - fresh)


def touched_dates(results_path: Path) -> set[str]:
    """The local call dates in a results file: the scorecard periods a run changed."""
    return {r.started_at[:10] for r in read_results(results_path) if r.started_at}
