"""Entities the disclosure checks compare with campaign facts: money with its period, calendar
dates and durations. All functions read the `normalized` view (digits, lower case)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Period = Literal["month", "minute", "day"]


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    period: Period | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class DateMention:
    month: int
    day: int
    start: int
    end: int
    text: str

    def resolve(self, reference: date) -> date | None:
        """The first such calendar date on or after a week before `reference`."""
        for year in (reference.year, reference.year + 1):
            try:
                candidate = date(year, self.month, self.day)
            except ValueError:
                return None
            if candidate >= reference - timedelta(days=7):
                return candidate
        return None


@dataclass(frozen=True, slots=True)
class Duration:
    days: int
    start: int
    end: int
    text: str


_NUM = r"\d+(?:\.\d+)?"
_ZH_MONEY = re.compile(
    rf"(?P<a>{_NUM})\s*(?:(?P<u>块钱|块|元)(?P<b>\d(?![\d个月天分周块元]))?|(?P<s>毛钱|毛|角|分钱))"
)
_EN_MONEY = re.compile(
    rf"\$\s?(?P<d>{_NUM})(?:\s+(?P<dc>\d{{2}})\b)?"
    rf"|(?P<a>{_NUM})\s*(?:dollars?|bucks)(?:\s*(?:and\s*)?(?P<c>\d{{1,2}})(?:\s*cents?)?)?"
    rf"|\b(?:a|1)\s+(?:dollar|buck)\s+(?:and\s+)?(?P<ac>\d{{2}})\b"
    rf"|\b(?P<cents>\d{{1,2}})\s*cents?\b"
    rf"|\b(?P<p>\d{{1,3}}\.\d{{2}})(?=\s*(?:(?:a|per|each|every|/)\s*(?:month|minute|mo)\b|monthly\b))"
    rf"|\b(?P<w>\d{{1,2}})\s+(?P<wc>\d{{2}})"
    rf"(?=\s*(?:(?:a|per|each|every|/)\s*(?:month|minute|mo)\b|monthly\b))"
)
_PERIODS: dict[str, dict[Period, re.Pattern[str]]] = {
    "zh": {
        "month": re.compile(r"每个?月|1个?月|月租|包月|/月|按月|月费|一个月"),
        "minute": re.compile(r"每分钟|1分钟|/分钟|每分"),
        "day": re.compile(r"每天|1天|/天|一天|每日|天天"),
    },
    "en": {
        "month": re.compile(
            r"\b(?:per|a|each|every|1)\s+month\b|/\s?mo(?:nth)?\b|\bmonthly\b|\ba mo\b"
        ),
        "minute": re.compile(r"\b(?:per|a|each|every|1)\s+minute\b|/\s?min(?:ute)?\b"),
        "day": re.compile(r"\b(?:per|a|each|every|1)\s+day\b|\bdaily\b|/\s?day\b"),
    },
}
_CLAUSE_BREAK = re.compile(r"[，,。！？!?；;]")


def _zh_amount(m: re.Match[str]) -> float:
    value = float(m.group("a"))
    small = m.group("s")
    if small:
        return value / 100 if small == "分钱" else value / 10
    return value + (int(m.group("b")) / 10 if m.group("b") else 0.0)


def _en_amount(m: re.Match[str]) -> float:
    if m.group("d") is not None:
        cents = m.group("dc")
        return float(m.group("d")) + (int(cents) / 100 if cents else 0.0)
    if m.group("a") is not None:
        return float(m.group("a")) + (int(m.group("c")) / 100 if m.group("c") else 0.0)
    if m.group("ac") is not None:
        return 1 + int(m.group("ac")) / 100
    if m.group("cents") is not None:
        return int(m.group("cents")) / 100
    if m.group("p") is not None:
        return float(m.group("p"))
    if m.group("p") is not None:
        return float(m.group("p"))
    return int(m.group("w")) + int(m.group("wc")) / 100


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE_BREAK.search(text, end)
    return left, right_match.start() if right_match else len(text)


# Default reach of a period marker from its amount, in characters; language packs set their
# own (`period_reach`). Without punctuation a clause can be a whole segment, and
# "每天早上七点 ... 一分钱" must not become a daily price.
DEFAULT_PERIOD_REACH = 10


def _period_near(text: str, start: int, end: int, language: str, reach: int) -> Period | None:
    """The period marker nearest the amount inside its clause, within reach."""
    left, right = _clause_bounds(text, start, end)
    best: tuple[int, Period] | None = None
    for period, pattern in _PERIODS[language].items():
        for m in pattern.finditer(text, left, right):
            if m.start() < end and m.end() > start:
                continue
            distance = start - m.end() if m.end() <= start else m.start() - end
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, period)
    return best[1] if best else None


def find_money(text: str, language: str, reach: int = DEFAULT_PERIOD_REACH) -> list[Money]:
    pattern, amount = (_ZH_MONEY, _zh_amount) if language == "zh" else (_EN_MONEY, _en_amount)
    found = []
    for m in pattern.finditer(text):
        period = _period_near(text, m.start(), m.end(), language, reach)
        found.append(Money(round(amount(m), 2), period, m.start(), m.end(), m.group(0)))
    return found


_EN_MONTHS = {
    name: index
    for index, names in enumerate(
        [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH_NAME = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))
_ZH_DATE = re.compile(r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[号日]")
_EN_DATE = re.compile(
    rf"\b(?P<mn>{_MONTH_NAME})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+(?P<mn2>{_MONTH_NAME})\b"
    rf"|\b(?P<m3>\d{{1,2}})/(?P<d3>\d{{1,2}})\b"
)


def find_dates(text: str, language: str) -> list[DateMention]:
    found = []
    if language == "zh":
        for m in _ZH_DATE.finditer(text):
            found.append(DateMention(int(m["m"]), int(m["d"]), m.start(), m.end(), m[0]))
        return found
    for m in _EN_DATE.finditer(text):
        if m["mn"]:
            month, day = _EN_MONTHS[m["mn"]], int(m["d"])
        elif m["mn2"]:
            month, day = _EN_MONTHS[m["mn2"]], int(m["d2"])
        else:
            month, day = int(m["m3"]), int(m["d3"])
        if 1 <= month <= 12 and 1 <= day <= 31:
            found.append(DateMention(month, day, m.start(), m.end(), m[0]))
    return found


_ZH_DURATION = re.compile(
    r"(?P<n>\d+)\s*(?:(?P<day>天|日)|(?P<month>个月)|(?P<week>周|个星期|个礼拜|星期))"
)
_EN_DURATION = re.compile(
    r"\b(?P<n>\d+|a|one)[\s-]+(?:(?P<day>days?)|(?P<week>weeks?)|(?P<month>months?))\b"
)


def find_durations(text: str, language: str) -> list[Duration]:
    pattern = _ZH_DURATION if language == "zh" else _EN_DURATION
    dates = find_dates(text, language)
    found = []
    for m in pattern.finditer(text):
        if any(d.start <= m.start() < d.end for d in dates):
            continue
        count = 1 if m["n"] in ("a", "one") else int(m["n"])
        days = count * (30 if m["month"] else 7 if m["week"] else 1)
        found.append(Duration(days, m.start(), m.end(), m[0]))
    return found
