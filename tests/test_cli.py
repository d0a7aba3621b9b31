"""The command line: run, eval, rules check/types, and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from qa_pipeline.cli import main
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


def test_run_writes_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(SAMPLES), "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 10 and all(json.loads(r)["status"] == "ok" for r in rows)
    out = capsys.readouterr().out
    assert "10 calls (0 failed" in out
    assert any(
        line.startswith("zh-s-003") and "disclosures(trial_end)" in line
        for line in out.splitlines()
    )


def test_eval_scores_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(SAMPLES), "--out", str(tmp_path), "--min-accuracy", "0.99"]) == 0
    out = capsys.readouterr().out
    assert "explicit_consent" in out and "forbidden spans" in out


def test_eval_fails_gate_on_wrong_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "calls"
    shutil.copytree(SAMPLES, folder)
    labels = [
        json.loads(x) for x in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    labels[0]["outcome"] = "no_pitch"
    (folder / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in labels), encoding="utf-8")
    assert main(["eval", str(folder), "--out", str(tmp_path / "o"), "--min-accuracy", "0.99"]) == 1
    assert f"WRONG {labels[0]['call_id']}" in capsys.readouterr().out


def test_rules_check_reports_broken_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    assert main(["rules", "check", "--rules", str(rules)]) == 0
    (rules / "campaigns" / "crbt.yaml").write_text("id: crbt\n", encoding="utf-8")
    assert main(["rules", "check", "--rules", str(rules)]) == 1
    assert "crbt.yaml" in capsys.readouterr().err


def test_broken_criteria_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "criteria.yaml").write_text("version: 1\n", encoding="utf-8")
    assert main(["run", str(SAMPLES), "--out", str(tmp_path / "o"), "--rules", str(rules)]) == 2
    assert "criteria.yaml" in capsys.readouterr().err


def test_missing_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "absent"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rules_types_lists_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "types"]) == 0
    assert "explicit_consent.v1" in capsys.readouterr().out
