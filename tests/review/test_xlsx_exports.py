"""Spreadsheets people open (issue 14): the xlsx files of the workbench's scorecard export and
the command line's scorecard, ranking and weekly report have a bold filled header row that is
frozen, columns wide enough, percentages for rates, whole numbers for counts, date cells for
days, headers in the chosen language, and formulas kept as text (read back with openpyxl); and
the trend chart is labelled in the reader's language."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from qa_pipeline.cli import main
from qa_pipeline.scorecards.export import write_table
from qa_pipeline.scorecards.xlsx import DATE, HEADER_FILL, INTEGER, PERCENT
from tests.review.test_http import _client, login


def _sheet(path: Path) -> Worksheet:
    sheet = load_workbook(path).active
    assert isinstance(sheet, Worksheet)
    return sheet


def _column(sheet: Worksheet, header: str) -> list:  # type: ignore[type-arg]
    headers = [c.value for c in sheet[1]]
    return [row[headers.index(header)] for row in sheet.iter_rows(min_row=2)]


def _styled(sheet: Worksheet) -> None:
    assert sheet.freeze_panes == "A2"
    for cell in sheet[1]:
        assert cell.font.b and cell.fill.fgColor.rgb.endswith(HEADER_FILL)
    assert all(d.width and d.width >= 8 for d in sheet.column_dimensions.values())


def test_a_table_is_written_styled_with_number_formats(tmp_path: Path) -> None:
    table = pd.DataFrame({
        "agent": ["=HYPERLINK(\"http://x\",\"y\")", "王小明的很长的名字", "S101"],
        "period": ["2026-11-03", "2026-11-04", "2026-11-05"],
        "calls": [3, 10, 1], "valid_rate": [0.61529999999999994, None, 1.0],
        "forbidden_per_100": [33.33, 0.0, 12.5],
    })  # fmt: skip
    write_table(table, "xlsx", tmp_path / "t.xlsx", {"agent": "坐席", "valid_rate": "有效率"})
    sheet = _sheet(tmp_path / "t.xlsx")
    _styled(sheet)
    assert [c.value for c in sheet[1]] == ["坐席", "period", "calls", "有效率", "forbidden_per_100"]
    agents = _column(sheet, "坐席")
    assert agents[0].data_type == "s" and agents[0].value.startswith("'=")  # no formula
    assert sheet.column_dimensions["A"].width >= 2 * len("王小明的很长的名字")  # CJK is wide
    days = _column(sheet, "period")
    assert days[0].is_date and days[0].value.date() == dt.date(2026, 11, 3)
    assert days[0].number_format == DATE
    assert [c.number_format for c in _column(sheet, "calls")] == [INTEGER] * 3
    rates = _column(sheet, "有效率")
    assert rates[0].number_format == PERCENT and rates[0].value == pytest.approx(0.6153)
    assert rates[1].value is None  # a rate over no sales is an empty cell, not 0 or nan
    assert _column(sheet, "forbidden_per_100")[0].number_format == "0.00"


@pytest.fixture
def db(tmp_path: Path, _seeded_template: Path) -> str:
    shutil.copy(_seeded_template, tmp_path / "review.db")
    return f"sqlite:///{tmp_path / 'review.db'}"


def test_the_command_lines_exports_are_styled_in_the_chosen_language(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "week.xlsx"
    args = ["report", "weekly", "--week", "2026-W46", "--db", db, "--out", str(out)]
    assert main([*args, "--lang", "zh"]) == 0
    sheet = _sheet(out)
    _styled(sheet)
    assert [c.value for c in sheet[1]][:4] == ["班组", "外呼数", "接通数", "接通率"]
    assert [c.value for c in _column(sheet, "通话数")] == [2, 1, 2, 5]
    assert {c.number_format for c in _column(sheet, "有效率")} == {PERCENT}
    card = tmp_path / "card.xlsx"
    assert main(["scorecard", "--by", "team", "--period", "day", "--db", db,
                 "--out", str(card), "--lang", "en"]) == 0  # fmt: skip
    sheet = _sheet(card)
    headers = [c.value for c in sheet[1]]
    assert "valid rate" in headers and "explicit consent pass rate" in headers
    assert "forbidden phrase: arguing per 100 calls" in headers
    assert all(c.is_date for c in _column(sheet, "period"))
    assert main(["ranking", "--month", "2026-11", "--min-calls", "1", "--db", db,
                 "--out", str(tmp_path / "r.xlsx")]) == 0  # fmt: skip
    assert [c.value for c in _sheet(tmp_path / "r.xlsx")[1]][:2] == ["agent_id", "rank"]
    capsys.readouterr()
    assert main([*args, "--lang", "fr"]) == 2
    assert "--lang fr: choose one of en, zh" in capsys.readouterr().err


def test_the_workbench_xlsx_is_styled_in_the_readers_language(tmp_path: Path, db: str) -> None:
    with _client(db) as client:
        login(client, "lead")
        path = tmp_path / "card.xlsx"
        query = "level=agent&period=month"
        path.write_bytes(client.get(f"/scorecards/export?format=xlsx&{query}").content)
        sheet = _sheet(path)
        _styled(sheet)
        headers = [c.value for c in sheet[1]]
        assert headers[:6] == ["坐席", "周期", "通话数", "销售数", "有效销售数", "有效率"]
        assert {c.number_format for c in _column(sheet, "有效率")} == {PERCENT}
        assert {c.number_format for c in _column(sheet, "通话数")} == {INTEGER}
        client.get("/lang/en")
        path.write_bytes(client.get(f"/scorecards/export?format=xlsx&{query}").content)
        assert [c.value for c in _sheet(path)[1]][:2] == ["agent", "period"]
        csv = client.get(f"/scorecards/export?format=csv&{query}").content.decode("utf-8-sig")
        assert csv.startswith("agent,period,calls")  # csv keeps the column ids, for programs


def test_the_trend_chart_is_labelled_in_the_readers_language(db: str) -> None:
    """The PNG chart's titles and axes in the page's language, its valid rate in percent, and
    each period's forbidden phrases counted once (the total column was summed in as well)."""
    from qa_pipeline.scorecards.export import chart_figure
    from qa_pipeline.scorecards.views import _full
    from qa_pipeline.storage.db import connect

    card = _full(connect(db), None, {"level": "team", "period": "day"})
    words = {"valid_rate": "有效率", "forbidden_per_100": "每百通忌语", "period": "周期",
             "team": "班组"}  # fmt: skip
    top, bottom = chart_figure(card, "team", "T2", words).axes
    assert top.get_ylabel() == "有效率" and bottom.get_ylabel() == "每百通忌语"
    assert bottom.get_xlabel() == "周期"
    assert top.figure._suptitle.get_text() == "班组 T2"  # type: ignore[union-attr]
    assert top.yaxis.get_major_formatter()(0.5, 0) == "50%"
    assert [bar.get_height() for bar in bottom.patches] == [0, 100, 0]
    with _client(db) as client:
        login(client, "lead")
        zh = client.get("/scorecards/chart.png?level=team&period=day&key=T2")
        client.get("/lang/en")
        en = client.get("/scorecards/chart.png?level=team&period=day&key=T2")
        assert zh.headers["content-type"] == "image/png" and zh.content != en.content


