"""Fitting the call heads (`qa-pipeline train --calls`) from labeled call sets.

Every call of the sets named in corpus/call_heads.yaml is judged as the judge reads it (the rules
and the sentence heads, no call head), its customer sentences summarized per head, and labeled by
its labels.jsonl. A head is a logistic regression (scikit-learn, lbfgs: deterministic). Before the
shipped head is fitted on every set, five folds that hold whole sets out measure it: the head
alone, the rules alone, and the rules overruled where the head reads the opposite surely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa_pipeline.errors import CorpusError, MissingExtraError
from qa_pipeline.evaluation.labels import LabelSet
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.understand import call_views
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.understanding.call_heads import CallHead, CallHeadSpec, Since, summarize
from qa_pipeline.understanding.reader import Reader

Hook = Callable[[str, object], None]
FOLDS = 5


class CallHeadConfig(BaseModel):
    """One call head in corpus/call_heads.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(description="the labels.jsonl key it learns (caller_competent)")
    item: str = Field(description="the criteria item whose rule verdict the folds compare")
    task: str = Field(description="the sentence task it summarizes (competence)")
    labels: list[str] = Field(min_length=1, description="that task's labels it reads")
    lexicons: list[str] = Field(description="rule lexicons whose hits it counts")
    C: float = Field(1.0, gt=0, description="inverse regularization")
    since: Since = Field("start", description="which customer sentences: start, first_amount")
    fail_at: float | None = Field(
        0.8, gt=0.5, le=1.0, description="the folds' level for failing an item the rules pass"
    )
    pass_at: float | None = Field(
        None, gt=0.5, le=1.0, description="the folds' level for passing an item the rules fail"
    )
    sets: list[str] = Field(min_length=1, description="labeled call sets, relative to the file")

    def spec(self) -> CallHeadSpec:
        return CallHeadSpec(self.task, tuple(self.labels), tuple(self.lexicons), self.since)


def read_config(path: Path) -> dict[str, CallHeadConfig]:
    """corpus/call_heads.yaml, every problem in it named with its head and key."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise CorpusError(str(path), [f"cannot read: {exc.strerror}"]) from exc
    except yaml.YAMLError as exc:
        raise CorpusError(str(path), [f"not YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise CorpusError(str(path), ["expected a mapping of head name -> settings"])
    heads, problems = {}, []
    for name, value in data.items():
        try:
            heads[str(name)] = CallHeadConfig.model_validate(value)
        except ValidationError as exc:
            problems += [
                f"{name}.{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
                for error in exc.errors()
            ]
    if problems:
        raise CorpusError(str(path), problems)
    return heads


@dataclass(frozen=True)
class Row:
    folder: str
    call_id: str
    features: np.ndarray
    gold: bool
    rules: bool  # the criteria item's verdict by the rules and sentence heads


def _gold(labels: dict[str, dict[str, Any]], label: str) -> dict[str, bool]:
    """Each call's value of `label` where it is true or false (a no-sale's valid_sale is none)."""
    return {cid: row[label] for cid, row in labels.items() if isinstance(row[label], bool)}


def read_rows(
    ruleset: Ruleset,
    reader: Reader,
    configs: Mapping[str, CallHeadConfig],
    root: Path,
    hook: Hook,
) -> dict[str, list[Row]]:
    """Every labeled call of each head's sets, judged once without call heads (whichever heads
    read its set) and summarized per head."""
    label_set = LabelSet(ruleset.criteria)
    for name, config in configs.items():
        if config.label not in label_set.names:
            known = ", ".join(label_set.names)
            problem = f"label {config.label!r} is none of the graded labels: {known}"
            raise CorpusError(f"call head {name!r}", [problem])
    specs = {name: config.spec() for name, config in configs.items()}
    seen: dict[str, Any] = {}
    judge = Judge(ruleset, hook=seen.__setitem__, reader=reader.without_call_heads())
    rows: dict[str, list[Row]] = {name: [] for name in configs}
    for set_name in dict.fromkeys(s for config in configs.values() for s in config.sets):
        folder = (root / set_name).resolve()
        labels = label_set.load(folder / "labels.jsonl")
        heads = {n: c for n, c in configs.items() if set_name in c.sets}
        golds = {n: _gold(labels, c.label) for n, c in heads.items()}
        for path in sorted(folder.glob("*.json")):
            call = load_call(path)
            wanted = [n for n in heads if call.call_id in golds[n]]
            if not wanted:
                continue
            judge.judge(call)
            for n in wanted:
                features = summarize(specs[n], call_views(seen["context"], specs[n]))
                rules = bool(seen["items"][heads[n].item].passed)
                rows[n].append(Row(set_name, call.call_id, features, golds[n][call.call_id], rules))
        hook("set", (set_name, sum(len(r) for r in rows.values())))
    return rows


def _fit(rows: Sequence[Row], c: float) -> tuple[np.ndarray, float]:
    MissingExtraError.check("sklearn", "train", "training the call heads")
    from sklearn.linear_model import LogisticRegression

    x = np.stack([r.features for r in rows])
    y = np.array([r.gold for r in rows], dtype=int)
    model = LogisticRegression(C=c, max_iter=3000).fit(x, y)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _decided(rules: bool, p: float, config: CallHeadConfig) -> bool:
    """The verdict with the head overruling the rules (as caller_competent.v21 does)."""
    if rules and config.fail_at is not None and 1.0 - p >= config.fail_at:
        return False
    if not rules and config.pass_at is not None and p >= config.pass_at:
        return True
    return rules


def folds(rows: Sequence[Row], config: CallHeadConfig) -> dict[str, int]:
    """Errors over folds that hold whole sets out: the head alone, the rules alone, and the
    rules overruled at `config`'s levels, with what each direction fixed and made."""
    names = sorted({r.folder for r in rows})
    counts = dict.fromkeys(("head", "rules", "overruled", "failed_fixed", "failed_made",
                            "passed_fixed", "passed_made"), 0)  # fmt: skip
    counts["calls"] = len(rows)
    for k in range(FOLDS):
        held = set(names[k::FOLDS])
        weights, bias = _fit([r for r in rows if r.folder not in held], config.C)
        for row in (r for r in rows if r.folder in held):
            p = float(1.0 / (1.0 + np.exp(-(row.features @ weights + bias))))
            decided = _decided(row.rules, p, config)
            counts["head"] += (p >= 0.5) != row.gold
            counts["rules"] += row.rules != row.gold
            counts["overruled"] += decided != row.gold
            if decided != row.rules:
                way = "failed" if row.rules else "passed"
                counts[f"{way}_{'fixed' if decided == row.gold else 'made'}"] += 1
    return counts


