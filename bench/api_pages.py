"""How long the JSON API takes to answer on a night's worth of calls: COUNT sample calls are
replicated, judged into a fresh SQLite database, and the main listings are timed through the
app's test client (median of five requests each, after one warm-up; the queue sync is done once
at start, as the workbench does).

    python bench/api_pages.py [COUNT]   (default 2000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from qa_pipeline.batch.run import run_batch  # noqa: E402
from qa_pipeline.judging.judge import load_rules  # noqa: E402
from qa_pipeline.review.app import create_app  # noqa: E402
from qa_pipeline.review.auth import add_user  # noqa: E402
from qa_pipeline.review.settings import ReviewSettings  # noqa: E402
from qa_pipeline.review.tokens import create_token  # noqa: E402
from qa_pipeline.storage.db import connect  # noqa: E402
from qa_pipeline.storage.repository import Store  # noqa: E402
from testing.synthetic import replicate  # noqa: E402


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        calls = replicate(ROOT / "samples" / "calls", root / "calls", count)
        url = f"sqlite:///{root / 'api.db'}"
        run_batch(calls, root / "out", load_rules(None), store=Store(connect(url)))
        engine = connect(url)
        add_user(engine, "lead", "qa_lead", None, "bench-password", "bench")
        add_user(engine, "sup", "supervisor", "T1", "bench-password", "bench")
        app = create_app(url, ReviewSettings(queue_sync_seconds=3600))
        with TestClient(app, base_url="https://testserver") as client:
            for name in ("lead", "sup"):
                token = create_token(engine, name, "bench", "bench").secret
                headers = {"Authorization": f"Bearer {token}"}
                total = client.get("/api/v1/calls?size=1", headers=headers).json()["total"]
                last = -(-total // 100)
                first_call = client.get("/api/v1/calls?size=1", headers=headers).json()
                call_id = first_call["items"][0]["call_id"]
                paths = [
                    "/api/v1/calls?size=100", f"/api/v1/calls?size=100&page={last}",
                    "/api/v1/calls?state=pending&size=100", "/api/v1/findings?size=100",
                    f"/api/v1/calls/{call_id}", "/api/v1/tasks?size=100",
                    "/api/v1/scorecards?level=agent&period=week",
                ]  # fmt: skip
                print(f"{name}: {total} calls in scope of {count}")
                for path in paths:
                    client.get(path, headers=headers)
                    times = []
                    for _ in range(5):
                        start = time.perf_counter()
                        answer = client.get(path, headers=headers)
                        times.append(time.perf_counter() - start)
                        assert answer.status_code == 200, answer.text
                    print(f"  {path:45} {1000 * statistics.median(times):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
