"""A call's sentences read in one pass: the same features and heads as features.py and heads.py
(`featurize` and `HeadSet.read` stay the reference, and training's path), computed once per
distinct text of the call and vectorized.

- A turn's view is also the context of the other party's next turn: its encoding, lexicon flags
  and n-grams are computed once, and its context part (the weights' second half) once more.
- The character n-grams are hashed by CRC-32 in numpy over every text of the call at once
  (zlib's CRC-32, bit for bit: the same buckets as `features._grams`).
- Every head's weights are stacked side by side, so the whole call is one matrix product for the
  encodings, one for the lexicon flags and one gather-and-sum for the n-grams.
- What a text adds to the logits, as a sentence and as context, is kept by text (bounded, like
  the forbidden-phrase memo: a campaign's script recurs word for word across calls), for the
  life of the heads and the rules' lexicons that made it.
Readings equal the reference's to float32 rounding (tests/test_understanding.py checks it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from qa_pipeline.understanding.encoders import CachedEncoder
from qa_pipeline.understanding.features import FeatureSpec, LexiconHits
from qa_pipeline.understanding.heads import HeadSet
from qa_pipeline.understanding.reading import Distribution

Matrix = npt.NDArray[np.float32]


def _crc_table() -> npt.NDArray[np.uint32]:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(0xEDB88320), table >> 1)
    return table.astype(np.uint32)


_TABLE = _crc_table()


def _utf8(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int8]]:
    """Each code point's UTF-8 bytes (up to 4, in a row; 0 past its size; one column when all
    are ASCII) and how many there are, taken from the encoded text (one gather, no bit
    arithmetic per byte)."""
    joined = "".join(texts)
    if joined.isascii():  # English: a byte a character, its code
        data = np.frombuffer(joined.encode("ascii"), np.uint8).astype(np.uint32)
        return data[:, None], np.ones(len(data), np.int8)
    points = np.frombuffer(joined.encode("utf-32-le"), np.uint32)
    size = np.ones(len(points), np.int8)
    size[points >= 0x80] = 2
    size[points >= 0x800] = 3
    size[points >= 0x10000] = 4
    encoded = np.frombuffer(joined.encode("utf-8") + b"\0\0\0", np.uint8).astype(np.uint32)
    starts = np.cumsum(size, dtype=np.int64) - size
    width = int(size.max(initial=1))
    out = np.zeros((len(points), 4), np.uint32)
    for k in range(width):
        out[:, k] = np.where(k < size, encoded[starts + k], 0)
    return out, size


def _step(
    state: npt.NDArray[np.uint32],
    data: npt.NDArray[np.uint32],
    size: npt.NDArray[np.int8],
    width: int,
) -> npt.NDArray[np.uint32]:
    """CRC-32 state after each row's character (`width`: the most bytes any has)."""
    for k in range(width):
        nxt = _TABLE[(state ^ data[:, k]) & 0xFF] ^ (state >> 8)
        state = nxt if k == 0 else np.where(k < size, nxt, state)  # every character has a byte 0
    return state


def gram_buckets(
    texts: Sequence[str], spec: FeatureSpec
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Matrix]:
    """The hashed n-gram buckets of each text (as `features._grams`, before its offset):
    (text index, bucket) pairs sorted and distinct, and each text's L2 value 1/sqrt(count)."""
    padded = [f" {t} " for t in texts]
    # each character's row in a table of (text, bucket) flags: marking the grams' cells and
    # listing the marked ones sorts and deduplicates them (a sort of a call's few thousand keys
    # cost 4 times as much)
    base = np.repeat(np.arange(len(texts), dtype=np.int64) << spec.hash_bits,
                     [len(p) for p in padded])  # fmt: skip
    data, size = _utf8(padded)
    width = int(size.max(initial=1))
    state = np.full(len(size), 0xFFFFFFFF, np.uint32)
    seen = np.zeros(len(texts) << spec.hash_bits, bool)
    mask = np.uint32((1 << spec.hash_bits) - 1)
    for n in range(1, spec.max_gram + 1):
        if n == 1:
            state = _step(state, data, size, width)
        else:  # the (n-1)-gram at i, extended by the character at i+n-1
            state = _step(state[:-1], data[n - 1 :], size[n - 1 :], width)
        if n >= spec.min_gram:
            row = base[: len(state)]
            valid = row == base[n - 1 :]  # the gram lies within one text
            seen[row[valid] | (~state[valid] & mask)] = True
    found = np.flatnonzero(seen)
    text = found >> spec.hash_bits
    counts = np.bincount(text, minlength=len(texts)).astype(np.float32)
    values = np.zeros(len(texts), np.float32)
    values[counts > 0] = 1.0 / np.sqrt(counts[counts > 0])
    return text, found & ((1 << spec.hash_bits) - 1), values


@dataclass(frozen=True)
class _Side:
    """The tasks of one side: their columns in the stacked logits, side by side, and where each
    task's labels lie among them (softmax per task, all tasks of the side at once)."""

    columns: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    sizes: npt.NDArray[np.int64]
    tasks: tuple[tuple[str, tuple[str, ...], int, int], ...]  # name, labels, from, to

    @classmethod
    def of(cls, heads: Sequence[tuple[str, tuple[str, ...], int]]) -> _Side:
        """`heads`: (task, labels, first column in the stacked logits)."""
        columns: list[int] = []
        starts: list[int] = []
        tasks = []
        for name, labels, first in heads:
            starts.append(len(columns))
            tasks.append((name, labels, len(columns), len(columns) + len(labels)))
            columns += range(first, first + len(labels))
        sizes = [len(labels) for _, labels, _ in heads]
        return cls(np.array(columns), np.array(starts), np.array(sizes), tuple(tasks))


