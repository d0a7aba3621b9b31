"""Training the heads (`qa-pipeline train`): deterministic, on a CPU, in minutes.

Each head is a multinomial logistic regression (scikit-learn, lbfgs: no randomness) over the
features of features.py. Its regularization is chosen on the dev writers with the head fitted on
the train writers; the shipped head is then fitted on train and dev together and measured on the
test writers, whose wording it never saw (corpus/splits.yaml)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qa_pipeline.errors import CorpusError, MissingExtraError
from qa_pipeline.ruleset.loader import LanguagePack, Ruleset
from qa_pipeline.understanding.corpus import (
    AGENT_TASKS,
    CALLS_WRITER,
    CUSTOMER_TASKS,
    Example,
    HeadOptions,
    Splits,
    read_call_sets,
    read_corpus,
    read_splits,
)
from qa_pipeline.understanding.encoders import CachedEncoder
from qa_pipeline.understanding.features import Features, FeatureSpec, featurize, lexicon_reader
from qa_pipeline.understanding.heads import Head, HeadSet

C_GRID = (1.0, 4.0, 16.0)
Hook = Callable[[str, object], None]


@dataclass(frozen=True)
class Split:
    examples: tuple[Example, ...]
    features: Features


def _sklearn() -> Any:
    MissingExtraError.check("sklearn", "train", "training the understanding heads")
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression


def _dropped(options: HeadOptions) -> set[str]:
    everything = {"context_encoding", "context_lexicons", "context_grams"}
    return everything if not options.context else set(options.drop)


def _matrix(
    features: Features, rows: Sequence[int], spec: FeatureSpec, options: HeadOptions
) -> Any:
    """The rows' features; the context's parts the head does not read are zero (so their
    weights are zero and the shipped head ignores them)."""
    import scipy.sparse as sparse

    dense_rows = features.dense[list(rows)]
    shape = (len(features.indptr) - 1, spec.sparse_size)
    full = sparse.csr_matrix((features.data, features.indices, features.indptr), shape=shape)
    sparse_rows = full[list(rows)]
    dropped = _dropped(options)
    encoding, flags, grams = spec.context_columns()
    if dropped & {"context_encoding", "context_lexicons"}:
        dense_rows = dense_rows.copy()
        if "context_encoding" in dropped:
            dense_rows[:, encoding] = 0.0
        if "context_lexicons" in dropped:
            dense_rows[:, flags] = 0.0
    if "context_grams" in dropped:
        keep = np.ones(spec.sparse_size, np.float32)
        keep[grams] = 0.0
        sparse_rows = (sparse_rows @ sparse.diags(keep)).tocsr()
    return sparse.hstack([sparse.csr_matrix(dense_rows), sparse_rows]).tocsr()


def _featurize(
    examples: Sequence[Example], spec: FeatureSpec, pack: LanguagePack, encoder: CachedEncoder
) -> Features:
    pairs = [(pack.view(e.text), pack.view(e.context) if e.context else "") for e in examples]
    return featurize(pairs, spec, encoder, lexicon_reader(pack))


def _fit(
    split: Split, task: str, side: str, c: float, spec: FeatureSpec, options: HeadOptions
) -> Head | None:
    rows = [i for i, e in enumerate(split.examples) if e.side == side and task in e.labels]
    labels = [split.examples[i].labels[task] for i in rows]
    if len(set(labels)) < 2:
        return None
    weights = "balanced" if options.balanced else None
    matrix = _matrix(split.features, rows, spec, options)
    model = _sklearn()(C=c, max_iter=3000, class_weight=weights).fit(matrix, labels)
    classes = tuple(str(c) for c in model.classes_)
    coef = model.coef_.astype(np.float32)
    bias = model.intercept_.astype(np.float32)
    if len(classes) == 2:  # one row for the second class; softmax over [0, w] is the sigmoid
        coef = np.vstack([np.zeros_like(coef), coef])
        bias = np.concatenate([np.zeros(1, np.float32), bias])
    weights = coef.T
    return Head(task, side, classes, weights[: spec.dense_size], weights[spec.dense_size :], bias)


def _accuracy(
    head: Head, split: Split, task: str, groups: dict[str, str] | None = None
) -> tuple[float, int]:
    """Test accuracy on the head's side; with `groups` (`coarse_groups`), the labels the checks
    read alike count as one."""
    rows = [i for i, e in enumerate(split.examples) if e.side == head.side and task in e.labels]
    if not rows:
        return 1.0, 0
    probs = head.scores(split.features, rows)
    guess = [head.labels[int(np.argmax(p))] for p in probs]
    gold = [split.examples[i].labels[task] for i in rows]
    if groups is not None:
        guess, gold = [groups[g] for g in guess], [groups[g] for g in gold]
    return float(np.mean([g == p for g, p in zip(gold, guess, strict=True)])), len(rows)


def _detection(head: Head, split: Split, task: str, threshold: float) -> dict[str, float]:
    """For a head with a `none` label, as the judge uses it: a turn is flagged when the
    probability not on none is at least `threshold`. Recall over the turns that are something,
    and the share of `none` turns flagged."""
    rows = [i for i, e in enumerate(split.examples) if e.side == head.side and task in e.labels]
    probs = head.scores(split.features, rows)
    gold = [split.examples[i].labels[task] != "none" for i in rows]
    none = head.labels.index("none")
    flagged = [1.0 - float(p[none]) >= threshold for p in probs]
    positive = sum(gold)
    negative = len(gold) - positive
    hits = sum(f and g for f, g in zip(flagged, gold, strict=True))
    false = sum(f and not g for f, g in zip(flagged, gold, strict=True))
    return {
        "threshold": threshold,
        "recall": round(hits / positive, 4) if positive else 1.0,
        "flagged_none": round(false / negative, 4) if negative else 0.0,
    }


def _thresholds(ruleset: Ruleset) -> dict[str, float]:
    """Tasks the judge flags on by a threshold of its own: their detection is measured too."""
    rules = ruleset.understanding
    return {"forbidden": rules.forbidden} if rules is not None else {}


def coarse_groups(ruleset: Ruleset) -> dict[str, dict[str, str]]:
    """Per task whose family reads some labels alike, each label's group: labels the family
    counts `together`, or that stand for the same lexicons with the same `beside` standing
    (question and none add nothing; the checks take yes, go_ahead and consent alike)."""
    rules = ruleset.understanding
    out: dict[str, dict[str, str]] = {}
    for family in rules.families.values() if rules is not None else ():
        groups = {
            label: "+".join(sorted(names)) + ("/beside" if label in family.beside else "")
            for label, names in family.labels.items()
        }
        for together in family.together:
            groups |= dict.fromkeys(together, "/".join(together))
        if len(set(groups.values())) < len(groups):
            out[family.task] = groups
    return out


def _merged(groups: dict[str, str]) -> list[str]:
    """The groups of more than one label, as "yes/go_ahead/consent"."""
    members: dict[str, list[str]] = {}
    for label, group in groups.items():
        members.setdefault(group, []).append(label)
    return ["/".join(found) for found in members.values() if len(found) > 1]


def _tasks() -> list[tuple[str, str]]:
    return [(t, "customer") for t in CUSTOMER_TASKS] + [(t, "agent") for t in AGENT_TASKS]


def task_names() -> list[str]:
    """Every head's task, as `qa-pipeline train --task` names it."""
    return [task for task, _ in _tasks()]


