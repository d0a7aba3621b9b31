"""The nightly QA flow: the day's batch, judged in chunks, persisted, scorecards rebuilt,
callbacks created, and a summary published as Prefect artifacts.

    python -m flows.nightly_qa --input-root /data/calls [--date 2026-11-20] [--db URL]
        [--rules rules/] [--chunk-size 500] [--do-not-call FILE] [--workbench-url URL]
        [--dask-address tcp://host:8786 | --dask-local N] [--asr-resource asr]
        [--chunk-hook package.module:function]

Scheduled runs import this module afresh: with QA_PIPELINE_DASK_ADDRESS set in their
environment they run on that Dask scheduler.

The batch of a day is the folder INPUT_ROOT/YYYY-MM-DD. Each chunk is one Prefect task running
the same code path as `qa-pipeline run` (`qa_pipeline.batch.run.judge_paths`): per-task overhead is
real, so a task judges hundreds of calls, not one. Only I/O steps retry; judging is idempotent
(verdicts are keyed by call, content hash and rules version), so a retried or re-run chunk adds
nothing twice. Recordings and transcript files go in chunks of their own, so a chunk that hears
can ask Dask for an ASR worker (`--asr-resource`) and the others run anywhere. A chunk is a
list of paths and returns a digest: workers read the files from shared storage and write rows
to the database and the chunk's results file, nothing bulky passes through the scheduler. A
chunk digests its own results as it finishes (dates touched, counts, flagged
calls), so the scorecard rebuild and the summary never read the results again; task results
stay in memory (nothing here is worth persisting: a re-run recomputes from the database).
The do-not-call list is `run`'s: --do-not-call, else DATA_DIR/do-not-call.txt when it exists.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.exceptions import MissingContextError
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.dask_runner import needing, runner
from qa_pipeline.asr.whisper import AsrOptions
from qa_pipeline.batch.hooks import load_hook
from qa_pipeline.batch.limits import DEFAULT_CALL_BUDGET_S
from qa_pipeline.batch.output import leftover_partials
from qa_pipeline.batch.run import judge_paths
from qa_pipeline.errors import InputDirError
from qa_pipeline.hearing.listener import Listener
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.recordings import RecordingCall, Source
from qa_pipeline.judging.judge import load_rules_cached
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage.db import Engine, connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.tasks.lists import do_not_call_list
from qa_pipeline.verdict.digest import Digest, call_link, digest, markdown, merge

CENTER_TZ = ZoneInfo("Asia/Shanghai")
ASR_LIMIT = "asr"


def yesterday() -> str:
    return (datetime.now(CENTER_TZ) - timedelta(days=1)).date().isoformat()


@dataclass(frozen=True)
class ChunkResult:
    """A judged chunk: where its rows are, and what the rest of the flow needs of them."""

    results: str
    outcomes: dict[str, int]
    digest: Digest

    @property
    def calls(self) -> int:
        return self.digest.calls

    @property
    def failed(self) -> int:
        return self.digest.failed


# Results live in memory only: persisting them would write every chunk's digest to storage for
# nothing (a re-run recomputes from the database), and persistence off also skips hashing the
# inputs for a cache key.
@task(retries=2, retry_delay_seconds=10, persist_result=False)  # a network share can blink
def discover_batch(input_root: str, day: str) -> list[Source]:
    folder = Path(input_root) / day
    if not folder.is_dir():
        raise InputDirError(str(folder), f"no batch folder for {day} under {input_root}")
    return discover(folder)


def hears(sources: Sequence[Source]) -> bool:
    return any(isinstance(s, RecordingCall) for s in sources)


def plan_chunks(paths: Sequence[Source], size: int) -> list[list[Source]]:
    """Chunks of at most `size`: recordings first (they take longest, so they start first),
    then transcript files, never mixed (a transcript chunk needs no ASR worker)."""
    recordings: list[Source] = [p for p in paths if isinstance(p, RecordingCall)]
    transcripts: list[Source] = [p for p in paths if not isinstance(p, RecordingCall)]
    return [
        kind[i : i + size] for kind in (recordings, transcripts) for i in range(0, len(kind), size)
    ]


def _no_hook(step: str, artifact: object) -> None:
    return None


@contextmanager
def _database(db_url: str | None) -> Iterator[Engine]:
    """The database for one task, its pooled connections closed when the task ends: a worker
    runs chunk after chunk, and each chunk's would otherwise stay open until garbage-collected."""
    engine = connect(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The run's logger (its lines reach the Prefect server), or a plain one for a chunk
    called outside a flow run (`judge_chunk.fn`)."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def _announce(sources: Sequence[Source], results: Path) -> None:
    """Say where the chunk runs; when an earlier attempt of it left its partial results file
    behind (its worker was killed or lost mid-chunk, and Dask handed the chunk to another),
    say that too: the retry is otherwise invisible to Prefect, which sees one task run."""
    logger = _logger()
    where = f"{socket.gethostname()} pid {os.getpid()}"
    leftovers = leftover_partials(results)
    if leftovers:
        partial = leftovers[0]
        logger.warning(
            "%s: an earlier attempt stopped midway (%s is on disk: it failed, or its worker "
            "was killed or lost); judging the chunk again on %s, reusing the calls it stored",
            results.stem, partial.name, where,
        )  # fmt: skip
    else:
        logger.info("%s: %d calls on %s", results.stem, len(sources), where)


# Database, file I/O and model loading (the model loads inside, on the first recording, once
# per worker process); judging is idempotent, so a retry is safe.
@task(retries=2, retry_delay_seconds=10, persist_result=False)
def judge_chunk(
    sources: list[Source],
    results_path: str,
    rules_dir: str | None,
    db_url: str | None,
    dnc: str | None,
    asr_model: str | None = None,
    diarization: str | None = None,
    call_budget_s: float = DEFAULT_CALL_BUDGET_S,
    hook: str | None = None,
    asr_threads: int = 0,
) -> ChunkResult:
    _announce(sources, Path(results_path))
    report = load_hook(hook) if hook else _no_hook
    ruleset = load_rules_cached(Path(rules_dir) if rules_dir else None)
    do_not_call = do_not_call_list(Path(dnc) if dnc else None)  # as `qa-pipeline run` reads it
    asr = AsrOptions(model=asr_model, cpu_threads=asr_threads)
    listener = Listener(ruleset, asr, diarization=diarization, hook=report)
    # A chunk with recordings takes a slot of the "asr" global concurrency limit (create it
    # with `prefect gcl create asr --limit N`, N = GPUs); transcript-only chunks never wait.
    with (
        _database(db_url) as engine,
        concurrency(ASR_LIMIT, occupy=1) if hears(sources) else nullcontext(),
    ):
        summary = judge_paths(
            sources, Path(results_path), ruleset, report, Store(engine), do_not_call, listener,
            call_budget_s=call_budget_s,
        )  # fmt: skip
    # Read back once here, while the file is warm in the page cache, instead of once for the
    # scorecard dates and once more for the summary.
    return ChunkResult(str(summary.results_path), summary.outcomes, digest(summary.results_path))


@task(persist_result=False)
def rebuild_scorecards(db_url: str | None, dates: list[str]) -> int:
    with _database(db_url) as engine:
        return rebuild(engine, dates)


@task(persist_result=False)
def publish(day: str, night: Digest, scorecard_rows: int, workbench_url: str | None = None) -> str:
    """Summary and flagged-calls artifacts from the chunks' merged digest: each flagged call
    with why and a link to its workbench page (under `workbench_url` when given)."""
    summary = markdown(day, night, scorecard_rows, workbench_url=workbench_url)
    create_markdown_artifact(summary, key="nightly-qa-summary", description=f"QA summary {day}")
    rows = [
        dataclasses.asdict(row) | {"link": call_link(row.call_id, workbench_url)}
        for row in night.flagged
    ]
    create_table_artifact(
        rows or [{"call_id": "none flagged"}],
        key="nightly-qa-flagged",
        description=f"flagged calls {day}",
    )
    return summary


def _concatenate(parts: list[str], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)  # an empty day has no chunk folder
    with target.open("w", encoding="utf-8") as out:
        for path in parts:
            with Path(path).open(encoding="utf-8") as chunk:
                shutil.copyfileobj(chunk, out)


# Chunks run one after another unless a Dask runner is given (`with_dask`): on one machine the
# judging is CPU-bound under one GIL and SQLite takes one writer at a time, so chunks in
# parallel threads only contend. (The cast: Prefect types TaskRunner as invariant.)
IN_SEQUENCE = cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=1))
# A deployment's runs load this module afresh (`flows.deploy`, `prefect deploy`), so a runner
# given in code does not reach them: the environment of the process that runs them does.
DASK_ADDRESS = "QA_PIPELINE_DASK_ADDRESS"


