"""How much of a labelled batch the review queue takes, against what truly needs a look: the
calls are judged into a fresh SQLite database, the queue is synced with the default review
settings, and the flagged calls are compared with the labels' true flags (a sale that is not
valid, a forbidden phrase, the agent hung up first).

    python bench/queue_share.py [DIR ...]   (default: the dev calls and the sample calls)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa_pipeline.batch.run import run_batch  # noqa: E402
from qa_pipeline.judging.judge import load_rules  # noqa: E402
from qa_pipeline.review.queue import QueueFilter, build_queue, sync_queue  # noqa: E402
from qa_pipeline.review.settings import ReviewSettings  # noqa: E402
from qa_pipeline.storage.db import connect  # noqa: E402
from qa_pipeline.storage.repository import Store  # noqa: E402

DEFAULT = (Path("/work/shared/dev-calls"), ROOT / "samples" / "calls")


def truly_flagged(label: dict[str, Any]) -> bool:
    """What a QA lead must see: an invalid sale, a forbidden phrase, or the agent hanging up."""
    invalid_sale = label["outcome"] == "sale" and label["valid_sale"] is False
    return invalid_sale or bool(label["forbidden"]) or bool(label["agent_hung_up_first"])


def measure(folder: Path) -> None:
    labels = {
        row["call_id"]: row
        for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
        for row in [json.loads(line)]
    }
    ruleset = load_rules()
    settings = ReviewSettings().with_rules(ruleset.criteria)
    criteria = set(ruleset.criteria.criteria)
    with tempfile.TemporaryDirectory() as tmp:
        engine = connect(f"sqlite:///{tmp}/queue.db")
        run_batch(folder, Path(tmp) / "out", ruleset, store=Store(engine))
        now = datetime.now(UTC)
        sync_queue(engine, settings, now)
        entries = build_queue(engine, None, QueueFilter(state="all"), settings, now)
    flagged = {e.call_id for e in entries if e.source == "flagged"}
    findings = sum(len(e.codes) for e in entries)
    not_sale = sum(
        1
        for e in entries
        for code in e.codes
        if labels.get(e.call_id, {}).get("outcome") != "sale" and code.split(".")[0] in criteria
    )
    truth = {call_id for call_id, label in labels.items() if truly_flagged(label)}
    by_outcome = Counter(labels[c]["outcome"] for c in flagged if c in labels)
    calls = len(labels)
    hit = len(flagged & truth)
    print(f"{folder}: {calls} calls")
    print(f"  queued (flagged): {len(flagged)} = {len(flagged) / calls:.0%}  {dict(by_outcome)}")
    print(f"  truly flagged by the labels: {len(truth)} = {len(truth) / calls:.0%}")
    needless, missed = sorted(flagged - truth), sorted(truth - flagged)
    print(f"  queued and truly flagged: {hit}; queued needlessly: {len(needless)} {needless}; "
          f"missed: {len(missed)} {missed}")  # fmt: skip
    print(f"  findings to review: {findings}, of which criteria of calls that are not sales: "
          f"{not_sale}")  # fmt: skip
    print(f"  queue/true ratio: {len(flagged) / max(len(truth), 1):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(DEFAULT))
    for folder in parser.parse_args().folders:
        measure(folder)


if __name__ == "__main__":
    main()