def train_language(
    examples: Sequence[Example],
    splits: Splits,
    language: str,
    pack: LanguagePack,
    encoder: CachedEncoder,
    hook: Hook,
    thresholds: dict[str, float] | None = None,
    groups: dict[str, dict[str, str]] | None = None,
    keep: HeadSet | None = None,
    tasks: Sequence[str] = (),
) -> HeadSet:
    """The heads of one language, with their dev choices and test metrics in `meta`
    (`thresholds`: tasks flagged from a probability, whose recall is measured too; `groups`:
    tasks whose accuracy is also measured with the labels the checks read alike as one).
    With `keep` and `tasks`, only those tasks are fitted, on `keep`'s feature spec, and every
    other head stays `keep`'s: the rules were tuned beside those heads' readings, and a full
    refit moves every reading at once."""
    thresholds = thresholds or {}
    groups = groups or {}
    spec = (
        keep.spec
        if keep is not None
        else FeatureSpec(encoder.name, encoder.dim, tuple(sorted(pack.lexicons)))
    )
    mine = [e for e in examples if e.language == language]

    def split(writers: Sequence[str]) -> Split:
        chosen = tuple(e for e in mine if e.writer in writers)
        return Split(chosen, _featurize(chosen, spec, pack, encoder))

    calls = sorted({e.writer for e in mine if e.writer.startswith(CALLS_WRITER)})
    train, dev, test = split([*splits.train, *calls]), split(splits.dev), split(splits.test)
    both = split([*splits.train, *calls, *splits.dev])
    heads: dict[str, Head] = {}
    metrics: dict[str, dict[str, float | int]] = {}
    for task, side in _tasks():
        if keep is not None and task not in tasks:
            if task in keep.heads:
                heads[task] = keep.heads[task]
                # a head kept through several partial refits keeps the date it was fitted
                kept = keep.meta["metrics"][task].get("kept", keep.meta["trained"])
                metrics[task] = keep.meta["metrics"][task] | {"kept": kept}
            continue
        options = splits.options(task)
        scored = []
        for c in C_GRID:
            head = _fit(train, task, side, c, spec, options)
            if head is not None:
                scored.append((_accuracy(head, dev, task)[0], c))
        if not scored:
            continue
        dev_accuracy, c = max(scored)  # ties go to the larger C, the least regularized
        head = _fit(both, task, side, c, spec, options)
        if head is None:
            continue
        heads[task] = head
        accuracy, n = _accuracy(head, test, task)
        metrics[task] = {"C": c, "dev_accuracy": round(dev_accuracy, 4),
                         "test_accuracy": round(accuracy, 4), "test_n": n}  # fmt: skip
        if task in groups and set(head.labels) <= set(groups[task]):
            coarse, _ = _accuracy(head, test, task, groups[task])
            metrics[task]["test_coarse_accuracy"] = round(coarse, 4)
        if task in thresholds and "none" in head.labels:
            metrics[task] |= _detection(head, test, task, thresholds[task])
        hook("head", (language, task, metrics[task]))
    meta = {
        "language": language,
        "trained": datetime.now(UTC).date().isoformat(),
        "examples": dict(Counter(e.writer for e in mine)),
        "splits": splits.model_dump(),
        "corpus_sha256": hashlib.sha256(
            "".join(f"{e.writer}|{e.text}|{sorted(e.labels.items())}" for e in mine).encode()
        ).hexdigest()[:16],
        "metrics": metrics,
        "coarse_groups": {task: _merged(found) for task, found in groups.items() if task in heads},
    }
    return HeadSet(language, spec, heads, meta, "")


