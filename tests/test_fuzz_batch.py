"""Fuzzed call files through the batch (issue 15): whatever the files hold, the batch completes
with one row per input, every row strict JSON, every failed row naming its file and no
traceback text; a rerun over the same database adds nothing. Hypothesis picks the mutations
(derandomized: the same cases every run); each case is a batch of a dozen files, so the suite
takes seconds."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from qa_pipeline.batch.run import run_batch
from qa_pipeline.judging.judge import load_rules_cached
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.storage.tables import VerdictRow
from testing.fuzz_calls import mutate
from tests.conftest import ROOT

SAMPLES = sorted((ROOT / "samples" / "calls").glob("*.json"))
FILES = 12


def _strict(line: str) -> dict[str, Any]:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a results row")

    row: dict[str, Any] = json.loads(line, parse_constant=refuse)
    return row


@pytest.mark.slow  # a dozen batches or rule loads: seconds
@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_fuzzed_files_each_get_one_row(seed: int, tmp_path_factory: Any) -> None:
    ruleset = load_rules_cached(ROOT / "rules")
    rng = random.Random(seed)
    folder: Path = tmp_path_factory.mktemp("fuzz")
    calls = folder / "calls"
    calls.mkdir()
    for n in range(FILES):
        good = json.loads(rng.choice(SAMPLES).read_text(encoding="utf-8"))
        (calls / f"f{n:02d}.json").write_bytes(mutate(good | {"call_id": f"f{n:02d}"}, rng))
    store = Store(connect(f"sqlite:///{folder / 'qa.db'}"))
    summary = run_batch(calls, folder / "out", ruleset, store=store, understand=False)
    rows = [_strict(line) for line in summary.results_path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == FILES == summary.calls
    for row in rows:
        if row["status"] == "failed":
            assert Path(row["source"]).name in row["error"], row
            assert "Traceback" not in row["error"]
    with store.engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(VerdictRow)).scalar_one()
    run_batch(calls, folder / "again", ruleset, store=store, understand=False)
    with store.engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(VerdictRow)).scalar_one() == stored
        )
