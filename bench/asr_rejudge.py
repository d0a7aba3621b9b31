"""Judge again what `asr_real.py --transcripts DIR` heard, with this checkout's rules and
checks, against the same calls' clean verdicts: the bench's label agreement without decoding
the audio again (minutes instead of a quarter hour), for work on the judging side.

The transcripts are the bench's text files (`<call_id>.<system>.txt`, one segment a line:
start, end, role, words); each call's metadata comes from its call file, and the heard call
is marked as made by `--model` (`Call.heard_by`), as the bench marks it. Times are written to
the hundredth of a second, so a check that reads times sees them as rounded.

    python bench/asr_rejudge.py DIR [--system default] [--model base]
                                [--calls-dir tests/data/heldout ...] [--disagreements] [--gold]

`--gold` also scores the clean and the heard verdicts against the folders' labels.jsonl: where a
better reading of the clean transcript lowers agreement (both were wrong together before), the
accuracy of what was heard says whether hearing got worse.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr_real import DEV, disagreement_lines, label_agreement, label_values  # noqa: E402  (this folder)

from qa_pipeline.evaluation.labels import LabelSet  # noqa: E402
from qa_pipeline.evaluation.metrics import evaluate  # noqa: E402
from qa_pipeline.ingest.call_file import load_call  # noqa: E402
from qa_pipeline.ingest.model import Call, Segment  # noqa: E402
from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402


def read_transcript(path: Path) -> tuple[Segment, ...]:
    """The segments of one transcript file as `asr_real._write_transcript` wrote them."""
    segments = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        start, end, speaker, *words = line.split(None, 3)
        segments.append(Segment(float(start), float(end), speaker, words[0] if words else ""))
    return tuple(segments)


def heard_call(call: Call, transcripts: Path, system: str, model: str) -> Call | None:
    path = transcripts / f"{call.call_id}.{system}.txt"
    if not path.exists():
        return None
    return dataclasses.replace(call, segments=read_transcript(path), heard_by=model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("transcripts", type=Path)
    parser.add_argument("--system", default="default")
    parser.add_argument("--model", default="base", help="the heard_by the bench gave the calls")
    parser.add_argument("--calls-dir", type=Path, nargs="+", default=[DEV])
    parser.add_argument("--language", default="en")
    parser.add_argument("--disagreements", action="store_true")
    parser.add_argument("--gold", action="store_true", help="also score both against labels.jsonl")
    args = parser.parse_args()
    ruleset = load_rules(ROOT / "rules")
    judge, labels = Judge(ruleset), LabelSet(ruleset.criteria)
    clean: dict[str, dict[str, object]] = {}
    heard: dict[str, dict[str, object]] = {}
    for folder in args.calls_dir:
        for path in sorted(folder.glob(f"{args.language}-*.json")):
            call = load_call(path)
            got = heard_call(call, args.transcripts, args.system, args.model)
            if got is None:
                continue
            clean[call.call_id] = label_values(labels, call.call_id, judge.judge(call))
            heard[call.call_id] = label_values(labels, call.call_id, judge.judge(got))
    agreement, report = label_agreement(labels, clean, heard)
    if args.gold:
        print(_against_gold(labels, args.calls_dir, clean, heard))
    total = sum(s.total for s in report.labels.values())
    print(f"{len(heard)} calls, labels agree {agreement:.3f} ({round(agreement * total)}/{total})")
    if args.disagreements:
        print("\n".join(disagreement_lines(report)))


def _against_gold(
    labels: LabelSet,
    folders: list[Path],
    clean: dict[str, dict[str, object]],
    heard: dict[str, dict[str, object]],
) -> str:
    gold: dict[str, dict[str, object]] = {}
    for folder in folders:
        gold |= {k: v for k, v in labels.load(folder / "labels.jsonl").items() if k in heard}
    shares = []
    for name, verdicts in (("clean", clean), ("heard", heard)):
        report = evaluate(gold, verdicts, [], labels.names)
        total = sum(s.total for s in report.labels.values())
        correct = sum(s.correct for s in report.labels.values())
        shares.append(f"{name} {correct / total:.3f} ({correct}/{total})")
    return "against labels.jsonl: " + ", ".join(shares)


if __name__ == "__main__":
    main()