def _check_writers(
    corpus: Path, splits_path: Path, splits: Splits, examples: Sequence[Example]
) -> None:
    """Every writer the splits name has utterances in `corpus`: a corpus folder without them
    (corpus/ given for corpus/utterances/) would train on the call sets alone and score 1.000
    on an empty test split."""
    found = {e.writer for e in examples}
    missing = sorted({*splits.train, *splits.dev, *splits.test} - found)
    if missing:
        raise CorpusError(
            str(corpus),
            [f"no utterances of {', '.join(missing)}, which {splits_path} names: "
             "--corpus is the folder of the writers' <writer>.jsonl files"],
        )  # fmt: skip


def train(
    corpus: Path,
    splits_path: Path,
    ruleset: Ruleset,
    encoder: CachedEncoder,
    languages: Sequence[str] = (),
    hook: Hook = lambda step, artifact: None,
    keep: dict[str, HeadSet] | None = None,
    tasks: Sequence[str] = (),
) -> list[HeadSet]:
    """Heads for every language of the corpus that has a language pack (or those asked); with
    `keep` (language -> its current heads) and `tasks`, only those tasks are refitted."""
    splits = read_splits(splits_path)
    call_sets = [splits_path.parent / folder for folder in splits.calls]
    examples = list(read_corpus(corpus))
    _check_writers(corpus, splits_path, splits, examples)  # before the call sets are read
    examples += read_call_sets(call_sets)
    wanted = languages or sorted({e.language for e in examples})
    return [
        train_language(
            examples,
            splits,
            language,
            ruleset.languages[language],
            encoder,
            hook,
            _thresholds(ruleset),
            coarse_groups(ruleset),
            (keep or {}).get(language),
            tasks,
        )
        for language in wanted
        if language in ruleset.languages
    ]


