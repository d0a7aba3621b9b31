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
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa_pipeline.text.script_conversion import to_traditional

Call = dict[str, Any]

# Homophone (or near) errors Whisper makes in Mandarin key words.
ZH_HOMOPHONES = {
    "体验期": "体验七", "退订": "退定", "电信": "典信", "机主": "鸡主", "开通": "开同",
    "工号": "公号", "试用": "是用", "免费": "免废", "短信": "断信", "彩铃": "菜铃",
    "取消": "取销", "长途": "常途", "包月": "保月", "收费": "收废", "方便": "方变",
}  # fmt: skip
EN_SPLITS = {"stormwatch": "storm watch", "ringback": "ring back", "northwind": "north wind"}
HALLUCINATIONS = {
    "zh": ["字幕由Amara.org社群提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "谢谢观看"],
    "en": ["Thanks for watching!", "Subtitles by the Amara.org community", "Please subscribe."],
}
ZH_FILLERS = ["嗯", "呃", "那个", "就是"]
EN_FILLERS = ["um", "uh", "uh", "er"]
_ZH_DIGITS = "零一二三四五六七八九"
_EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen"]  # fmt: skip
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_ORD = {1: "first", 2: "second", 3: "third", 5: "fifth", 8: "eighth", 9: "ninth", 12: "twelfth"}


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


def zh_number(value: int) -> str:
    if value < 10:
        return _ZH_DIGITS[value]
    if value < 20:
        return "十" + (_ZH_DIGITS[value % 10] if value % 10 else "")
    if value < 100:
        return _ZH_DIGITS[value // 10] + "十" + (_ZH_DIGITS[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        tail = "" if rest == 0 else ("零" + zh_number(rest) if rest < 10 else zh_number(rest))
        return _ZH_DIGITS[value // 100] + "百" + tail.replace("零十", "零一十")
    return "".join(_ZH_DIGITS[int(d)] for d in str(value))


def en_number(value: int) -> str:
    if value < 20:
        return _EN_ONES[value]
    if value < 100:
        return _EN_TENS[value // 10] + ("-" + _EN_ONES[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        return _EN_ONES[value // 100] + " hundred" + (" " + en_number(rest) if rest else "")
    return " ".join(_EN_ONES[int(d)] for d in str(value))


def en_ordinal(value: int) -> str:
    if value in _EN_ORD:
        return _EN_ORD[value]
    if value % 10 in _EN_ORD and value > 20:
        return _EN_TENS[value // 10] + "-" + _EN_ORD[value % 10]
    word = en_number(value)
    return word[:-1] + "ieth" if word.endswith("y") else word + "th"


def _zh_numbers(text: str, rng: random.Random) -> str:
    def repl(m: re.Match[str]) -> str:
        digits = m.group(0)
        if "." in digits:
            whole, frac = digits.split(".")
            return zh_number(int(whole)) + "点" + "".join(_ZH_DIGITS[int(d)] for d in frac)
        if len(digits) >= 3:  # codes and phone numbers are read digit by digit
            return "".join(_ZH_DIGITS[int(d)] for d in digits).replace("一", rng.choice("一幺"))
        word = zh_number(int(digits))
        return word.replace("三", "叁") if rng.random() < 0.15 else word

    return re.sub(r"\d+(?:\.\d+)?", repl, text)


def _en_money(m: re.Match[str], rng: random.Random) -> str:
    dollars, cents = m.group(1), m.group(2)
    if rng.random() < 0.5:
        return f"{en_number(int(dollars))} {en_number(int(cents))}"
    return f"{en_number(int(dollars))} dollars and {en_number(int(cents))} cents"


def _en_numbers(text: str, rng: random.Random) -> str:
    text = re.sub(r"\$(\d+)\.(\d\d)", lambda m: _en_money(m, rng), text)
    text = re.sub(r"(\d+)(?:st|nd|rd|th)\b", lambda m: en_ordinal(int(m.group(1))), text)
    text = re.sub(r"\b(\d+)-day\b", lambda m: en_number(int(m.group(1))) + "-day", text)
    return re.sub(r"\d+", lambda m: en_number(int(m.group(0))), text)


_PUNCT = re.compile(r"[，。！？、；：,!?;:…]+|\.(?!\d)")  # keep decimal points


def _strip_punctuation(text: str, language: str) -> str:
    return _PUNCT.sub("" if language == "zh" else " ", text).strip()


def _with_fillers(text: str, language: str, rng: random.Random) -> str:
    if language == "zh":
        filler = rng.choice(ZH_FILLERS)
        return filler + text if rng.random() < 0.5 else re.sub("，", "，" + filler, text, count=1)
    words = text.split(" ")
    at = rng.randrange(len(words))
    return " ".join([*words[:at], rng.choice(EN_FILLERS), *words[at:]])


def _segment_text(
    text: str, language: str, rng: random.Random, options: NoiseOptions, strip: bool
) -> str:
    if rng.random() < options.numbers:
        text = _zh_numbers(text, rng) if language == "zh" else _en_numbers(text, rng)
    if language == "zh" and rng.random() < options.homophones:
        for word, wrong in ZH_HOMOPHONES.items():
            if word in text and rng.random() < 0.6:
                text = text.replace(word, wrong, 1)
    if language == "en":
        text = text.lower()
        for word, split in EN_SPLITS.items():
            if rng.random() < 0.5:
                text = text.replace(word, split)
    if rng.random() < options.fillers:
        text = _with_fillers(text, language, rng)
    if strip or rng.random() < 0.2:
        text = _strip_punctuation(text, language)
    return text


def _split(segment: dict[str, Any], rng: random.Random, language: str) -> list[dict[str, Any]]:
    text = segment["text"]
    units = list(text) if language == "zh" else text.split(" ")
    if len(units) < 4:
        return [segment]
    at = rng.randrange(1, len(units) - 1)
    joiner = "" if language == "zh" else " "
    first, second = joiner.join(units[:at]), joiner.join(units[at:])
    middle = round(segment["start"] + (segment["end"] - segment["start"]) * at / len(units), 2)
    return [segment | {"text": first, "end": middle}, segment | {"text": second, "start": middle}]


def _merge(
    segments: list[dict[str, Any]], rng: random.Random, language: str, p: float
) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    joiner = "" if language == "zh" else " "
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


def _loop(segments: list[dict[str, Any]], rng: random.Random, language: str) -> None:
    """Whisper loops on what was said: repeat the segment, or its last few characters/words."""
    index = rng.randrange(len(segments))
    segment = segments[index]
    if rng.random() < 0.5:  # the same segment again
        segments.insert(index + 1, dict(segment))
        return
    text = segment["text"].rstrip("。！？，.!?, ")
    units = list(text) if language == "zh" else text.split(" ")
    if len(units) < 2:
        return
    joiner = "" if language == "zh" else " "
    tail = joiner.join(units[-rng.randint(2, min(4, len(units))) :])
    segments[index] = segment | {"text": text + (joiner + tail) * rng.randint(4, 8)}


def make_noisy(call: Call, seed: int, options: NoiseOptions | None = None) -> Call:
    """An ASR-like variant of `call` (a call-file dict); the same seed gives the same variant."""
    options = options or NoiseOptions()
    rng = random.Random(f"{call['call_id']}:{seed}")
    language = call["language"]
    segments = [dict(s) for s in call["segments"]]
    strip_all = rng.random() < options.no_punctuation
    traditional = range(0)
    if language == "zh" and rng.random() < 0.8:
        length = max(1, int(len(segments) * options.traditional))
        begin = rng.randrange(max(1, len(segments) - length + 1))
        traditional = range(begin, begin + length)
    noisy: list[dict[str, Any]] = []
    for index, segment in enumerate(segments):
        text = _segment_text(segment["text"], language, rng, options, strip_all)
        if index in traditional:
            text = to_traditional(text)
        pieces = (
            _split(segment | {"text": text}, rng, language)
            if rng.random() < options.split
            else [segment | {"text": text}]
        )
        noisy.extend(pieces)
    noisy = _merge(noisy, rng, language, options.merge)
    if rng.random() < options.loop:
        _loop(noisy, rng, language)
    if rng.random() < options.hallucination and len(noisy) > 1:
        # Whisper hallucinates in silence: put it in the longest pause.
        at = max(range(1, len(noisy)), key=lambda i: noisy[i]["start"] - noisy[i - 1]["end"])
        gap_start = noisy[at - 1]["end"]
        speaker = rng.choice(sorted({s["speaker"] for s in noisy}))  # labels may be anonymous
        text = rng.choice(HALLUCINATIONS[language])
        end = max(gap_start, noisy[at]["start"])
        noisy.insert(at, {"start": gap_start, "end": end, "speaker": speaker, "text": text})
    if options.anonymous:
        agent_first = rng.random() < 0.5
        names = {"agent": "SPEAKER_00" if agent_first else "SPEAKER_01"}
        names["customer"] = "SPEAKER_01" if agent_first else "SPEAKER_00"
        # A call that is already anonymous (ASR-style) keeps its labels.
        noisy = [s | {"speaker": names.get(s["speaker"], s["speaker"])} for s in noisy]
    duration = max(call["duration_s"], noisy[-1]["end"])
    return call | {"segments": noisy, "duration_s": duration}


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