def default_runner() -> Any:
    """On the Dask scheduler at $QA_PIPELINE_DASK_ADDRESS, else one chunk after another."""
    address = os.environ.get(DASK_ADDRESS)
    return runner(address, None, None) if address else IN_SEQUENCE


@flow(name="nightly-qa", log_prints=True, task_runner=default_runner())
def nightly_qa(
    input_root: str,
    date: str | None = None,
    rules_dir: str | None = None,
    db_url: str | None = None,
    out_root: str = "out/nightly",
    chunk_size: int = 500,
    do_not_call: str | None = None,
    asr_model: str | None = None,
    diarization: str | None = None,
    call_budget_s: float = DEFAULT_CALL_BUDGET_S,
    workbench_url: str | None = None,
    asr_resource: str | None = None,
    chunk_hook: str | None = None,
    asr_threads: int = 0,
) -> dict[str, Any]:
    """`do_not_call`: a file (default: DATA_DIR/do-not-call.txt when it exists, as for
    `qa-pipeline run`); `workbench_url`: the review workbench's address, for the artifacts'
    links to each flagged call; `asr_resource`: the Dask worker resource a chunk that hears
    recordings needs (workers started with `--resources asr=1`); `chunk_hook`:
    `package.module:function` each chunk reports its steps to; `asr_threads`: the threads each
    process decodes with on CPU (0: CTranslate2's own choice, which follows OMP_NUM_THREADS,
    and Dask's nannies set that to 1)."""
    day = date or yesterday()
    logger = get_run_logger()
    paths = discover_batch(input_root, day)
    chunks = plan_chunks(paths, chunk_size)
    out = Path(out_root) / day
    chunk_files = [str(out / "chunks" / f"chunk-{n:04d}.jsonl") for n in range(len(chunks))]
    futures = []
    for chunk, chunk_file in zip(chunks, chunk_files, strict=True):
        arguments = (rules_dir, db_url, do_not_call, asr_model, diarization)
        with needing(asr_resource if hears(chunk) else None):
            futures.append(
                judge_chunk.submit(
                    chunk,
                    chunk_file,
                    *arguments,
                    call_budget_s=call_budget_s,
                    hook=chunk_hook,
                    asr_threads=asr_threads,
                )
            )
    judged = [f.result() for f in futures]
    merged = out / "results.jsonl"
    _concatenate(chunk_files, merged)
    night = merge(c.digest for c in judged)
    cards = rebuild_scorecards(db_url, sorted(night.dates))
    publish(day, night, cards, workbench_url)
    logger.info(
        "%s: %d calls in %d chunks, %d failed -> %s",
        day, night.calls, len(chunks), night.failed, merged,
    )  # fmt: skip
    return {
        "date": day,
        "calls": night.calls,
        "failed": night.failed,
        "chunks": len(chunks),
        "results": str(merged),
    }


