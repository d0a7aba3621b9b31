"""Scorecards against hand-computed numbers, exports in every format, the weekly report."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from qa_pipeline.cli import main
from qa_pipeline.errors import MissingExtraError
from qa_pipeline.scorecards import export
from qa_pipeline.scorecards.compute import language_ranking, period_of, scorecard
from qa_pipeline.scorecards.export import (
    FORMATS,
    chart_png,
    font_families,
    trend_chart,
    write_table,
)
from qa_pipeline.scorecards.frame import call_row
from qa_pipeline.scorecards.report import weekly_report
from qa_pipeline.storage.db import connect
from qa_pipeline.verdict.facts import VerdictFacts
from tests.conftest import ROOT, require_tool

CRITERIA = ("account_holder_verified", "caller_competent", "disclosures", "explicit_consent")


def _result(call_id: str, agent: str, team: str, outcome: str, valid: bool | None, *, consent: bool = True,
            forbidden: tuple[str, ...] = (), hung_up: bool = False, adherence: float = 1.0,
            number: str = "1") -> VerdictFacts:  # fmt: skip
    criteria = {"account_holder_verified": True, "caller_competent": True, "disclosures": True,
                "explicit_consent": consent}  # fmt: skip
    return VerdictFacts(call_id, agent, team, number, outcome, valid, criteria, forbidden, hung_up,
                        adherence)  # fmt: skip


# Agent A1 (team T1): 2 sales on 2026-11-16 (W47, one invalid for consent), a decline on
# 2026-11-17 with an arguing phrase; agent A2 (team T1): a no-pitch call on 2026-11-23 (W48).
FRAME = pd.DataFrame([
    call_row(_result("c1", "A1", "T1", "sale", True, adherence=1.0), "2026-11-16", CRITERIA),
    call_row(_result("c2", "A1", "T1", "sale", False, consent=False, hung_up=True, adherence=0.5, number="9"), "2026-11-16", CRITERIA),
    call_row(_result("c3", "A1", "T1", "declined", None, forbidden=("arguing",), adherence=0.75), "2026-11-17", CRITERIA),
    call_row(_result("c4", "A2", "T1", "no_pitch", None, forbidden=("insult", "insult"), adherence=0.25), "2026-11-23", CRITERIA),
])  # fmt: skip


def test_periods() -> None:
    dates = pd.Series(["2026-11-16", "2026-11-22", "2026-11-23", "2027-01-01"])
    assert list(period_of(dates, "week")) == ["2026-W47", "2026-W47", "2026-W48", "2026-W53"]
    assert list(period_of(dates, "month")) == ["2026-11", "2026-11", "2026-11", "2027-01"]


def test_agent_week_numbers() -> None:
    card = scorecard(FRAME, "agent", "week").set_index(["agent", "period"])
    a1 = card.loc[("A1", "2026-W47")]
    assert (a1.calls, a1.pitches, a1.sales, a1.valid_sales) == (3, 3, 2, 1)
    assert (a1.valid_rate, a1.invalid_rate) == (0.5, 0.5)
    assert a1.explicit_consent_pass_rate == 0.5 and a1.disclosures_pass_rate == 1.0
    assert a1.forbidden_arguing_per_100 == pytest.approx(33.33)
    assert a1.agent_hung_up_first == 1 and a1.script_adherence == 0.75
    a2 = card.loc[("A2", "2026-W48")]
    assert a2.calls == 1 and a2.sales == 0 and pd.isna(a2.valid_rate)
    assert a2.forbidden_insult_per_100 == 200.0


def test_team_and_center_months() -> None:
    team = scorecard(FRAME, "team", "month").set_index(["team", "period"]).loc[("T1", "2026-11")]
    center = (
        scorecard(FRAME, "center", "month")
        .set_index(["center", "period"])
        .loc[("center", "2026-11")]
    )
    for row in (team, center):
        assert (row.calls, row.sales, row.valid_sales) == (4, 2, 1)
        assert row.forbidden_insult_per_100 == 50.0 and row.forbidden_arguing_per_100 == 25.0


def test_language_ranking_respects_minimum() -> None:
    ranked = language_ranking(FRAME, "2026-11", min_calls=1)
    assert list(ranked["agent_id"]) == ["A1", "A2"]  # 33.3 per 100 beats 200 per 100
    assert list(language_ranking(FRAME, "2026-11", min_calls=2)["agent_id"]) == ["A1"]


def test_weekly_report_with_cdr_and_complaints() -> None:
    cdr = pd.DataFrame({
        "call_id": ["c1", "c2", "c3", "x1", "x2"], "team": ["T1"] * 5,
        "started_at": ["2026-11-16T10:00:00+08:00"] * 5, "duration_s": ["60", "50", "40", "0", ""],
    })  # fmt: skip
    complaints = pd.DataFrame({"number": ["9"], "date": ["2026-11-18"], "reason": ["charged"]})
    report = weekly_report(FRAME, "2026-W47", cdr, complaints).set_index("team")
    t1 = report.loc["T1"]
    assert (t1.dials, t1.connected, t1.connect_rate) == (5, 3, 0.6)
    assert (t1.sales, t1.valid_sales, t1.valid_rate, t1.complaints) == (2, 1, 0.5, 1)
    assert report.loc["center"].dials == 5


@pytest.mark.parametrize("fmt", FORMATS)
def test_exports(fmt: str, tmp_path: Path) -> None:
    card = scorecard(FRAME, "agent", "week")
    path = tmp_path / f"card.{fmt}"
    write_table(card, fmt, path)
    assert path.stat().st_size > 0
    if fmt == "parquet":
        assert pd.read_parquet(path).shape == card.shape


def test_trend_chart(tmp_path: Path) -> None:
    path = tmp_path / "trend.png"
    trend_chart(scorecard(FRAME, "agent", "day"), "agent", "A1", path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def _missing_glyphs(card: pd.DataFrame, key: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        chart_png(card, "team", key)
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_chart_draws_chinese_names_with_a_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Chinese team name is drawn in a CJK font found among the installed ones, not as boxes
    (matplotlib warns of each glyph no font in the list has)."""
    require_tool(len(font_families()) > 1, "fonts-wqy-microhei")
    card = scorecard(FRAME.assign(team="华南二组"), "team", "day")
    assert _missing_glyphs(card, "华南二组") == []
    monkeypatch.setattr(export, "font_families", lambda: ("DejaVu Sans",))
    assert _missing_glyphs(card, "华南二组")  # the check can fail: DejaVu alone has no hanzi


