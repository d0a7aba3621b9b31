"""Number reading scales linearly with the text's length: ratios measured in one run.

Each shape of hostile or long input (a digit run, a run of Chinese numerals, number words, many
amounts in one clause, speech without punctuation) is built at two sizes, N and 4N characters.
For each, the reading stages (digitize, then money, dates, durations and stated lengths on the
digitized view) and the whole judge (the text as one agent turn of a call) are timed, and the
ratio t(4N) / t(N) printed: about 4 is linear, about 16 quadratic. A shared machine is noisy,
so each time is the best of `--repeats`.

    python bench/number_reading.py [--size 4000] [--repeats 3] [--judge-mb 5]
"""

from __future__ import annotations

import argparse
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
# The repeated unit of each shape; a shape's text is its unit repeated to the size.
SHAPES = {
    "en": {
        "digit run": "7",
        "digits and spaces": "7 ",
        "number words": "nine ",
        "words, no and-joins": "five and ",
        "amounts in one clause": "2 dollars ",
        "speech": "it's two ninety nine a month and the first thirty days are free ",
    },
    "zh": {
        "digit run": "7",
        "numeral run": "七",
        "units run": "十",
        "amounts in one clause": "3块",
        "speech": "每个月三块钱前三十天免费到十二月五号结束",
    },
}


def _best(fn: Callable[[str], object], text: str, repeats: int) -> float:
    fn(text[:100])  # warm the compiled-pattern caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - started)
    return min(times)


def _stages(code: str, engine: Judge) -> dict[str, Callable[[str], object]]:
    lang = get(code)
    pack = engine.ruleset.languages[code]
    return {
        "digitize": lang.digitize,
        "money": lambda text: lang.find_money(lang.digitize(text), pack.period_reach),
        "dates": lambda text: lang.find_dates(lang.digitize(text)),
        "durations": lambda text: lang.find_durations(lang.digitize(text)),
        "lengths": lambda text: lang.stated_lengths(lang.digitize(text)),
        "judge": lambda text: engine.judge(_call(code, text)),
    }


def _call(code: str, text: str) -> Call:
    hello = "hello" if code == "en" else "喂"
    turns = [("customer", hello), ("agent", text)]
    return excerpt_call(turns, campaign=CAMPAIGN[code], language=code)


def _text(unit: str, size: int) -> str:
    return unit * max(1, size // len(unit))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4000, help="N, in characters")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--judge-mb", type=float, default=0, help="also judge one English speech turn this big"
    )
    args = parser.parse_args()
    engine = Judge(load_rules())
    small, large = args.size, 4 * args.size
    print(f"t(N) and t(4N), N = {small} characters; ratio 4 is linear, 16 quadratic")
    worst = 0.0
    for code, shapes in SHAPES.items():
        stages = _stages(code, engine)
        for shape, unit in shapes.items():
            for stage, fn in stages.items():
                a = _best(fn, _text(unit, small), args.repeats)
                b = _best(fn, _text(unit, large), args.repeats)
                ratio = b / max(a, 1e-6)
                if b >= 0.005:  # below 5 ms the ratio is timer noise
                    worst = max(worst, ratio)
                print(f"{code} {shape:22} {stage:9} {a:8.4f}s {b:8.4f}s  ratio {ratio:5.1f}")
    print(f"worst ratio of stages taking 5 ms or more at 4N: {worst:.1f}")
    if args.judge_mb:
        text = _text(SHAPES["en"]["speech"], int(args.judge_mb * 1_000_000))
        seconds = _best(_stages("en", engine)["judge"], text, 1)
        print(f"judge one English agent turn of {len(text) / 1e6:.1f} MB: {seconds:.1f}s")


if __name__ == "__main__":
    main()
