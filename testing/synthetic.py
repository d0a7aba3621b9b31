"""Large batches for benchmarks and load tests: labeled calls replicated under new call ids."""

from __future__ import annotations

import json
from pathlib import Path


def replicate(source: Path, folder: Path, count: int) -> Path:
    """`count` call files in `folder`, cycling through the calls of `source`, each with a new
    call id (same content shape, distinct keys)."""
    folder.mkdir(parents=True, exist_ok=True)
    calls = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(source.glob("*.json"))]
    for i in range(count):
        call = dict(calls[i % len(calls)])
        call["call_id"] = f"{call['call_id']}-{i:06d}"
        text = json.dumps(call, ensure_ascii=False)
        (folder / f"{call['call_id']}.json").write_text(text, encoding="utf-8")
    return folder