class StackedHeads:
    """Every head of a HeadSet side by side: one weight matrix per kind of feature."""

    def __init__(self, heads: HeadSet, memo_size: int = 20_000) -> None:
        spec = heads.spec
        self.memo: dict[str, Matrix] = {}  # text -> its logits as sentence, then as context
        self.memo_size = memo_size
        self.spec = spec
        self.columns = {name: i for i, name in enumerate(spec.lexicons)}  # lexicon flags
        by_side: dict[str, list[tuple[str, tuple[str, ...], int]]] = {}
        start = 0
        for head in heads.heads.values():
            by_side.setdefault(head.side, []).append((head.task, head.labels, start))
            start += len(head.labels)
        self.sides = {side: _Side.of(found) for side, found in by_side.items()}
        dense = np.hstack([h.dense for h in heads.heads.values()]).astype(np.float32)
        sparse = np.hstack([h.sparse for h in heads.heads.values()]).astype(np.float32)
        self.bias = np.concatenate([h.bias for h in heads.heads.values()]).astype(np.float32)
        # a text's own part and its part as context (the columns FeatureSpec places), with the
        # context weight folded in; each own part lies just before or after its context part
        encoding, flags, grams = spec.context_columns()
        weight = spec.context_weight
        self.encoding = np.ascontiguousarray(dense[: encoding.start])
        self.context_encoding = np.ascontiguousarray(dense[encoding] * weight)
        self.flags = np.ascontiguousarray(dense[encoding.stop : flags.start])
        self.context_flags = np.ascontiguousarray(dense[flags])
        # both n-gram parts side by side: a text's rows are gathered and summed once
        self.grams = np.hstack([sparse[: grams.start], sparse[grams] * weight])

    def read(
        self,
        pairs: Sequence[tuple[str, str]],
        sides: Sequence[str],
        encoder: CachedEncoder,
        hits: LexiconHits,
    ) -> list[dict[str, Distribution]]:
        """Each (view, context view) pair's distribution for every task of its side."""
        texts = list(dict.fromkeys([t for t, _ in pairs] + [c for _, c in pairs if c]))
        index = {text: i for i, text in enumerate(texts)}
        own, as_context = self._remembered(texts, encoder, hits)
        rows = np.fromiter((index[t] for t, _ in pairs), np.int64, len(pairs))
        logits = own[rows] + self.bias
        with_context = [(row, index[c]) for row, (_, c) in enumerate(pairs) if c]
        if with_context:
            at, of = np.array(with_context, np.int64).T
            logits[at] += as_context[of]
        out: list[dict[str, Distribution]] = [{} for _ in pairs]
        for side, group in self.sides.items():
            chosen = [row for row, s in enumerate(sides) if s == side]
            if not chosen:
                continue
            block = logits[chosen][:, group.columns]
            top = np.maximum.reduceat(block, group.starts, axis=1)
            exp = np.exp(block - np.repeat(top, group.sizes, axis=1))
            total = np.add.reduceat(exp, group.starts, axis=1)
            probs = (exp / np.repeat(total, group.sizes, axis=1)).astype(np.float32).tolist()
            for row, p in zip(chosen, probs, strict=True):
                found = out[row]
                for name, labels, a, b in group.tasks:
                    found[name] = Distribution(labels, tuple(p[a:b]))
        return out

    def forget(self) -> None:
        self.memo.clear()

    def _remembered(
        self, texts: list[str], encoder: CachedEncoder, hits: LexiconHits
    ) -> tuple[Matrix, Matrix]:
        """`_parts`, from the memo where it has the text."""
        rows = {t: self.memo[t] for t in texts if t in self.memo}
        missing = [t for t in texts if t not in rows]
        if missing:
            own, as_context = self._parts(missing, encoder, hits)
            new = dict(zip(missing, np.hstack([own, as_context]), strict=True))
            if len(self.memo) + len(new) > self.memo_size:
                self.memo.clear()  # bounded: memory stays flat however many calls a batch has
            self.memo.update(new)
            rows |= new
        both = np.stack([rows[t] for t in texts])
        classes = len(self.bias)
        return both[:, :classes], both[:, classes:]

    def _parts(
        self, texts: list[str], encoder: CachedEncoder, hits: LexiconHits
    ) -> tuple[Matrix, Matrix]:
        """Each distinct text's logits as the sentence read, and as the context of another."""
        vectors = encoder.encode(texts)
        hit = np.zeros((len(texts), len(self.columns)), np.float32)
        for row, text in enumerate(texts):
            for name in hits(text) if text else ():
                column = self.columns.get(name)  # a lexicon the heads do not know reads nothing
                if column is not None:
                    hit[row, column] = 1.0
        own = vectors @ self.encoding + hit @ self.flags
        as_context = vectors @ self.context_encoding + hit @ self.context_flags
        nonempty = [i for i, t in enumerate(texts) if t]
        if nonempty:
            which, buckets, values = gram_buckets([texts[i] for i in nonempty], self.spec)
            starts = np.searchsorted(which, np.arange(len(nonempty)))
            weight = values[which][:, None]
            at = np.asarray(nonempty)
            rows = np.take(self.grams, buckets, axis=0)  # a third faster than self.grams[buckets]
            rows *= weight  # in place: a call's rows are a megabyte or so
            summed = np.add.reduceat(rows, starts)
            classes = own.shape[1]
            own[at] += summed[:, :classes]
            as_context[at] += summed[:, classes:]
        return own, as_context
