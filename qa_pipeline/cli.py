"""`qa-pipeline`: a thin command line over the library."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from qa_pipeline import __version__
from qa_pipeline.errors import QAPipelineError, RulesetError
from qa_pipeline.evaluation.labels import load_labels, predicted
from qa_pipeline.evaluation.metrics import evaluate, format_comparison, format_report
from qa_pipeline.evaluation.noise import write_noisy_batch
from qa_pipeline.pipeline import rejudge, run_batch
from qa_pipeline.ruleset.loader import Ruleset, load_ruleset
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.verdict.summary import summary_lines


def _ruleset(args: argparse.Namespace) -> Ruleset:
    ruleset = load_ruleset(args.rules)
    for error in ruleset.errors:
        print(f"warning: {error.message}", file=sys.stderr)
    return ruleset


def _cmd_run(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args)
    started = time.perf_counter()

    def hook(step: str, artifact: object) -> None:
        if step == "judge" and args.verbose:
            row: Any = artifact
            print(f"{row.call_id}: {row.status} {row.error or ''}", file=sys.stderr)

    store = Store(connect(args.db))
    summary = run_batch(args.input_dir, args.out, ruleset, hook, store)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print("\n".join(summary_lines(_read_results(summary.results_path))))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "none"
    print(
        f"{summary.calls} calls ({summary.failed} failed; {outcomes}) in {elapsed:.2f}s "
        f"-> {summary.results_path}  [rules {ruleset.version}]"
    )
    return 0


def _cmd_rejudge(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args)
    summary = rejudge(ruleset, Store(connect(args.db)))
    print(
        f"{summary.calls} stored calls: {summary.judged} judged under rules {ruleset.version}, "
        f"{summary.already} already were"
    )
    return 0


def _read_results(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def _score(
    gold: dict[str, Any], results_path: Path, suffix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    rows = _read_results(results_path)
    failed = [f"{r['call_id']}{suffix}: {r['error']}" for r in rows if r["status"] == "failed"]
    preds = {r["call_id"] + suffix: predicted(r) for r in rows if r["status"] == "ok"}
    return preds, failed


def _cmd_eval(args: argparse.Namespace) -> int:
    labels_path = args.labels or args.input_dir / "labels.jsonl"
    gold = load_labels(labels_path)
    results_path = args.results
    ruleset = _ruleset(args) if results_path is None or args.noisy else None
    if results_path is None:
        assert ruleset is not None
        results_path = run_batch(args.input_dir, args.out, ruleset).results_path
    preds, failed = _score(gold, results_path)
    report = evaluate(gold, preds, failed)
    if not args.noisy:
        print(format_report(report))
        return 1 if args.min_accuracy is not None and report.min_accuracy < args.min_accuracy else 0
    assert ruleset is not None
    noisy_gold: dict[str, Any] = {}
    noisy_preds: dict[str, Any] = {}
    noisy_failed: list[str] = []
    for variant in range(args.variants):
        seed = args.seed + variant
        batch = write_noisy_batch(args.input_dir, args.out / f"noisy-{seed}" / "calls", seed)
        path = run_batch(batch, args.out / f"noisy-{seed}", ruleset).results_path
        suffix = f"~noisy{seed}"
        noisy_gold.update({k + suffix: v for k, v in gold.items()})
        p, f = _score(gold, path, suffix)
        noisy_preds.update(p)
        noisy_failed += f
    noisy = evaluate(noisy_gold, noisy_preds, noisy_failed)
    print(format_report(noisy))
    print()
    print(format_comparison(report, noisy, args.variants))
    worst = min(report.min_accuracy, noisy.min_accuracy)
    return 1 if args.min_accuracy is not None and worst < args.min_accuracy else 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from qa_pipeline.checks.registry import REGISTRY

    if args.action == "types":
        for name, check in sorted(REGISTRY.items()):
            print(f"{name:28} {check.kind:9} {check.doc}")
        return 0
    ruleset = load_ruleset(args.rules)
    for error in ruleset.errors:
        print(error.message, file=sys.stderr)
    print(
        f"rules {ruleset.version}: {len(ruleset.campaigns)} campaigns, "
        f"languages {sorted(ruleset.languages)}, {len(ruleset.errors)} broken files"
    )
    return 1 if ruleset.errors else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa-pipeline", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    rules_help = "rules folder (default: the bundled rules/)"
    db_help = "database URL (default: SQLite file under QA_PIPELINE_DATA_DIR or ./data)"

    run = sub.add_parser("run", help="judge a folder of call files, write results.jsonl")
    run.add_argument("input_dir", type=Path)
    run.add_argument("--out", type=Path, required=True, help="output folder")
    run.add_argument("--rules", type=Path, help=rules_help)
    run.add_argument("-v", "--verbose", action="store_true", help="one line per call on stderr")
    run.add_argument("-q", "--quiet", action="store_true", help="no per-call summary table")
    run.add_argument("--db", help=db_help)
    run.set_defaults(func=_cmd_run)

    again = sub.add_parser("rejudge", help="judge stored transcripts under the current rules")
    again.add_argument("--db", help=db_help)
    again.add_argument("--rules", type=Path, help=rules_help)
    again.set_defaults(func=_cmd_rejudge)

    ev = sub.add_parser("eval", help="score results against the folder's labels.jsonl")
    ev.add_argument("input_dir", type=Path)
    ev.add_argument("--results", type=Path, help="results.jsonl to score (default: run now)")
    ev.add_argument("--labels", type=Path, help="labels file (default: INPUT_DIR/labels.jsonl)")
    ev.add_argument("--out", type=Path, default=Path("out/eval"), help="where a fresh run writes")
    ev.add_argument("--rules", type=Path, help=rules_help)
    ev.add_argument("--min-accuracy", type=float, help="exit 1 if any label's accuracy is lower")
    ev.add_argument("--noisy", action="store_true", help="also score ASR-like noisy variants")
    ev.add_argument("--variants", type=int, default=3, help="noisy variants per call")
    ev.add_argument("--seed", type=int, default=0, help="first noise seed")
    ev.set_defaults(func=_cmd_eval)

    rules = sub.add_parser("rules", help="validate rule files, or list check types")
    rules.add_argument("action", choices=["check", "types"])
    rules.add_argument("--rules", type=Path, help=rules_help)
    rules.set_defaults(func=_cmd_rules)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except RulesetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except QAPipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
