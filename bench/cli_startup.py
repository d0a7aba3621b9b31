"""How long the command line takes to answer `--version` and `--help`, against the same answer
with the imports the command line used to make at startup (before they were made lazy: numpy,
the batch runner, ASR, evaluation, scorecards with pandas, storage, ...), in one run. Each
command runs in a fresh interpreter, alternating, best of N.

    python bench/cli_startup.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The module-level imports of qa_pipeline/cli.py before the lazy-import change.
EAGER = (
    "numpy",
    "qa_pipeline.asr.model_config",
    "qa_pipeline.asr.whisper",
    "qa_pipeline.batch.run",
    "qa_pipeline.evaluation.labels",
    "qa_pipeline.evaluation.metrics",
    "qa_pipeline.evaluation.noise",
    "qa_pipeline.hearing.listener",
    "qa_pipeline.judging.judge",
    "qa_pipeline.scorecards.compute",
    "qa_pipeline.scorecards.export",
    "qa_pipeline.scorecards.frame",
    "qa_pipeline.scorecards.persist",
    "qa_pipeline.scorecards.report",
    "qa_pipeline.storage.db",
    "qa_pipeline.storage.repository",
    "qa_pipeline.storage.tasks",
    "qa_pipeline.tasks.lists",
    "qa_pipeline.verdict.serialize",
    "qa_pipeline.verdict.summary",
    "qa_pipeline.review.settings",
)


def _seconds(code: str, argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    lazy = "import sys; from qa_pipeline.cli import main; sys.argv[0] = 'qa-pipeline'; main()"
    eager = f"import {', '.join(EAGER)}; " + lazy
    for flag in ("--version", "--help"):
        now: list[float] = []
        before: list[float] = []
        for n in range(rounds):
            pair = [(now, lazy), (before, eager)]
            for times, code in pair if n % 2 else reversed(pair):
                times.append(_seconds(code, [flag]))  # argparse exits 0 after answering
        best_now, best_before = min(now), min(before)
        print(f"qa-pipeline {flag}: {best_now:.2f} s lazy, {best_before:.2f} s with the old "
              f"eager imports; {best_before / best_now:.0f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
