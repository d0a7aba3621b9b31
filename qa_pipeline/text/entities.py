"""Entities the disclosure checks compare with campaign facts: money with its period, calendar
dates and durations. The shapes and the language-independent mechanics live here; each language
(qa_pipeline.languages) gives its own patterns. All read the normalized view (digits, lower
case)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Period = Literal["month", "minute", "day", "quarter", "year"]


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    period: Period | None
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class DateMention:
    month: int  # 0: a day of the month said alone ("until the 18th", "到18号")
    day: int
    start: int
    end: int
    text: str

    def resolve(self, reference: date) -> date | None:
        """The first such calendar date on or after a week before `reference`; a day said
        alone is the next such day of a month from `reference` on."""
        if self.month == 0:
            return _next_day_of_month(reference, self.day)
        for year in (reference.year, reference.year + 1):
            try:
                candidate = date(year, self.month, self.day)
            except ValueError:
                return None
            if candidate >= reference - timedelta(days=7):
                return candidate
        return None


def _next_day_of_month(reference: date, day: int) -> date | None:
    year, month = reference.year, reference.month
    for _ in range(3):  # a 31st skips the months that have none
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= reference:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
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


@dataclass(frozen=True)
class _Markers:
    """Where a text's clause breaks and period markers are, found once per text, so that
    placing each amount costs a lookup, not a scan (time linear in the text)."""

    breaks: list[int]
    periods: list[tuple[Period, list[int], list[int]]]  # period, marker starts, marker ends

    @classmethod
    def of(cls, text: str, periods: Mapping[Period, re.Pattern[str]]) -> _Markers:
        found = []
        for period, pattern in periods.items():
            spans = [m.span() for m in pattern.finditer(text)]
            found.append((period, [a for a, _ in spans], [b for _, b in spans]))
        return cls([m.start() for m in _CLAUSE_BREAK.finditer(text)], found)

    def clause(self, start: int, end: int, length: int) -> tuple[int, int]:
        i = bisect_left(self.breaks, start)
        left = self.breaks[i - 1] + 1 if i else 0
        j = bisect_left(self.breaks, end)
        return left, self.breaks[j] if j < len(self.breaks) else length

    def nearest(self, start: int, end: int, reach: int, length: int) -> Period | None:
        """The period marker nearest the span inside its clause, within reach; markers that
        overlap the span do not count (markers never hold a clause break)."""
        left, right = self.clause(start, end, length)
        best: tuple[int, Period] | None = None
        for period, starts, ends in self.periods:
            candidates = []
            before = bisect_right(ends, start) - 1  # the last marker ending by `start`
            if before >= 0 and starts[before] >= left:
                candidates.append(start - ends[before])
            after = bisect_left(starts, end)  # the first marker starting at `end` or later
            if after < len(starts) and ends[after] <= right:
                candidates.append(starts[after] - end)
            for distance in candidates:
                if distance <= reach and (best is None or distance < best[0]):
                    best = (distance, period)
        return best[1] if best else None


def qualified(cue: str, money: re.Pattern[str], after: str = "") -> str:
    """A pattern for an amount with a cue before it (or `after` it) that makes it no price
    ("under ten dollars", "save thirty dollars", "不到10块", "10块左右"): `money`'s own
    pattern, its groups made non-capturing so it can sit inside another."""
    bare = re.sub(r"\(\?P<\w+>", "(?:", money.pattern)
    return rf"(?:{cue})(?:{bare})" + (rf"|(?:{bare})(?:{after})" if after else "")


def find_money(
    text: str,
    pattern: re.Pattern[str],
    amount: Callable[[re.Match[str]], float],
    periods: Mapping[Period, re.Pattern[str]],
    reach: int,
    not_a_price: re.Pattern[str] | None = None,
) -> list[Money]:
    """Every amount `pattern` finds, valued by `amount`, with its nearest period; amounts
    inside a match of `not_a_price` ("一分钱都不收") are left out."""
    amounts = list(pattern.finditer(text))
    if not amounts:  # most sentences: the period markers' scans would be wasted
        return []
    markers = _Markers.of(text, periods)
    excluded = [m.span() for m in not_a_price.finditer(text)] if not_a_price else []
    found = []
    for m in amounts:
        i = bisect_right(excluded, (m.start(), len(text))) - 1
        if i >= 0 and excluded[i][1] >= m.end():
            continue
        period = markers.nearest(m.start(), m.end(), reach, len(text))
        found.append(Money(round(amount(m), 2), period, m.start(), m.end(), m.group(0)))
    return found


def find_durations(text: str, pattern: re.Pattern[str], dates: list[DateMention]) -> list[Duration]:
    """Lengths `pattern` finds (groups n, and day / week / month), outside the `dates`."""
    date_starts = [d.start for d in dates]  # dates come in text order and do not overlap
    found = []
    for m in pattern.finditer(text):
        i = bisect_right(date_starts, m.start()) - 1
        if i >= 0 and m.start() < dates[i].end:
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
