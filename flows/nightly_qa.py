"""The nightly QA flow: the day's batch, judged in chunks, persisted, scorecards rebuilt,
callbacks created, and a summary published as Prefect artifacts.

    python -m flows.nightly_qa --input-root /data/calls [--date 2026-11-20] [--db URL]
        [--rules rules/] [--chunk-size 500] [--dask-address tcp://host:8786 | --dask-local N]

The batch of a day is the folder INPUT_ROOT/YYYY-MM-DD. Each chunk is one Prefect task running
the same code path as `qa-pipeline run` (`qa_pipeline.pipeline.judge_paths`): per-task overhead is
real, so a task judges hundreds of calls, not one. Only I/O steps retry; judging is idempotent
(verdicts are keyed by call, content hash and rules version), so a retried or re-run chunk adds
nothing twice.
"""

from __future__ import annotations

import argparse
import json
import shutil
from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.concurrency.sync import concurrency

from qa_pipeline.asr.whisper import AsrOptions
from qa_pipeline.callbacks.lists import read_do_not_call
from qa_pipeline.errors import InputDirError
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.recordings import RecordingCall, Source
from qa_pipeline.pipeline import judge_paths, touched_dates
from qa_pipeline.ruleset.loader import load_ruleset_cached
from qa_pipeline.scorecards.frame import load_frame
from qa_pipeline.scorecards.persist import rebuild
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.transcript.from_recording import Listener

CENTER_TZ = ZoneInfo("Asia/Shanghai")
ASR_LIMIT = "asr"


def yesterday() -> str:
    return (datetime.now(CENTER_TZ) - timedelta(days=1)).date().isoformat()


@task(retries=2, retry_delay_seconds=10)  # listing a network share can fail for a moment
def discover_batch(input_root: str, day: str) -> list[Source]:
    folder = Path(input_root) / day
    if not folder.is_dir():
        raise InputDirError(str(folder), f"no batch folder for {day} under {input_root}")
    return discover(folder)


# Database, file I/O and model loading (the model loads inside, on the first recording);
# judging is idempotent, so a retry is safe.
@task(retries=2, retry_delay_seconds=10)
def judge_chunk(
    sources: list[Source],
    results_path: str,
    rules_dir: str | None,
    db_url: str | None,
    dnc: str | None,
    asr_model: str | None = None,
    diarization: str | None = None,
) -> dict[str, Any]:
    ruleset = load_ruleset_cached(Path(rules_dir) if rules_dir else None)
    store = Store(connect(db_url))
    do_not_call = read_do_not_call(Path(dnc)) if dnc else frozenset()
    listener = Listener(ruleset, AsrOptions(model=asr_model), diarization=diarization)
    hearing = any(isinstance(s, RecordingCall) for s in sources)
    # A chunk with recordings takes a slot of the "asr" global concurrency limit (create it
    # with `prefect gcl create asr --limit N`, N = GPUs); transcript-only chunks never wait.
    with concurrency(ASR_LIMIT, occupy=1) if hearing else nullcontext():
        summary = judge_paths(
            sources, Path(results_path), ruleset, store=store, do_not_call=do_not_call,
            listener=listener,
        )  # fmt: skip
    return {"results": str(summary.results_path), "calls": summary.calls, "failed": summary.failed,
            "outcomes": summary.outcomes}  # fmt: skip


@task
def rebuild_scorecards(db_url: str | None, results: list[str]) -> int:
    dates: set[str] = set()
    for path in results:
        dates |= touched_dates(Path(path))
    engine = connect(db_url)
    return rebuild(engine, load_frame(engine), dates)


def _flag(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "call_id": row["call_id"], "agent": row.get("agent_id"), "team": row.get("team"),
        "outcome": row.get("outcome"), "valid_sale": row.get("valid_sale"),
        "forbidden": len(row.get("forbidden_phrases") or []), "error": row.get("error"),
    }  # fmt: skip


def _is_flagged(row: dict[str, Any]) -> bool:
    return (
        row["status"] == "failed"
        or row.get("valid_sale") is False
        or bool(row.get("forbidden_phrases"))
    )


