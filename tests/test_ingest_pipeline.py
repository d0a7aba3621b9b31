"""Bad input becomes a failed row naming the file and the problem; the rest of the batch goes
on; re-running gives the same results."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa_pipeline.batch.run import judging_version, run_batch
from qa_pipeline.errors import CallFileError, InputDirError
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ruleset import Ruleset
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


def _rows(path: Path) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {str(r["call_id"]): r for r in rows}


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(SAMPLES, folder)
    good = json.loads((SAMPLES / "zh-s-001.json").read_text(encoding="utf-8"))
    (folder / "empty.json").write_bytes(b"")
    (folder / "truncated.json").write_text('{"call_id": "x", "segments": [', encoding="utf-8")
    (folder / "notes.txt").write_text("not a call", encoding="utf-8")
    missing = {k: v for k, v in good.items() if k not in ("agent_id", "duration_s")}
    missing["call_id"] = "missing-fields"
    (folder / "missing-fields.json").write_text(json.dumps(missing), encoding="utf-8")
    unknown = good | {"call_id": "unknown-campaign", "campaign": "horoscope-999"}
    (folder / "unknown-campaign.json").write_text(json.dumps(unknown), encoding="utf-8")
    bad_segment = good | {"call_id": "bad-segment"}
    bad_segment["segments"] = [{"start": 5, "end": 2, "speaker": "", "text": "hi"}]
    (folder / "bad-segment.json").write_text(json.dumps(bad_segment), encoding="utf-8")
    (folder / "latin1.json").write_bytes('{"call_id": "caf\xe9"}'.encode("latin-1"))
    return folder


def test_bad_files_fail_alone(batch: Path, tmp_path: Path, ruleset: Ruleset) -> None:
    summary = run_batch(batch, tmp_path / "out", ruleset)
    rows = _rows(summary.results_path)
    assert summary.calls == 16 and summary.failed == 6
    assert all(rows[f"{p.stem}"]["status"] == "ok" for p in SAMPLES.glob("*.json"))
    assert "empty" in str(rows["empty"]["error"]) and "empty.json" in str(rows["empty"]["error"])
    assert "not valid JSON" in str(rows["truncated"]["error"])
    error = str(rows["missing-fields"]["error"])
    assert "agent_id" in error and "duration_s" in error  # every problem at once
    assert "horoscope-999" in str(rows["unknown-campaign"]["error"])
    assert "weather-12121" in str(rows["unknown-campaign"]["error"])  # the valid choices
    error = str(rows["bad-segment"]["error"])
    assert "segments.0.speaker" in error and "before start" in error
    assert "UTF-8" in str(rows["latin1"]["error"])
    assert "notes" not in rows


def test_rerun_is_idempotent(tmp_path: Path, ruleset: Ruleset) -> None:
    first = run_batch(SAMPLES, tmp_path / "out", ruleset).results_path.read_text(encoding="utf-8")
    second = run_batch(SAMPLES, tmp_path / "out", ruleset).results_path.read_text(encoding="utf-8")
    assert first == second
    assert not (tmp_path / "out" / "results.jsonl.partial").exists()


def test_duplicate_call_ids_flagged(tmp_path: Path, ruleset: Ruleset) -> None:
    folder = tmp_path / "dupes"
    folder.mkdir()
    shutil.copy(SAMPLES / "en-s-001.json", folder / "a.json")
    shutil.copy(SAMPLES / "en-s-001.json", folder / "b.json")
    rows = [
        json.loads(x)
        for x in run_batch(folder, tmp_path / "o", ruleset).results_path.read_text().splitlines()
    ]
    assert [r["status"] for r in rows] == ["ok", "failed"]
    assert "duplicate call_id" in rows[1]["error"] and "b.json" in rows[1]["error"]


def test_result_row_shape(tmp_path: Path, ruleset: Ruleset) -> None:
    row = _rows(run_batch(SAMPLES, tmp_path / "out", ruleset).results_path)["zh-s-001"]
    assert row["status"] == "ok" and row["rules_version"] == judging_version(ruleset)
    criteria = row["criteria"]
    assert set(criteria) == {
        "account_holder_verified",
        "caller_competent",
        "disclosures",
        "explicit_consent",
    }
    assert set(criteria["account_holder_verified"]["items"]) == {"identity", "permission"}
    assert set(criteria["disclosures"]["items"]) == {"fees", "trial_end", "cancel_method"}
    for item in (criteria["caller_competent"], criteria["explicit_consent"]):
        assert set(item) >= {"passed", "evidence", "reason"}
    evidence = criteria["explicit_consent"]["evidence"][0]
    assert set(evidence) >= {"start", "end", "speaker", "text"}
    assert 0 <= row["script"]["adherence"] <= 1
    assert row["agent_hung_up_first"]["source"] in ("metadata", "transcript", "audio")


def test_load_call_errors_name_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CallFileError) as info:
        load_call(path)
    assert str(path) in str(info.value)


def test_missing_input_dir(tmp_path: Path, ruleset: Ruleset) -> None:
    with pytest.raises(InputDirError):
        run_batch(tmp_path / "nope", tmp_path / "out", ruleset)


def test_hook_reports_each_step(tmp_path: Path, ruleset: Ruleset) -> None:
    steps: list[str] = []
    run_batch(SAMPLES, tmp_path / "out", ruleset, lambda step, artifact: steps.append(step))
    assert steps[0] == "discover" and steps[-1] == "write"
    assert steps.count("load") == 10 and steps.count("judge") == 10
