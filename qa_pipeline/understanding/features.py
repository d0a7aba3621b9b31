"""What the heads read of a sentence: its encoding and the encoding of what the other party
said just before, the rules' own lexicon hits in both (negation scope included, so "不同意" is
not read as agreeing even where the encoder puts it next to "同意"), and hashed character
n-grams (spelling the encoder smooths over). Dense and sparse parts are kept apart so a whole
call is scored with one matrix product plus a few gathers."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qa_pipeline.ruleset.loader import LanguagePack
from qa_pipeline.understanding.encoders import CachedEncoder

Matrix = npt.NDArray[np.float32]
LexiconHits = Callable[[str], frozenset[str]]  # a view -> the lexicons that match it


def lexicon_reader(pack: LanguagePack) -> LexiconHits:
    """The pack's lexicons that match a view (negation scope included), every one run."""

    def hits(view: str) -> frozenset[str]:
        return frozenset(name for name, lexicon in pack.lexicons.items() if lexicon.find(view))

    return hits


def screened_reader(pack: LanguagePack) -> LexiconHits:
    """`lexicon_reader`'s answer, running only the lexicons the pack's screen says may match
    (the rest cannot)."""
    lexicons = pack.lexicons

    def hits(view: str) -> frozenset[str]:
        return frozenset(n for n in pack.screen.candidates(view) if lexicons[n].matches(view))

    return hits


@dataclass(frozen=True)
class FeatureSpec:
    encoder: str
    dim: int
    lexicons: tuple[str, ...]
    hash_bits: int = 13
    min_gram: int = 1
    max_gram: int = 3
    context_weight: float = 0.5

    @property
    def dense_size(self) -> int:
        return 2 * self.dim + 2 * len(self.lexicons)

    @property
    def sparse_size(self) -> int:
        return 2 << self.hash_bits  # the sentence's n-grams, then the context's

    def context_columns(self) -> tuple[slice, slice, slice]:
        """Where the context's features are: its encoding and lexicon flags in the dense part,
        its n-grams in the sparse part."""
        lexicons = len(self.lexicons)
        dense_start = 2 * self.dim + lexicons
        return (
            slice(self.dim, 2 * self.dim),
            slice(dense_start, dense_start + lexicons),
            slice(1 << self.hash_bits, 2 << self.hash_bits),
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "encoder": self.encoder, "dim": self.dim, "lexicons": list(self.lexicons),
            "hash_bits": self.hash_bits, "min_gram": self.min_gram, "max_gram": self.max_gram,
            "context_weight": self.context_weight,
        }  # fmt: skip


@dataclass(frozen=True)
class Features:
    """A batch: dense rows, and the sparse part as CSR arrays."""

    dense: Matrix
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]
    data: Matrix


def _grams(text: str, spec: FeatureSpec, offset: int, weight: float) -> dict[int, float]:
    padded = f" {text} "
    mask = (1 << spec.hash_bits) - 1
    found: set[int] = set()
    for n in range(spec.min_gram, spec.max_gram + 1):
        for i in range(len(padded) - n + 1):
            found.add(offset + (zlib.crc32(padded[i : i + n].encode()) & mask))
    if not found:
        return {}
    value = weight / len(found) ** 0.5  # binary, L2-normalized
    return dict.fromkeys(found, value)


def featurize(
    pairs: Sequence[tuple[str, str]],
    spec: FeatureSpec,
    encoder: CachedEncoder,
    lexicon_hits: LexiconHits,
) -> Features:
    """Features of (sentence view, context view) pairs; an empty context has none."""
    texts = [text for text, _ in pairs]
    contexts = [context for _, context in pairs]
    vectors = encoder.encode(texts)
    context_vectors = encoder.encode(contexts) * spec.context_weight
    lexicon = {name: i for i, name in enumerate(spec.lexicons)}
    flags = np.zeros((len(pairs), 2 * len(lexicon)), np.float32)
    for row, (text, context) in enumerate(pairs):
        for name in lexicon_hits(text) if text else ():
            if name in lexicon:
                flags[row, lexicon[name]] = 1.0
        for name in lexicon_hits(context) if context else ():
            if name in lexicon:
                flags[row, len(lexicon) + lexicon[name]] = 1.0
    dense = np.hstack([vectors, context_vectors, flags]).astype(np.float32)
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for text, context in pairs:
        grams = _grams(text, spec, 0, 1.0) if text else {}
        if context:
            grams |= _grams(context, spec, 1 << spec.hash_bits, spec.context_weight)
        indices += grams.keys()
        data += grams.values()
        indptr.append(len(indices))
    return Features(
        dense,
        np.asarray(indptr, np.int64),
        np.asarray(indices, np.int64),
        np.asarray(data, np.float32),
    )
