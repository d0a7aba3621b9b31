"""Run a batch: discover call files, judge each, write results.jsonl.

Steps report through `hook(step, artifact)` (pyannote-style) so progress bars, timing and
debugging plug in without touching the pipeline. A bad call never stops the batch: it becomes a
failed row with its reason. Results are written to a temporary file and renamed at the end, so
an interrupted run leaves the previous results intact.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_pipeline.errors import QAPipelineError
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.transcript.model import Call
from qa_pipeline.verdict.engine import Engine
from qa_pipeline.verdict.model import CallResult, CallVerdict
from qa_pipeline.verdict.serialize import to_dict

Hook = Callable[[str, object], None]


def _no_hook(step: str, artifact: object) -> None:
    return None


@dataclass(frozen=True)
class BatchSummary:
    results_path: Path
    calls: int
    failed: int
    outcomes: dict[str, int]


def judge_file(engine: Engine, path: Path, hook: Hook = _no_hook) -> CallResult:
    version = engine.ruleset.version
    try:
        call = load_call(path)
        hook("load", call)
    except QAPipelineError as exc:
        return CallResult(path.stem, "failed", exc.message, str(path), version)
    try:
        verdict = engine.judge(call)
    except QAPipelineError as exc:
        return _result(call, version, exc.message, None)
    except Exception as exc:  # a bug must not cost the rest of the batch
        error = f"internal error while judging: {exc.__class__.__name__}: {exc}"
        return _result(call, version, error, None)
    return _result(call, version, None, verdict)


def _result(call: Call, version: str, error: str | None, verdict: CallVerdict | None) -> CallResult:
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
        verdict=verdict,
    )


def run_batch(
    input_dir: Path, out_dir: Path, ruleset: Ruleset, hook: Hook = _no_hook
) -> BatchSummary:
    engine = Engine(ruleset)
    paths = discover(input_dir)
    hook("discover", paths)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / "results.jsonl"
    partial = out_dir / "results.jsonl.partial"
    seen: dict[str, str] = {}
    outcomes: Counter[str] = Counter()
    failed = 0
    with partial.open("w", encoding="utf-8") as out:
        for path in paths:
            result = judge_file(engine, path, hook)
            if result.call_id in seen:
                result = CallResult(
                    result.call_id, "failed", f"duplicate call_id: also in {seen[result.call_id]}",
                    str(path), ruleset.version,
                )  # fmt: skip
            seen.setdefault(result.call_id, str(path))
            hook("judge", result)
            failed += result.status == "failed"
            if result.verdict:
                outcomes[result.verdict.outcome.value] += 1
            out.write(json.dumps(to_dict(result), ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    partial.replace(final)
    hook("write", final)
    return BatchSummary(final, len(paths), failed, dict(outcomes))