def with_dask(
    address: str | None, local_workers: int | None, asr_resource: str | None = None
) -> Any:
    """The flow on a Dask cluster (an address, or a local cluster of N processes)."""
    return nightly_qa.with_options(task_runner=runner(address, local_workers, asr_resource))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-root", required=True)
    parser.add_argument("--date", help="YYYY-MM-DD (default: yesterday in Asia/Shanghai)")
    parser.add_argument("--rules")
    parser.add_argument("--db")
    parser.add_argument("--out-root", default="out/nightly")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--do-not-call", help="default: DATA_DIR/do-not-call.txt, as for run")
    parser.add_argument("--workbench-url", help="e.g. https://qa.example:8000, for the links")
    parser.add_argument("--asr-model", help="Whisper model name or folder for recordings")
    parser.add_argument("--diarization", help="pyannote pipeline for mono recordings")
    parser.add_argument(
        "--asr-threads", type=int, default=0,
        help="threads each process decodes with on CPU (default 0: CTranslate2's own choice)",
    )  # fmt: skip
    parser.add_argument("--dask-address", help="tcp://scheduler:8786")
    parser.add_argument("--dask-local", type=int, help="start a local Dask cluster of N workers")
    parser.add_argument(
        "--asr-resource", help="Dask worker resource a chunk with recordings needs, e.g. asr"
    )
    parser.add_argument("--chunk-hook", help="package.module:function each chunk reports to")
    parser.add_argument(
        "--call-budget", type=float, default=DEFAULT_CALL_BUDGET_S,
        help=f"seconds a call may take to judge (default {DEFAULT_CALL_BUDGET_S:g}; 0: no limit)",
    )  # fmt: skip
    args = parser.parse_args()
    run = nightly_qa
    if args.dask_address or args.dask_local:
        run = with_dask(args.dask_address, args.dask_local, args.asr_resource)
    result = run(
        args.input_root,
        args.date,
        args.rules,
        args.db,
        args.out_root,
        args.chunk_size,
        args.do_not_call,
        args.asr_model,
        args.diarization,
        call_budget_s=args.call_budget,
        workbench_url=args.workbench_url,
        asr_resource=args.asr_resource,
        chunk_hook=args.chunk_hook,
        asr_threads=args.asr_threads,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
