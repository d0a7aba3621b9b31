"""ASR-like variants of labeled calls, seeded, for robustness tests and `eval --noisy`.

Each transformation imitates something Whisper and diarization do to real calls: traditional
characters in stretches, lost or invented punctuation, numbers as digits or words (3 / 三 / 叁,
"two ninety nine"), homophone errors in key words, fillers, sentences split over segments and
segments merged, anonymous speaker labels, hallucinations on silence and repetition loops. The
labels of a call do not change: a robust engine gives the same verdicts.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.languages import Language
from qa_pipeline.languages import get as get_language

Call = dict[str, Any]
NOISE_RECOGNIZER = "simulated-asr"  # the `heard_by` of a noisy variant


@dataclass(frozen=True)
class NoiseOptions:
    """Probabilities per segment unless noted."""

    traditional: float = 0.35  # zh: share of the call (a contiguous stretch) in traditional
    no_punctuation: float = 0.5  # per call: strip all punctuation (else per segment 0.2)
    numbers: float = 0.8
    homophones: float = 0.5
    fillers: float = 0.25
    split: float = 0.15
    merge: float = 0.3
    anonymous: bool = True
    hallucination: float = 0.6  # per call
    loop: float = 0.3  # per call


def _segment_text(
    text: str, lang: Language, rng: random.Random, options: NoiseOptions, strip: bool
) -> str:
    noise = lang.noise
    if rng.random() < options.numbers:
        text = noise.spell_numbers(text, rng)
    text = noise.mishear(text, rng, options.homophones)
    if rng.random() < options.fillers:
        text = noise.filler(text, rng)
    if strip or rng.random() < 0.2:
        text = noise.strip_punctuation(text)
    return text


def _units(text: str, lang: Language) -> list[str]:
    return text.split(" ") if lang.spaced else list(text)


def _split(segment: dict[str, Any], rng: random.Random, lang: Language) -> list[dict[str, Any]]:
    text = segment["text"]
    units = _units(text, lang)
    if len(units) < 4:
        return [segment]
    at = rng.randrange(1, len(units) - 1)
    first, second = lang.joiner.join(units[:at]), lang.joiner.join(units[at:])
    middle = round(segment["start"] + (segment["end"] - segment["start"]) * at / len(units), 2)
    return [segment | {"text": first, "end": middle}, segment | {"text": second, "start": middle}]


def _merge(
    segments: list[dict[str, Any]], rng: random.Random, lang: Language, p: float
) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    joiner = lang.joiner
    for segment in segments:
        previous = merged[-1] if merged else None
        if previous and previous["speaker"] == segment["speaker"] and rng.random() < p:
            merged[-1] = previous | {
                "end": segment["end"],
                "text": previous["text"] + joiner + segment["text"],
            }
        else:
            merged.append(segment)
    return merged


def _loop(segments: list[dict[str, Any]], rng: random.Random, lang: Language) -> None:
    """Whisper loops on what was said: repeat the segment, or its last few characters/words."""
    index = rng.randrange(len(segments))
    segment = segments[index]
    if rng.random() < 0.5:  # the same segment again
        segments.insert(index + 1, dict(segment))
        return
    text = segment["text"].rstrip("。！？，.!?, ")
    units = _units(text, lang)
    if len(units) < 2:
        return
    joiner = lang.joiner
    tail = joiner.join(units[-rng.randint(2, min(4, len(units))) :])
    segments[index] = segment | {"text": text + (joiner + tail) * rng.randint(4, 8)}


def make_noisy(call: Call, seed: int, options: NoiseOptions | None = None) -> Call:
    """An ASR-like variant of `call` (a call-file dict); the same seed gives the same variant."""
    options = options or NoiseOptions()
    rng = random.Random(f"{call['call_id']}:{seed}")
    lang = get_language(call["language"])
    segments = [dict(s) for s in call["segments"]]
    strip_all = rng.random() < options.no_punctuation
    traditional = range(0)
    if lang.noise.variant_script("") is not None and rng.random() < 0.8:
        length = max(1, int(len(segments) * options.traditional))
        begin = rng.randrange(max(1, len(segments) - length + 1))
        traditional = range(begin, begin + length)
    noisy: list[dict[str, Any]] = []
    for index, segment in enumerate(segments):
        text = _segment_text(segment["text"], lang, rng, options, strip_all)
        if index in traditional:
            text = lang.noise.variant_script(text) or text
        pieces = (
            _split(segment | {"text": text}, rng, lang)
            if rng.random() < options.split
            else [segment | {"text": text}]
        )
        noisy.extend(pieces)
    noisy = _merge(noisy, rng, lang, options.merge)
    if rng.random() < options.loop:
        _loop(noisy, rng, lang)
    if rng.random() < options.hallucination and len(noisy) > 1:
        # Whisper hallucinates in silence: put it in the longest pause.
        at = max(range(1, len(noisy)), key=lambda i: noisy[i]["start"] - noisy[i - 1]["end"])
        gap_start = noisy[at - 1]["end"]
        speaker = rng.choice(sorted({s["speaker"] for s in noisy}))  # labels may be anonymous
        text = rng.choice(lang.noise.hallucinations)
        end = max(gap_start, noisy[at]["start"])
        noisy.insert(at, {"start": gap_start, "end": end, "speaker": speaker, "text": text})
    if options.anonymous:
        agent_first = rng.random() < 0.5
        names = {"agent": "SPEAKER_00" if agent_first else "SPEAKER_01"}
        names["customer"] = "SPEAKER_01" if agent_first else "SPEAKER_00"
        # A call that is already anonymous (ASR-style) keeps its labels.
        noisy = [s | {"speaker": names.get(s["speaker"], s["speaker"])} for s in noisy]
    duration = max(call["duration_s"], noisy[-1]["end"])
    # Read as a recognizer's words are read (the checks' tolerant reading of heard phrases).
    return call | {"segments": noisy, "duration_s": duration, "heard_by": NOISE_RECOGNIZER}


def write_noisy_batch(
    input_dir: Path, out_dir: Path, seed: int, options: NoiseOptions | None = None
) -> Path:
    """Noisy variants of every call file in `input_dir`, with its labels, in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(input_dir.glob("*.json")):
        call = json.loads(path.read_text(encoding="utf-8"))
        noisy = make_noisy(call, seed, options)
        (out_dir / path.name).write_text(
            json.dumps(noisy, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    labels = input_dir / "labels.jsonl"
    if labels.is_file():
        shutil.copy(labels, out_dir / "labels.jsonl")
    return out_dir