def model_card(sets: Sequence[HeadSet]) -> str:
    """MODEL_CARD.md: what the heads are, what they learned from, how they scored."""
    lines = [
        "# Understanding heads: model card",
        "",
        "Softmax heads over a multilingual sentence encoder, read per sentence by the",
        "understanding stage (qa_pipeline/understanding). Rebuilt by `qa-pipeline train`",
        "(deterministic; corpus/utterances, splits in corpus/splits.yaml). Test scores are on",
        "writers whose wording the heads never saw.",
        "",
    ]
    for heads in sets:
        meta, spec = heads.meta, heads.spec
        lines += [
            f"## {heads.language}",
            "",
            f"- encoder: `{spec.encoder}` ({spec.dim}-d); features: the sentence's and the "
            f"other party's turn's encodings, rule lexicon hits in both ({len(spec.lexicons)} "
            f"lexicons), hashed character {spec.min_gram}-{spec.max_gram}-grams "
            f"({1 << spec.hash_bits} buckets each)",
            f"- trained {meta['trained']} on corpus {meta['corpus_sha256']}: "
            + ", ".join(f"{w} {n} turns" for w, n in sorted(meta["examples"].items())),
            f"- splits: train {meta['splits']['train']}, dev {meta['splits']['dev']}, "
            f"test {meta['splits']['test']}",
            "",
            "| task | C | dev accuracy | test accuracy | test turns |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {task} | {m['C']:g} | {m['dev_accuracy']:.3f} | {m['test_accuracy']:.3f} "
            f"| {m['test_n']} |"
            for task, m in meta["metrics"].items()
        ]
        lines += [
            f"- {task}: recall {m['recall']:.3f} of the test turns that are not `none`, "
            f"{m['flagged_none']:.3f} of the `none` turns flagged (probability not on none at "
            f"least {m['threshold']:g}, as the judge flags)"
            for task, m in meta["metrics"].items()
            if "recall" in m
        ]
        lines += [
            f"- {task}: test accuracy {m['test_coarse_accuracy']:.3f} with the labels the checks "
            f"read alike counted as one ({', '.join(meta['coarse_groups'][task])})"
            for task, m in meta["metrics"].items()
            if "test_coarse_accuracy" in m and task in meta.get("coarse_groups", {})
        ]
        kept = sorted(t for t, m in meta["metrics"].items() if "kept" in m)
        if kept:
            since = sorted({meta["metrics"][t]["kept"] for t in kept})
            by_date = "; ".join(
                f"fitted {date}: "
                + ", ".join(t for t in kept if meta["metrics"][t]["kept"] == date)
                for date in since
            )
            lines.append(
                f"- refitted {meta['trained']} (`qa-pipeline train --task`): "
                + ", ".join(t for t in meta["metrics"] if t not in kept)
                + f"; the others kept, their figures above from when they were fitted ({by_date})"
            )
        calls = sorted(w for w in meta["examples"] if w.startswith(CALLS_WRITER))
        if calls:
            lines.append(
                "- the forbidden head also learned from the agent turns of read call sets "
                "(corpus/splits.yaml `calls`): " + ", ".join(calls)
            )
        options = meta["splits"].get("heads", {})
        lines += [f"- {task} fitted with {o}" for task, o in options.items()]
        lines.append("")
    return "\n".join(lines)
