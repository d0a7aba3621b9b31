"""Entities the disclosure checks compare with campaign facts: money with its period, calendar
dates and durations. The shapes and the language-independent mechanics live here; each language
(qa_pipeline.languages) gives its own patterns. All read the normalized view (digits, lower
case)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
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


_CLAUSE_BREAK = re.compile(r"[，,。！？!?；;]")
# Default reach of a period marker from its amount, in characters; language packs set their
# own (`period_reach`). Without punctuation a clause can be a whole segment, and
# "每天早上七点 ... 一分钱" must not become a daily price.
DEFAULT_PERIOD_REACH = 10


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, start)), default=0)
    right_match = _CLAUSE_BREAK.search(text, end)
    return left, right_match.start() if right_match else len(text)


def period_near(
    text: str, start: int, end: int, periods: Mapping[Period, re.Pattern[str]], reach: int
) -> Period | None:
    """The period marker nearest the amount inside its clause, within reach."""
    left, right = _clause_bounds(text, start, end)
    best: tuple[int, Period] | None = None
    for period, pattern in periods.items():
        for m in pattern.finditer(text, left, right):
            if m.start() < end and m.end() > start:
                continue
            distance = start - m.end() if m.end() <= start else m.start() - end
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, period)
    return best[1] if best else None


def find_money(
    text: str,
    pattern: re.Pattern[str],
    amount: Callable[[re.Match[str]], float],
    periods: Mapping[Period, re.Pattern[str]],
    reach: int,
) -> list[Money]:
    """Every amount `pattern` finds, valued by `amount`, with its nearest period."""
    found = []
    for m in pattern.finditer(text):
        period = period_near(text, m.start(), m.end(), periods, reach)
        found.append(Money(round(amount(m), 2), period, m.start(), m.end(), m.group(0)))
    return found


def find_durations(text: str, pattern: re.Pattern[str], dates: list[DateMention]) -> list[Duration]:
    """Lengths `pattern` finds (groups n, and day / week / month), outside the `dates`."""
    found = []
    for m in pattern.finditer(text):
        if any(d.start <= m.start() < d.end for d in dates):
            continue
        count = 1 if m["n"] in ("a", "one") else int(m["n"])
        days = count * (30 if m["month"] else 7 if m["week"] else 1)
        found.append(Duration(days, m.start(), m.end(), m[0]))
    return found


# A length a clause states, in days per unit, and the words that stand for a count.
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def stated_lengths(
    clause: str, pattern: re.Pattern[str], word_counts: Mapping[str, float]
) -> list[float]:
    """Days of every length `pattern` (groups n and day / week / month / year) finds."""
    found = []
    for m in pattern.finditer(clause):
        count = word_counts.get(m["n"]) or int(m["n"])
        unit = next(u for u in UNIT_DAYS if m[u])
        found.append(count * UNIT_DAYS[unit])
    return found
