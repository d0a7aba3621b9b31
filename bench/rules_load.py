"""What the pattern examples cost when the rules load (every process loads them at startup), in
one run: the bundled rules against a copy with every example taken out, both written by the same
YAML dumper so only the examples differ. Loads alternate (each first in every other round) and
the best of each is compared; the compiled regular expressions are cached after the first load,
so the difference is what reading and validating the examples adds.

    python bench/rules_load.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.checks.registry import REGISTRY  # noqa: E402
from qa_pipeline.ruleset.loader import load_ruleset  # noqa: E402

PATTERN_FILES = ("cleanup.yaml", "languages/*.yaml", "forbidden/*.yaml")


def _plain(node: Any) -> Any:
    """The rule data with every `{p, e, not}` entry written as its bare regular expression."""
    if isinstance(node, dict):
        if "p" in node and "e" in node:
            return node["p"]
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    return node


def _as_is(node: Any) -> Any:
    return node


def _copies(base: Path) -> tuple[Path, Path]:
    """(with examples, without), both dumped the same way."""
    with_examples, without = base / "with", base / "without"
    for target, rewrite in ((with_examples, _as_is), (without, _plain)):
        shutil.copytree(ROOT / "rules", target)
        for pattern in PATTERN_FILES:
            for path in target.glob(pattern):
                data = rewrite(yaml.safe_load(path.read_text(encoding="utf-8")))
                path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return with_examples, without


def _load(root: Path) -> float:
    start = time.perf_counter()
    load_ruleset(REGISTRY, root)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with_examples, without = _copies(Path(tmp))
        roots = {"with examples": with_examples, "without": without}
        best = dict.fromkeys(roots, float("inf"))
        for round_ in range(args.rounds):
            for name in sorted(roots, reverse=round_ % 2 == 1):  # neither always goes first
                best[name] = min(best[name], _load(roots[name]))
    for name, seconds in best.items():
        print(f"rules load, {name:13}: {seconds * 1000:7.0f} ms (best of {args.rounds})")
    extra, ratio = best["with examples"] - best["without"], best["with examples"] / best["without"]
    print(f"examples add {extra * 1000:.0f} ms: ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
