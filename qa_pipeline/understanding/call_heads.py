"""Call heads: one reading of a whole call from what its customer sentences were read as.

A sentence head reads one sentence; whether a caller can follow the call shows across it (a
muddle here, a repeat there, an answer beside the point). A call head is a logistic layer over a
fixed summary of the customer's sentences (`summarize`): per label of one sentence task, the
highest two probabilities, their sum and how many sentences read it, and per rule lexicon how
many sentences hit it. It is fitted on labeled call sets (`qa-pipeline train --calls`, from
corpus/call_heads.yaml) and saved beside the sentence heads as `calls.json`. numpy only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import ModelNotFoundError
from qa_pipeline.understanding.reading import Distribution

FILE = "calls.json"
Since = Literal["start", "first_amount"]
SINCE: tuple[Since, ...] = ("start", "first_amount")
Vector = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class SentenceView:
    """What a call head reads of one customer sentence."""

    reading: Distribution | None  # the sentence head's reading for the call head's task
    lexicons: frozenset[str]  # the rule lexicons the sentence hits (as the model fused them)
    question: bool


@dataclass(frozen=True, slots=True)
class CallHeadSpec:
    """What a call head summarizes: a sentence task's labels and some rule lexicons."""

    task: str
    labels: tuple[str, ...]
    lexicons: tuple[str, ...]
    since: Since = "start"  # which customer sentences: all, or from the agent's first amount on

    def names(self) -> list[str]:
        """The summary's features, in order (kept in calls.json to check they still match)."""
        per_label = ("top", "second", "sum", "count")
        names = [f"{self.task}.{label}.{kind}" for label in self.labels for kind in per_label]
        names += [f"hits.{lexicon}" for lexicon in self.lexicons]
        return [*names, "sentences", "questions"]


def summarize(spec: CallHeadSpec, sentences: Sequence[SentenceView]) -> Vector:
    """The call's features for a head of `spec`; every value lies in [0, 1]."""
    values: list[float] = []
    for label in spec.labels:
        probs = sorted((s.reading.p(label) for s in sentences if s.reading), reverse=True)
        top = probs[0] if probs else 0.0
        second = probs[1] if len(probs) > 1 else 0.0
        count = sum(p > 0.5 for p in probs)
        values += [top, second, min(sum(probs), 5.0) / 5, min(count, 3) / 3]
    for lexicon in spec.lexicons:
        values.append(min(sum(lexicon in s.lexicons for s in sentences), 3) / 3)
    questions = sum(s.question for s in sentences) / max(1, len(sentences))
    values += [min(len(sentences), 40) / 40, questions]
    return np.array(values, dtype=np.float64)


@dataclass(frozen=True)
class CallHead:
    """The probability that a call's `label` (labels.jsonl) holds, from its summary."""

    name: str
    label: str
    spec: CallHeadSpec
    weights: Vector
    bias: float
    meta: Mapping[str, Any] = field(default_factory=dict)

    def probability(self, sentences: Sequence[SentenceView]) -> float:
        logit = float(summarize(self.spec, sentences) @ self.weights + self.bias)
        return float(1.0 / (1.0 + np.exp(-logit)))

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label, "task": self.spec.task, "labels": list(self.spec.labels),
            "lexicons": list(self.spec.lexicons), "since": self.spec.since,
            "features": self.spec.names(),
            "weights": [round(float(w), 6) for w in self.weights], "bias": round(self.bias, 6),
            "meta": dict(self.meta),
        }  # fmt: skip


@dataclass(frozen=True)
class CallHeads:
    heads: Mapping[str, CallHead]
    digest: str  # of calls.json: part of the reader's version

    @classmethod
    def none(cls) -> CallHeads:
        return cls({}, "none")


def save_call_heads(heads: Sequence[CallHead], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = {head.name: head.as_dict() for head in heads}
    path = folder / FILE
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def load_call_heads(folder: Path) -> CallHeads:
    """The call heads in `folder`; none when it has no calls.json (the checks then judge by
    the rules and sentence readings alone)."""
    path = folder / FILE
    if not path.is_file():
        return CallHeads.none()
    raw = path.read_bytes()
    try:
        heads = {name: _head(name, data) for name, data in json.loads(raw).items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelNotFoundError(
            f"understanding/{FILE}", f"{path} cannot be read ({exc})",
            "Rebuild it with `qa-pipeline train --calls`",
        ) from exc  # fmt: skip
    return CallHeads(heads, hashlib.sha256(raw).hexdigest()[:12])


def _head(name: str, data: dict[str, Any]) -> CallHead:
    since = data.get("since", "start")
    if since not in SINCE:
        raise ValueError(f"head {name!r}: since {since!r} is not one of {', '.join(SINCE)}")
    spec = CallHeadSpec(data["task"], tuple(data["labels"]), tuple(data["lexicons"]), since)
    if spec.names() != data["features"]:
        raise ValueError(f"head {name!r} was saved with other features")
    weights = np.array(data["weights"], dtype=np.float64)
    if weights.shape != (len(spec.names()),):
        size = len(spec.names())
        raise ValueError(f"head {name!r} has {weights.size} weights for {size} features")
    return CallHead(name, data["label"], spec, weights, float(data["bias"]), data.get("meta", {}))
