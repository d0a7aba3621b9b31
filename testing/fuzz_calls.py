"""Mutated call files for the fuzz suite and bench/fuzz_batch.py: a good call changed the ways
tester and ASR output have broken the batch (wrong types, hostile strings, NULs, unpaired
surrogates, huge and non-finite numbers, deep nesting, truncation, stray bytes, Mandarin text
then Latin letters, long digit runs), driven by a `random.Random` so a seed or Hypothesis picks
them. Every file stays small (a few kB to about 0.5 MB), so a batch of them judges in seconds."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

HOSTILE: tuple[Any, ...] = (
    None, True, 0, -1, 3.5, 1e308, 10**30, "", " ", "\u0000", "a\u0000b", "\ud800", "\udc80x",
    "是的。 ok", "什么事儿？ OK", "好。\u3000吧。 yes", "x" * 300, "1" * 5000, "一" * 3000,
    "=HYPERLINK(\"http://x\")", "<script>x</script>", [], {}, [[[[[]]]]], {"a": {"b": {}}},
    "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+08:00", "2026-13-45T25:61:00+08:00",
    "2026-11-20T10:00:00", "Infinity", "\n\r\t", "🙂" * 50,
)  # fmt: skip
TOP_KEYS = ("call_id", "campaign", "language", "agent_id", "team", "customer_number",
            "started_at", "duration_s", "hangup_by", "segments", "revisit_of")  # fmt: skip
SEGMENT_KEYS = ("start", "end", "speaker", "text")
MAX_SEGMENTS = 3000  # however often segments are repeated: files stay under about 0.5 MB

Mutation = Callable[[dict[str, Any], random.Random], Any]


def _set_top(call: dict[str, Any], rng: random.Random) -> Any:
    call[rng.choice(TOP_KEYS)] = copy.deepcopy(rng.choice(HOSTILE))
    return call


def _segments(call: dict[str, Any]) -> list[dict[str, Any]]:
    """The call's segments, made a list of objects again if an earlier change broke them."""
    segments = call.get("segments")
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        segments = call["segments"] = [{}]
    return segments


def _set_segment(call: dict[str, Any], rng: random.Random) -> Any:
    segments = _segments(call) or [{}]
    rng.choice(segments)[rng.choice(SEGMENT_KEYS)] = copy.deepcopy(rng.choice(HOSTILE))
    call["segments"] = segments
    return call


def _drop(call: dict[str, Any], rng: random.Random) -> Any:
    call.pop(rng.choice(TOP_KEYS), None)
    return call


def _unknown(call: dict[str, Any], rng: random.Random) -> Any:
    call[rng.choice(("extra", "\u0000", "\ud800", "x" * 200))] = copy.deepcopy(rng.choice(HOSTILE))
    return call


def _many_segments(call: dict[str, Any], rng: random.Random) -> Any:
    call["segments"] = (_segments(call) * rng.randint(20, 200))[:MAX_SEGMENTS]
    return call


def _mixed_text(call: dict[str, Any], rng: random.Random) -> Any:
    """ASR output: Chinese then a space and Latin letters, digit runs, stray punctuation."""
    pieces = ["是的。", " ok", "什么事儿？", " OK", "嗯。", "好。", " 123", "四五六", "...", "？？"]
    for segment in _segments(call):
        if rng.random() < 0.5:
            segment["text"] = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
    return call


def _not_a_call(call: dict[str, Any], rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(HOSTILE))


JSON_MUTATIONS: tuple[Mutation, ...] = (
    _set_top, _set_top, _set_segment, _set_segment, _drop, _unknown, _many_segments,
    _mixed_text, _not_a_call,
)  # fmt: skip


def _text_mutation(text: str, rng: random.Random) -> str:
    """Changes to the JSON text itself: what json.dumps never writes."""
    kind = rng.randrange(6)
    if kind == 0:  # truncated
        return text[: rng.randrange(len(text) + 1)]
    if kind == 1:  # a number literal no parser should take
        literal = rng.choice(("NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "-0.0e-999"))
        return text.replace('"duration_s": ', f'"duration_s": {literal}, "x": ', 1)
    if kind == 2:  # deeply nested
        depth = rng.choice((40, 1000, 100_000))
        return text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    if kind == 3:  # an escape for an unpaired surrogate or a NUL
        escape = rng.choice(("\\ud800", "\\udfff", "\\u0000"))
        return text.replace('"text": "', '"text": "' + escape, 1)
    if kind == 4:  # a duplicate key (JSON allows it; the last wins)
        return text[:-1] + ', "call_id": ' + json.dumps(rng.choice(("", "x" * 129, "ok"))) + "}"
    at = rng.randrange(len(text) + 1)  # stray characters
    return text[:at] + rng.choice(("\x00", "\x7f", "{", "]", '"', "\\")) + text[at:]


def mutate(call: dict[str, Any], rng: random.Random) -> bytes:
    """A mutated copy of `call` as file bytes: one to three changes, then maybe a change to
    the text or bytes."""
    value: Any = copy.deepcopy(call)
    for _ in range(rng.randint(1, 3)):
        if isinstance(value, dict):
            value = rng.choice(JSON_MUTATIONS)(value, rng)
    text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.3:
        text = _text_mutation(text, rng)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:  # bytes that are not UTF-8, or a BOM
        data = rng.choice((b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3")) + data
    return data
