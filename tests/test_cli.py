"""The command line: run, eval, rules check/types, exit codes, and --db on every command."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from qa_pipeline.cli import NO_DATABASE, build_parser, main
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.tables import ScorecardRow, VerdictRow
from tests.conftest import ROOT, with_first_pattern

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


def _commands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_command_takes_db() -> None:
    """Datasette-style: a new command without --db fails here unless NO_DATABASE says why
    (and the README repeats it)."""
    commands = _commands()
    lacking = {
        name
        for name, parser in commands.items()
        if not any("--db" in action.option_strings for action in parser._actions)
    }
    assert lacking - NO_DATABASE.keys() == set(), "give these --db or list them in NO_DATABASE"
    assert NO_DATABASE.keys() <= lacking, "stale NO_DATABASE entries: these take --db now"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in NO_DATABASE)


def test_eval_stores_only_with_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QA_PIPELINE_DATA_DIR", str(tmp_path / "data"))
    assert main(["eval", str(SAMPLES), "--out", str(tmp_path / "a")]) == 0
    assert not (tmp_path / "data").exists()  # a measurement touches no database by default
    db = f"sqlite:///{tmp_path / 'eval.db'}"
    assert main(["eval", str(SAMPLES), "--out", str(tmp_path / "b"), "--db", db]) == 0
    with connect(db).connect() as connection:
        verdicts = connection.scalar(select(func.count()).select_from(VerdictRow))
        cards = connection.scalar(select(func.count()).select_from(ScorecardRow))
    assert verdicts == 10 and cards  # stored as `run --db` stores, scorecards included
    capsys.readouterr()
    results = str(tmp_path / "a" / "results.jsonl")
    assert main(["eval", str(SAMPLES), "--results", results, "--db", db]) == 2
    assert "E090" in capsys.readouterr().err


def test_rules_check_db_counts_what_rejudge_would_judge(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(SAMPLES), "--out", str(tmp_path / "o"), "--db", db_url, "-q"]) == 0
    assert main(["rules", "check", "--db", db_url]) == 0
    assert "database: 0 of 10 stored calls" in capsys.readouterr().out
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "criteria.yaml").open("a", encoding="utf-8") as criteria:
        criteria.write("\n# v2\n")
    assert main(["rules", "check", "--rules", str(rules), "--db", db_url]) == 0
    assert "database: 10 of 10 stored calls" in capsys.readouterr().out
    assert main(["rejudge", "--rules", str(rules), "--db", db_url]) == 0
    assert "10 judged" in capsys.readouterr().out
    assert main(["rules", "check", "--rules", str(rules), "--db", db_url]) == 0
    assert "database: 0 of 10 stored calls" in capsys.readouterr().out


def test_rules_check_tests_the_examples_and_counts_what_matches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "check", "--calls", str(SAMPLES), "--unmatched"]) == 0
    out = capsys.readouterr().out
    assert "0 failing examples" in out
    assert any(
        line.split()[0] == "languages/zh.yaml" and line.endswith("match in 10 calls")
        for line in out.splitlines()
    )
    assert "matches nothing: " in out
    entry = "{p: 'i guess', e: ['I guess so'], not: ['I guessed it']}"
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with_first_pattern(rules, "en", "hedge", entry)
    assert main(["rules", "check", "--rules", str(rules)]) == 0
    shutil.rmtree(rules)
    shutil.copytree(ROOT / "rules", rules)
    with_first_pattern(rules, "en", "hedge", entry.replace("I guess so", "I suppose"))
    assert main(["rules", "check", "--rules", str(rules)]) == 1
    err = capsys.readouterr().err
    assert "languages/en.yaml lexicons.hedge.patterns.0 'i guess': does not match" in err


def test_rules_check_unmatched_needs_calls(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check", "--unmatched"]) == 2
    assert "--calls" in capsys.readouterr().err


def test_rules_types_reads_no_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "types", "--db", "sqlite:///unused.db"]) == 2
    assert "E090" in capsys.readouterr().err
