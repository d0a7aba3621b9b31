"""The trained heads of one language: a softmax layer per task over the features (FeatureSpec),
saved as float16 arrays (`<lang>.npz`) with their description (`<lang>.json`: tasks, labels,
feature spec, training data and metrics). Scoring needs numpy only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import ModelNotFoundError
from qa_pipeline.understanding.features import Features, FeatureSpec
from qa_pipeline.understanding.reading import Distribution

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Head:
    task: str
    side: str  # whose sentences it reads: agent or customer
    labels: tuple[str, ...]
    dense: Matrix  # dense_size x classes
    sparse: Matrix  # sparse_size x classes
    bias: Matrix  # classes

    def scores(self, features: Features, rows: Sequence[int]) -> Matrix:
        logits = features.dense[list(rows)] @ self.dense + self.bias
        for out, row in enumerate(rows):
            start, end = features.indptr[row], features.indptr[row + 1]
            if end > start:
                weights = self.sparse[features.indices[start:end]]
                logits[out] += features.data[start:end] @ weights
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs: Matrix = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return probs


@dataclass(frozen=True)
class HeadSet:
    language: str
    spec: FeatureSpec
    heads: Mapping[str, Head]
    meta: Mapping[str, Any]
    digest: str  # of the weights: part of the judging version

    def read(self, features: Features, sides: Sequence[str]) -> list[dict[str, Distribution]]:
        """Each row's distribution for every task of its side."""
        out: list[dict[str, Distribution]] = [{} for _ in sides]
        for head in self.heads.values():
            rows = [i for i, side in enumerate(sides) if side == head.side]
            if not rows:
                continue
            for row, probs in zip(rows, head.scores(features, rows), strict=True):
                out[row][head.task] = Distribution(head.labels, tuple(float(p) for p in probs))
        return out


def save(heads: HeadSet, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {}
    for name, head in heads.heads.items():
        arrays[f"{name}.dense"] = head.dense.astype(np.float16)
        arrays[f"{name}.sparse"] = head.sparse.astype(np.float16)
        arrays[f"{name}.bias"] = head.bias.astype(np.float16)
    np.savez_compressed(folder / f"{heads.language}.npz", **arrays)
    tasks = {n: {"side": h.side, "labels": list(h.labels)} for n, h in heads.heads.items()}
    meta = dict(heads.meta) | {"spec": heads.spec.as_dict(), "tasks": tasks}
    text = json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    (folder / f"{heads.language}.json").write_text(text, encoding="utf-8")


def load(folder: Path, language: str) -> HeadSet:
    weights, described = folder / f"{language}.npz", folder / f"{language}.json"
    if not weights.is_file() or not described.is_file():
        raise ModelNotFoundError(
            f"understanding/{language}",
            f"no trained heads in {folder}",
            "Train them with `qa-pipeline train` (from corpus/utterances) or point "
            "models.yaml understanding.heads at a folder that has them",
        )
    meta = json.loads(described.read_text(encoding="utf-8"))
    raw = weights.read_bytes()
    arrays = np.load(folder / f"{language}.npz")
    spec_data = meta["spec"]
    spec = FeatureSpec(**{**spec_data, "lexicons": tuple(spec_data["lexicons"])})
    heads = {
        name: Head(
            name,
            task["side"],
            tuple(task["labels"]),
            arrays[f"{name}.dense"].astype(np.float32),
            arrays[f"{name}.sparse"].astype(np.float32),
            arrays[f"{name}.bias"].astype(np.float32),
        )
        for name, task in meta["tasks"].items()
    }
    digest = hashlib.sha256(raw + described.read_bytes()).hexdigest()[:12]
    return HeadSet(language, spec, heads, meta, digest)