@task
def publish(day: str, results_path: str, scorecard_rows: int, table_rows: int = 200) -> str:
    """Summary and flagged-calls artifacts, reading the results once as a stream (memory stays
    flat however many calls the night had)."""
    calls = failed = sales = valid = 0
    failures: dict[str, int] = {}
    flagged: list[dict[str, Any]] = []
    with Path(results_path).open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            calls += 1
            failed += row["status"] == "failed"
            if row.get("outcome") == "sale":
                sales += 1
                valid += bool(row.get("valid_sale"))
                for name, node in (row.get("criteria") or {}).items():
                    failures[name] = failures.get(name, 0) + (node.get("passed") is False)
            if _is_flagged(row) and len(flagged) < table_rows:
                flagged.append(_flag(row))
    lines = [
        f"# Nightly QA {day}",
        "",
        f"- calls: {calls} ({failed} failed to process)",
        f"- sales: {sales}, valid: {valid} ({valid / sales:.0%} valid)" if sales else "- sales: 0",
        *(f"- {name} failed on {count} sales" for name, count in failures.items()),
        f"- scorecard rows rebuilt: {scorecard_rows}",
        f"- flagged calls (first {table_rows}): see the nightly-qa-flagged table",
    ]
    markdown = "\n".join(lines)
    create_markdown_artifact(markdown, key="nightly-qa-summary", description=f"QA summary {day}")
    create_table_artifact(flagged or [{"call_id": "none flagged"}], key="nightly-qa-flagged",
                          description=f"flagged calls {day}")  # fmt: skip
    return markdown


@flow(name="nightly-qa", log_prints=True)
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
) -> dict[str, Any]:
    day = date or yesterday()
    logger = get_run_logger()
    paths = discover_batch(input_root, day)
    chunks = [paths[i : i + chunk_size] for i in range(0, len(paths), chunk_size)]
    out = Path(out_root) / day
    chunk_files = [str(out / "chunks" / f"chunk-{n:04d}.jsonl") for n in range(len(chunks))]
    futures = judge_chunk.map(
        chunks, chunk_files, unmapped(rules_dir), unmapped(db_url), unmapped(do_not_call),
        unmapped(asr_model), unmapped(diarization),
    )  # fmt: skip
    summaries = [f.result() for f in futures]
    merged = out / "results.jsonl"
    with merged.open("w", encoding="utf-8") as target:
        for path in chunk_files:
            with Path(path).open(encoding="utf-8") as chunk:
                shutil.copyfileobj(chunk, target)
    cards = rebuild_scorecards(db_url, chunk_files)
    publish(day, str(merged), cards)
    calls = sum(s["calls"] for s in summaries)
    failed = sum(s["failed"] for s in summaries)
    logger.info(
        "%s: %d calls in %d chunks, %d failed -> %s", day, calls, len(chunks), failed, merged
    )
    return {
        "date": day,
        "calls": calls,
        "failed": failed,
        "chunks": len(chunks),
        "results": str(merged),
    }


def with_dask(address: str | None, local_workers: int | None) -> Any:
    """The flow on a Dask cluster (an address, or a local cluster of N processes)."""
    try:
        from prefect_dask.task_runners import DaskTaskRunner
    except ImportError as exc:
        raise SystemExit(
            "the Dask task runner needs the extra: pip install 'qa-pipeline[dask]'"
        ) from exc
    runner: Any = DaskTaskRunner(address=address) if address else DaskTaskRunner(
        cluster_kwargs={"n_workers": local_workers, "threads_per_worker": 1}
    )  # fmt: skip
    return nightly_qa.with_options(task_runner=runner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-root", required=True)
    parser.add_argument("--date", help="YYYY-MM-DD (default: yesterday in Asia/Shanghai)")
    parser.add_argument("--rules")
    parser.add_argument("--db")
    parser.add_argument("--out-root", default="out/nightly")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--do-not-call")
    parser.add_argument("--asr-model", help="Whisper model name or folder for recordings")
    parser.add_argument("--diarization", help="pyannote pipeline for mono recordings")
    parser.add_argument("--dask-address", help="tcp://scheduler:8786")
    parser.add_argument("--dask-local", type=int, help="start a local Dask cluster of N workers")
    args = parser.parse_args()
    run = nightly_qa
    if args.dask_address or args.dask_local:
        run = with_dask(args.dask_address, args.dask_local)
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
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