def test_charts_drawn_in_threads_are_the_same() -> None:
    """Each chart has its own Figure (no pyplot state), so the server's threads can draw at
    once: charts drawn in parallel are byte for byte the ones drawn alone."""
    card = scorecard(FRAME, "agent", "day")
    alone = {key: chart_png(card, "agent", key) for key in ("A1", "A2")}
    with ThreadPoolExecutor(4) as pool:
        drawn = list(pool.map(lambda key: (key, chart_png(card, "agent", key)), ["A1", "A2"] * 4))
    assert all(png == alone[key] for key, png in drawn)
    assert alone["A1"] != alone["A2"]


@pytest.mark.parametrize(
    ("module", "extra", "act"),
    [
        ("pyarrow", "parquet", lambda p: write_table(FRAME, "parquet", p / "c.parquet")),
        ("matplotlib", "charts", lambda p: trend_chart(FRAME, "agent", "A1", p / "t.png")),
        ("psycopg", "postgres", lambda p: connect("postgresql+psycopg://qa@127.0.0.1:1/qa")),
    ],
)
def test_a_missing_extra_is_named(
    module: str, extra: str, act: Callable[[Path], object], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setitem(sys.modules, module, None)  # None in sys.modules: ImportError
    with pytest.raises(MissingExtraError) as info:
        act(tmp_path)
    assert f"qa-pipeline[{extra}]" in str(info.value) and info.value.code == "E091"


def test_cli_after_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    assert (
        main(
            ["run", str(ROOT / "samples" / "calls"), "--out", str(tmp_path / "o"), "--db", db, "-q"]
        )
        == 0
    )
    assert "scorecard rows updated" in capsys.readouterr().out
    out = tmp_path / "team.md"
    assert (
        main(
            [
                "scorecard",
                "--by",
                "team",
                "--period",
                "week",
                "--week",
                "2026-W46",
                "--db",
                db,
                "--format",
                "md",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "T2" in out.read_text(encoding="utf-8")
    assert main(["ranking", "--month", "2026-11", "--min-calls", "1", "--db", db]) == 0
    assert main(["report", "weekly", "--week", "2026-W46", "--db", db]) == 0