def test_transcript_exports_mask_numbers_said_for_masked_roles(tmp_path: Path, db: str) -> None:
    """Issue 14: the call's transcript as csv and xlsx, masked like the page for a role outside
    `unmask_roles` (phone, ID card and bank card numbers said in the call), in full for one in
    it; a supervisor of another team gets no file."""
    phone, id_card = "13912345678", "一一零一零五一九四九"
    with _client(db) as client:
        login(client, "sup1")
        csv = client.get("/calls/zh-x-001/transcript.csv")
        assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"]
        text = csv.content.decode("utf-8-sig")
        assert text.startswith("start,end,role,text")
        assert "139****5678" in text and phone not in text and id_card not in text
        path = tmp_path / "t.xlsx"
        path.write_bytes(client.get("/calls/zh-x-001/transcript.xlsx").content)
        sheet = _sheet(path)
        _styled(sheet)
        assert [c.value for c in sheet[1]] == ["开始 (秒)", "结束 (秒)", "角色", "内容"]
        said = " ".join(str(c.value) for c in _column(sheet, "内容"))
        assert "139****5678" in said and phone not in said and id_card not in said
        assert {c.value for c in _column(sheet, "角色")} == {"坐席", "客户"}
        assert client.get("/calls/zh-s-004/transcript.csv").status_code == 404  # team T2
        assert client.get("/calls/zh-x-001/transcript.exe").status_code == 404
    with _client(db) as client:
        login(client, "lead")
        text = client.get("/calls/zh-x-001/transcript.csv").content.decode("utf-8-sig")
        assert phone in text and id_card in text
        path.write_bytes(client.get("/calls/zh-x-001/transcript.xlsx").content)
        assert phone in " ".join(str(c.value) for c in _column(_sheet(path), "内容"))