def train_call_heads(
    configs: Mapping[str, CallHeadConfig],
    ruleset: Ruleset,
    reader: Reader,
    root: Path,
    hook: Hook,
) -> list[CallHead]:
    rows = read_rows(ruleset, reader, configs, root, hook)
    heads = []
    for name, config in configs.items():
        if len({r.gold for r in rows[name]}) < 2:
            raise CorpusError(str(root), [f"call head {name!r}: its sets hold one class only"])
        weights, bias = _fit(rows[name], config.C)
        meta = {
            "trained": datetime.now(UTC).strftime("%Y-%m-%d"), "sets": list(config.sets),
            "C": config.C, "rules": ruleset.version, "folds": folds(rows[name], config),
            "levels_in_folds": {"fail_at": config.fail_at, "pass_at": config.pass_at},
        }  # fmt: skip
        heads.append(CallHead(name, config.label, config.spec(), weights, bias, meta))
    return heads


def call_heads_card(heads: Sequence[CallHead]) -> str:
    lines = [
        "# Call heads: model card", "",
        "Logistic heads over a summary of a call's customer sentences (their sentence-head",
        "readings and rule-lexicon hits; qa_pipeline/understanding/call_heads.py), fitted by",
        "`qa-pipeline train --calls` on labeled call sets (corpus/call_heads.yaml). Folds hold",
        "whole sets out; errors are calls whose label the decision gets wrong.", "",
        "| head | label | calls | head alone | rules | overruled | failed by the head (fixed / "
        "made) | passed by the head (fixed / made) | levels |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for head in heads:
        f, levels = head.meta["folds"], head.meta["levels_in_folds"]
        lines.append(
            f"| {head.name} | {head.label} | {f['calls']} | {f['head']} | {f['rules']} | "
            f"{f['overruled']} | {f['failed_fixed']} / {f['failed_made']} | "
            f"{f['passed_fixed']} / {f['passed_made']} | fail_at {levels['fail_at']}, "
            f"pass_at {levels['pass_at']} |"
        )
    for head in heads:
        meta = head.meta
        lines += ["", f"- {head.name}: trained {meta['trained']} with rules {meta['rules']}, "
                  f"C={meta['C']}, on {', '.join(meta['sets'])}"]  # fmt: skip
    return "\n".join(lines) + "\n"
