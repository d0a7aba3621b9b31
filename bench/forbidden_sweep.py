"""Forbidden-phrase thresholds replayed without re-judging: every call of the labelled sets is
judged once, each agent turn kept with the rules' phrases and the model's forbidden reading, and
the check's choice (rules first; a rule-less turn is forbidden when the probability off `none`
reaches the language's threshold) replayed for other thresholds and scored as `qa-pipeline eval`
scores spans. The replay at the shipped threshold must equal the judged spans (checked).

    python bench/forbidden_sweep.py tests/data/firstcontact{6..14} --grid 0.8,0.85,0.9,0.95
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.evaluation.metrics import spans_match
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge, load_rules
from qa_pipeline.judging.understand import configured_reader

_TRIM = " \t.。!！?？,，"


@dataclass(frozen=True)
class AgentTurn:
    text: str
    rules: tuple[dict[str, str], ...]  # the rules' phrases in the turn (category, text)
    probs: dict[str, float]  # the model's forbidden reading of the turn


@dataclass(frozen=True)
class JudgedCall:
    language: str
    paid: bool
    gold: list[dict[str, Any]]
    judged: list[dict[str, str]]
    turns: tuple[AgentTurn, ...]


def _gold(folder: Path) -> dict[str, list[dict[str, Any]]]:
    lines = (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return {
        row["call_id"]: row.get("forbidden", []) for row in map(json.loads, filter(None, lines))
    }


def judge_set(folder: Path) -> list[JudgedCall]:
    rules = load_rules()
    seen: dict[str, Any] = {}
    judge = Judge(
        rules, lambda step, artifact: seen.__setitem__(step, artifact), configured_reader(rules)
    )
    gold = _gold(folder)
    calls = []
    for path in sorted(folder.glob("*.json")):  # the labelled sets are transcripts
        call = load_call(path)
        verdict = judge.judge(call)
        ctx = seen["context"]
        found = [f for f in verdict.forbidden_phrases if not f.rule_id.startswith("model.")]
        turns = []
        for turn in ctx.agent_turns():
            reading = turn.sentences[-1].reading
            dist = reading.tasks.get("forbidden") if reading is not None else None
            mine = tuple(
                {"category": f.category, "text": f.text}
                for f in found
                if turn.start <= f.start and f.end <= turn.end
            )
            text = turn.joiner.join(s.text for s in turn.sentences).strip(_TRIM)
            probs = dict(zip(dist.labels, dist.probs, strict=True)) if dist is not None else {}
            turns.append(AgentTurn(text, mine, probs))
        judged = [{"category": f.category, "text": f.text} for f in verdict.forbidden_phrases]
        paid = ctx.campaign.price.amount > 0
        calls.append(
            JudgedCall(call.language, paid, gold.get(call.call_id, []), judged, tuple(turns))
        )
    return calls


def replay(call: JudgedCall, threshold: dict[str, float]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for turn in call.turns:
        if turn.rules or not turn.probs:
            found += turn.rules
            continue
        category = max((k for k in turn.probs if k != "none"), key=turn.probs.__getitem__)
        off_none = 1.0 - turn.probs["none"]
        if off_none >= threshold[call.language] and (category != "misleading" or call.paid):
            found.append({"category": category, "text": turn.text})
    return found


def score(calls: list[JudgedCall], spans: list[list[dict[str, str]]]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for call, predicted in zip(calls, spans, strict=True):
        unused = list(predicted)
        for gold in call.gold:
            hit = next((p for p in unused if spans_match(gold, p)), None)
            if hit is None:
                fn += 1
            else:
                unused.remove(hit)
                tp += 1
        fp += len(unused)
    return tp, fp, fn


def _line(label: str, tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return f"{label:24} tp={tp:3} fp={fp:3} fn={fn:3}  P={p:.3f} R={r:.3f} F1={f1:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--grid", default="0.8,0.85,0.9,0.95", help="thresholds tried per language")
    args = parser.parse_args()
    rules = load_rules()
    shipped = rules.understanding.forbidden if rules.understanding is not None else 1.0
    calls = [call for folder in args.sets for call in judge_set(folder)]
    judged = score(calls, [c.judged for c in calls])
    same = score(calls, [replay(c, {"en": shipped, "zh": shipped}) for c in calls])
    print(_line("judged", *judged))
    assert same == judged, f"the replay at {shipped} gives {same}, the engine {judged}"
    grid = [float(t) for t in args.grid.split(",")]
    for en, zh in itertools.product(grid, grid):
        spans = [replay(c, {"en": en, "zh": zh}) for c in calls]
        print(_line(f"en {en:g} zh {zh:g}", *score(calls, spans)))


if __name__ == "__main__":
    main()
