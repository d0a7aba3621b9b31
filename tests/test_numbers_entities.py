"""Spoken numbers and the entities built on them, in both languages."""

from __future__ import annotations

from datetime import date

import pytest

from qa_pipeline.text.normalize import surface
from qa_pipeline.text.numbers import cn_to_number, digitize_en, digitize_zh
from tests.conftest import find_dates, find_durations, find_money, normalized


@pytest.mark.parametrize(
    ("text", "value"),
    [("三", 3), ("十", 10), ("十五", 15), ("二十", 20), ("一百零八", 108), ("三百", 300),
     ("两千五百", 2500), ("三点五", 3.5), ("一二一二一", 12121), ("叁", 3), ("拾", 10)],
)  # fmt: skip
def test_cn_to_number(text: str, value: float) -> None:
    assert cn_to_number(text) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每个月三块钱", "每个月3块钱"),
        ("月租三元", "月租3元"),
        ("十一月八号试用结束", "11月8号试用结束"),
        ("发送TD一二一二一到一零零零一", "发送TD12121到10001"),
        ("每分钟七分钱，三百分钟", "每分钟7分钱，300分钟"),
        ("两块五一个月", "2块5 1个月"),
        ("稍等一下，耽误您一两分钟", "稍等一下，耽误您一两分钟"),  # idioms stay words
        ("十分方便", "十分方便"),
        # Once misread: 100分百 (so no rule could match 百分百), 3005, 10005, 100分之五十, 十分钟.
        ("百分百", "100%"),
        ("三千五块", "3500块"),
        ("一万五元", "15000元"),
        ("百分之五十", "50%"),
        ("十分钟", "10分钟"),
        ("九块九", "9块9"),  # no stray space at the end
    ],
)
def test_digitize_zh(text: str, expected: str) -> None:
    assert digitize_zh(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thirty days free", "30 days free"),
        ("through november seventh", "through november 7th"),
        ("call six one one", "call 611"),
        ("two ninety nine a month", "2 99 a month"),
        ("a fourteen-day trial", "a 14-day trial"),
        ("one hundred and eight", "108"),
        ("the one text each morning", "the one text each morning"),
        ("between five and ten dollars", "between 5 and 10 dollars"),  # once 510 dollars
        ("wait one second", "wait one second"),  # once "wait 3rd"
        ("oh one more thing", "oh one more thing"),
        ("oh no", "oh no"),
        ("call one eight hundred five five five one two one two", "call 1 800 5551212"),
        ("nine point nine nine dollars", "9.99 dollars"),
        ("double the price", "double the price"),
        ("the point is", "the point is"),
        ("someone often phoned", "someone often phoned"),
        ("hundred hundred", "100 100"),
    ],
)
def test_digitize_en(text: str, expected: str) -> None:
    assert digitize_en(text) == expected


def test_surface_keeps_positions() -> None:
    text = "ＴＤ１２１２１，您好ABC"
    view = surface(text)
    assert view == "td12121,您好abc" and len(view) == len(text)


@pytest.mark.parametrize(
    ("text", "language", "amount", "period"),
    [
        ("收费的，每个月3块钱。", "zh", 3.0, "month"),
        ("三块钱一个月", "zh", 3.0, "month"),
        ("月租三元", "zh", 3.0, "month"),
        ("10元/月", "zh", 10.0, "month"),
        ("超出的部分按每分钟7分钱算", "zh", 0.07, "minute"),
        ("一天才一毛钱", "zh", 0.1, "day"),
        ("九十九块九毛九一个月", "zh", 99.99, "month"),
        ("一毛五一天", "zh", 0.15, "day"),
        ("费用很低的，3块钱一年。", "zh", 3.0, "year"),  # once read 3.1 with no period
        ("三块钱一个季度", "zh", 3.0, "quarter"),
        ("3块5一个月", "zh", 3.5, "month"),  # once 3块51个月: 3元
        ("It's $2.99 per month.", "en", 2.99, "month"),
        ("two ninety nine a month", "en", 2.99, "month"),
        ("a dollar ninety-nine every month", "en", 1.99, "month"),
        ("$9.99 monthly", "en", 9.99, "month"),
        ("1 dollar and 99 cents per month", "en", 1.99, "month"),
        ("one ninety nine dollars a month", "en", 1.99, "month"),  # once read as $99
        ("two ninety-nine dollars per month", "en", 2.99, "month"),
        ("nine point nine nine dollars a month", "en", 9.99, "month"),
    ],
)
def test_find_money(text: str, language: str, amount: float, period: str) -> None:
    (money,) = find_money(normalized(text, language), language)
    assert (money.amount, money.period) == (amount, period)


def test_repeated_amount_is_not_yuan_and_jiao() -> None:
    """ "五块五块钱" (a filler between two 五块 removed) is 5 said twice, not 5.5."""
    found = find_money(normalized("五块五块钱一个月", "zh"), "zh")
    assert [m.amount for m in found] == [5.0, 5.0]
    (half,) = find_money(normalized("五块五一个月", "zh"), "zh")
    assert half.amount == 5.5


def test_money_period_is_per_clause() -> None:
    found = find_money(normalized("每个月10块钱，包含300分钟，超出每分钟0.07元", "zh"), "zh")
    assert [(m.amount, m.period) for m in found] == [(10.0, "month"), (0.07, "minute")]


@pytest.mark.parametrize(
    ("text", "language", "resolved"),
    [
        ("到11月8号试用结束", "zh", date(2026, 11, 8)),
        ("到十二月三日结束", "zh", date(2026, 12, 3)),
        ("runs through November 7th", "en", date(2026, 11, 7)),
        ("ends on the twenty-second of October", "en", date(2026, 10, 22)),
        ("到1月5号", "zh", date(2027, 1, 5)),  # the year rolls over after the call date
        ("free until the 18th", "en", date(2026, 10, 18)),  # a day alone: this month's
        ("charged from the 5th", "en", date(2026, 11, 5)),  # or, if it has passed, the next's
        ("免费用到30号", "zh", date(2026, 10, 30)),
    ],
)
def test_find_dates(text: str, language: str, resolved: date) -> None:
    (mention,) = find_dates(normalized(text, language), language)
    assert mention.resolve(date(2026, 10, 9)) == resolved


@pytest.mark.parametrize(
    ("text", "language", "days"),
    [("前三十天免费", "zh", 30), ("头一个月免费", "zh", 30), ("两周", "zh", 14),
     ("a 14-day free trial", "en", 14), ("thirty days", "en", 30), ("two weeks", "en", 14)],
)  # fmt: skip
def test_find_durations(text: str, language: str, days: int) -> None:
    (duration,) = find_durations(normalized(text, language), language)
    assert duration.days == days


def test_durations_skip_dates() -> None:
    assert find_durations(normalized("到11月8日结束", "zh"), "zh") == []
