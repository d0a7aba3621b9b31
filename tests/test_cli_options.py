"""The command line as people meet it: malformed options are clear errors before any data is
read, empty weeks and filtered rankings say so, failed calls have a documented exit status, a
closed pipe or a bad database URL is one line, tasks read as text, CSV files open in Excel, and
`--help` loads nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qa_pipeline.cli import main
from qa_pipeline.scorecards.report import weekly_report
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.tasks import list_tasks
from tests.conftest import ROOT

SAMPLES = ROOT / "samples" / "calls"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cli")
    url = f"sqlite:///{folder / 'qa.db'}"
    assert main(["run", str(SAMPLES), "--out", str(folder / "out"), "--db", url, "-q"]) == 0
    return url


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["report", "weekly", "--week", "2026-47"], "--week 2026-47: expected an ISO week"),
        (["report", "weekly", "--week", "2025-W53"], "2025 has ISO weeks W01 to W52"),
        (["scorecard", "--month", "2026-13"], "--month 2026-13: expected a month"),
        (["scorecard", "--day", "2026-02-30"], "--day 2026-02-30: expected a date"),
        (["scorecard", "--agent", "NOPE"], "--agent NOPE: no calls of it in the database"),
        (["scorecard", "--team", "T9"], "(it has: E1, T1, T2)"),
        (["ranking", "--month", "2026-11", "--out", "y.xls"], "--out y.xls: unsupported file"),
        (["scorecard", "--out", "y.csv", "--format", "xlsx"], "is .csv but --format says xlsx"),
        (["ranking", "--month", "11-2026"], "--month 11-2026: expected a month"),
    ],
)
def test_malformed_options_are_clear_errors(
    db: str, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert "E094" in err and says in err and "Traceback" not in err


def test_weekly_report_of_an_empty_week_and_no_invented_connect_rate(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "weekly", "--week", "2026-W10", "--db", db]) == 0
    captured = capsys.readouterr()
    assert "| center | unknown" in captured.out and "no judged calls in 2026-W10" in captured.err
    assert main(["report", "weekly", "--week", "2026-W46", "--db", db]) == 0
    captured = capsys.readouterr()
    assert "1.0" not in captured.out.split("\n")[2]  # no connect rate made up from calls
    assert "unknown without --cdr" in captured.err


def test_weekly_report_of_an_empty_frame() -> None:
    empty = pd.DataFrame(
        {
            c: pd.Series(dtype=str)
            for c in ("call_id", "team", "local_date", "outcome", "customer_number")
        }
        | {"valid_sale": pd.Series(dtype=object)}
    )
    report = weekly_report(empty, "2026-W47", None, None).set_index("team")
    assert list(report.index) == ["center"]
    center = report.loc["center"]
    assert (center.calls, center.dials, center.connect_rate) == (0, "unknown", "unknown")
    assert center.valid_rate is None


def test_ranking_says_when_min_calls_filtered_everyone(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ranking", "--month", "2026-11", "--db", db]) == 0
    err = capsys.readouterr().err
    assert "have fewer than --min-calls 20" in err and "lower --min-calls" in err


def test_run_exit_status_when_calls_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "zh-s-001.json").write_bytes((SAMPLES / "zh-s-001.json").read_bytes())
    (batch / "broken.json").write_text("{", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    argv = ["run", str(batch), "--out", str(tmp_path / "out"), "--db", db, "-q"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 calls (1 failed; sale 1)" in captured.out
    assert "failed: broken:" in captured.err and "1 of 2 calls failed" in captured.err
    assert main([*argv, "--strict"]) == 1
    assert "exit status 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "not a database URL"),
        ("mysql://qa@db/qa", "not a database this build can open"),
        ("sqlite:////proc/no/such/qa.db", "cannot create its folder"),
    ],
)
def test_a_bad_database_url_is_one_line(
    url: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tasks", "list", "--db", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: [E095] database ") and says in err and err.count("\n") == 1


def test_a_closed_pipe_is_one_line(db: str) -> None:
    command = [sys.executable, "-m", "qa_pipeline.cli", "tasks", "list", "--status", "all",
               "--db", db]  # fmt: skip
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.close()  # the reader leaves before the first line
    err = reader.stderr.read().decode()
    assert reader.wait() == 141
    assert "broken pipe" in err and "Traceback" not in err


def test_tasks_show_reads_as_text(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    task = list_tasks(connect(db), "all")[0]
    assert main(["tasks", "show", str(task.id), "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"call id          {task.call_id}" in out
    assert "datetime." not in out and "(" not in out.split("summary")[0] and "None" not in out


def test_urgent_revisits_list_first_and_exports_open_in_excel(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = list_tasks(connect(db), "all")
    priorities = [t.priority for t in tasks]
    assert "urgent" in priorities and "normal" in priorities
    assert priorities == sorted(priorities, key=lambda p: p != "urgent")
    export = tmp_path / "dial.csv"
    assert main(["tasks", "export", "--out", str(export), "--db", db]) == 0
    assert export.read_bytes().startswith(b"\xef\xbb\xbftask_id,")
    card = tmp_path / "card.csv"
    assert main(["scorecard", "--by", "team", "--out", str(card), "--db", db]) == 0
    assert card.read_bytes().startswith(b"\xef\xbb\xbfteam,")
    capsys.readouterr()
    assert main(["tasks", "export", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("task_id,")  # stdout: no BOM


def test_help_loads_nothing_heavy() -> None:
    """What makes `--help` answer fast: the command line imports no data or model library until
    a command runs (bench/cli_startup.py measures the time)."""
    probe = (
        "import sys; from qa_pipeline.cli import build_parser; build_parser(); "
        "heavy = {'pandas', 'numpy', 'sqlalchemy', 'pydantic', 'rich', 'prefect', 'fastapi'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout.strip()  # fmt: skip
    assert loaded == "[]"


@pytest.mark.slow  # two runs in fresh interpreters, one under a pseudo-terminal
def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """`run` at a terminal draws a bar on stderr counting the calls; into a pipe it draws none."""
    import os
    import pty

    db = f"sqlite:///{tmp_path / 'qa.db'}"
    command = [sys.executable, "-m", "qa_pipeline.cli", "run", str(SAMPLES), "--out",
               str(tmp_path / "out"), "--db", db]  # fmt: skip
    parent, child = pty.openpty()
    env = dict(os.environ, COLUMNS="100", TERM="xterm")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=child, cwd=ROOT, env=env)
    os.close(child)
    drawn = b""
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        drawn += chunk
    assert process.wait() == 0
    os.close(parent)
    assert b"judging" in drawn and b"10/10" in drawn
    piped = subprocess.run([*command, "--out", str(tmp_path / "again")], capture_output=True,
                           cwd=ROOT, check=True)  # fmt: skip
    assert b"judging" not in piped.stderr


def test_train_names_the_heads_it_can_refit(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--task", "forbiden"]) == 2
    err = capsys.readouterr().err
    assert "E094" in err and "--task forbiden: no such head; one of identity" in err
