"""What the flow benchmarks share: a quiet throwaway Prefect home, and a night's batch of
replicated sample calls. Import it before anything that imports Prefect."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = "2026-11-20"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="qa-bench-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def make_batch(root: Path, count: int) -> Path:
    """`root` holding the folder of one night (DAY) with `count` replicated sample calls."""
    from testing.synthetic import replicate

    replicate(ROOT / "samples" / "calls", root / DAY, count)
    return root
