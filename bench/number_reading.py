"""Number reading scales linearly with the text's length: ratios measured in one run.

Each shape of hostile or long input (a digit run, a run of Chinese numerals, number words, many
amounts in one clause, speech without punctuation) is drawn at random (seeded, so no repetition
loop for the cleanup to collapse) at two sizes, N and 4N characters. For each, the reading
stages (digitize, then money, dates, durations and stated lengths on the digitized view) and the
whole judge (the text as one agent turn of a call) are timed, and the ratio t(4N) / t(N)
printed: about 4 is linear, about 16 quadratic. Each time is the best of `--repeats`, each of
enough calls to last 50 ms, with the garbage collector off (a shared machine is noisy).

    python bench/number_reading.py [--size 4000] [--repeats 3]
        [--judge 50000 200000 --shape "en speech, no punctuation"]
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.ingest.model import Call  # noqa: E402
from qa_pipeline.judging.judge import Judge, load_rules  # noqa: E402
from qa_pipeline.languages.registry import get  # noqa: E402
from testing.excerpts import excerpt_call  # noqa: E402

CAMPAIGN = {"zh": "weather-12121", "en": "stormwatch"}
EN_WORDS = "zero one two three four five six seven eight nine ten twelve twenty ninety hundred"
EN_SPEECH = [
    "it's two ninety nine a month", "the first thirty days are free", "text stop to 12121",
    "your trial ends on december fifth", "that's $2.99 each month after the trial",
    "call six one one to cancel", "one ninety nine dollars", "a fourteen day free trial",
    "employee number 5830", "i'll add it to your line today", "between five and ten dollars",
]  # fmt: skip
ZH_SPEECH = [
    "每个月三块钱", "前三十天免费", "到十二月五号结束", "发送TD一二一二一到一零零零一",
    "工号三五一二", "两块五一个月", "超出每分钟七分钱", "一分钱都不收", "百分之五十",
    "给您开通了", "三千五块", "您是机主本人吗",
]  # fmt: skip
# Each shape: (language, name, the pieces its text is drawn from, joined by).
SHAPES = [
    ("en", "digit run", list("0123456789"), ""),
    ("en", "digits and spaces", list("0123456789"), " "),
    ("en", "number words", EN_WORDS.split(), " "),
    ("en", "words joined by and", EN_WORDS.split(), " and "),
    ("en", "amounts in one clause", [f"{d} dollars" for d in range(1, 100)], " "),
    ("en", "speech, no punctuation", EN_SPEECH, " "),
    ("zh", "digit run", list("0123456789"), ""),
    ("zh", "numeral run", list("零一二三四五六七八九幺两"), ""),
    ("zh", "numerals and units", list("零一二三四五六七八九十百千万亿"), ""),
    ("zh", "amounts in one clause", [f"{d}块" for d in range(1, 100)], ""),
    ("zh", "speech, no punctuation", ZH_SPEECH, ""),
]


def _draw(pieces: list[str], joiner: str, size: int) -> str:
    rng = random.Random(size)
    out: list[str] = []
    length = 0
    while length < size:
        out.append(rng.choice(pieces))
        length += len(out[-1]) + len(joiner)
    return joiner.join(out)


def _time(fn: Callable[[str], object], text: str, repeats: int) -> float:
    """Best seconds per call of `repeats` rounds, each of enough calls to last 50 ms."""
    fn(text[:100])  # warm the compiled-pattern caches
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeats):
            calls, elapsed = 0, 0.0
            started = time.perf_counter()
            while elapsed < 0.05:
                fn(text)
                calls += 1
                elapsed = time.perf_counter() - started
            best = min(best, elapsed / calls)
    finally:
        gc.enable()
    return best


def _stages(code: str, engine: Judge) -> dict[str, Callable[[str], object]]:
    lang = get(code)
    reach = engine.ruleset.languages[code].period_reach
    return {
        "digitize": lang.digitize,
        "money": lambda text: lang.find_money(lang.digitize(text), reach),
        "dates": lambda text: lang.find_dates(lang.digitize(text)),
        "durations": lambda text: lang.find_durations(lang.digitize(text)),
        "lengths": lambda text: lang.stated_lengths(lang.digitize(text)),
        "judge": lambda text: engine.judge(_call(code, text)),
    }


def _call(code: str, text: str) -> Call:
    hello = "hello" if code == "en" else "喂"
    turns = [("customer", hello), ("agent", text)]
    return excerpt_call(turns, campaign=CAMPAIGN[code], language=code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="N, in characters")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--judge", nargs="*", type=int, default=[], help="also judge one turn of these sizes"
    )
    parser.add_argument("--shape", default="en speech, no punctuation", help="of that turn")
    args = parser.parse_args()
    engine = Judge(load_rules())
    small, large = args.size, 4 * args.size
    print(f"t(N) and t(4N), N = {small} characters; ratio 4 is linear, 16 quadratic")
    ratios = []
    for code, shape, pieces, joiner in SHAPES:
        for stage, fn in _stages(code, engine).items():
            a = _time(fn, _draw(pieces, joiner, small), args.repeats)
            b = _time(fn, _draw(pieces, joiner, large), args.repeats)
            ratios.append(b / a)
            print(f"{code} {shape:23} {stage:9} {a:9.5f}s {b:9.5f}s  ratio {b / a:5.1f}")
    ratios.sort()
    print(f"ratios: median {ratios[len(ratios) // 2]:.1f}, worst {ratios[-1]:.1f}")
    shapes = {f"{code} {name}": (code, pieces, joiner) for code, name, pieces, joiner in SHAPES}
    code, pieces, joiner = shapes[args.shape]
    for size in args.judge:
        call = _call(code, _draw(pieces, joiner, size))
        gc.collect()
        started = time.perf_counter()
        engine.judge(call)
        seconds = time.perf_counter() - started
        print(f"judge one {args.shape} turn of {size} characters: {seconds:.2f}s")


if __name__ == "__main__":
    main()
