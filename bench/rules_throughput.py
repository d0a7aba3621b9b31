"""Rules-stage throughput: calls judged per second on one core, for 3-minute calls.

The calls are the bundled samples stretched to about 180 s of realistic turns (their middles
repeated, times shifted), so every check does the work it does on a real 3-minute call.
Rules load once; only `Engine.judge` is timed. Prints the figure and its ratio to the target.

    python bench/rules_throughput.py [--calls 2000] [--seconds 180]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

from qa_pipeline.ingest.batch import transcript_files
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.model import Call, Segment
from qa_pipeline.judging.judge import Judge, load_rules

ROOT = Path(__file__).resolve().parent.parent
TARGET = 300.0


def stretch(call: Call, seconds: float) -> Call:
    """Repeat the call's middle turns (not its opening or close) until it lasts `seconds`."""
    segments = list(call.segments)
    head, middle, tail = segments[:4], segments[4:-3], segments[-3:]
    out: list[Segment] = list(head)
    clock = head[-1].end
    while clock < seconds - 20 and middle:
        for seg in middle:
            length = seg.end - seg.start
            out.append(dataclasses.replace(seg, start=clock + 0.5, end=clock + 0.5 + length))
            clock += 0.5 + length
    for seg in tail:
        length = seg.end - seg.start
        out.append(dataclasses.replace(seg, start=clock + 0.5, end=clock + 0.5 + length))
        clock += 0.5 + length
    return dataclasses.replace(call, segments=tuple(out), duration_s=round(clock + 0.5, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    engine = Judge(load_rules())
    base = [
        stretch(load_call(p), args.seconds) for p in transcript_files(ROOT / "samples" / "calls")
    ]
    calls = [base[i % len(base)] for i in range(args.calls)]
    segments = sum(len(c.segments) for c in base) / len(base)
    minutes = sum(c.duration_s for c in base) / len(base) / 60

    engine.judge(calls[0])  # warm the compiled-pattern caches, as a long-running worker would
    rates = []
    for _ in range(args.repeats):  # a shared machine is noisy: report the median of repeats
        started = time.perf_counter()
        for call in calls:
            engine.judge(call)
        rates.append(len(calls) / (time.perf_counter() - started))
    rate = statistics.median(rates)
    print(f"calls: {len(calls)} ({minutes:.1f} min, {segments:.0f} segments each), one core")
    print(f"rules stage: median {rate:.0f} calls/s ({1000 / rate:.2f} ms per call); ", end="")
    print(f"runs: {', '.join(f'{r:.0f}' for r in rates)}")
    print(f"ratio to target {TARGET:.0f} calls/s: {rate / TARGET:.2f}x")


if __name__ == "__main__":
    main()
