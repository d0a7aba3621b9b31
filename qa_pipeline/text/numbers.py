"""Spoken numbers to digits, for Mandarin (三块钱, 十一月八号, 一二一二一) and English
(thirty days, November seventh, six one one).

Digitising first lets one set of entity patterns (money, dates, durations, codes) serve every
way an agent or an ASR system writes a number.
"""

from __future__ import annotations

import re

_CN_DIGIT = {
    "零": 0, "〇": 0, "幺": 1, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2,
    "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_CN_UNIT = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10000}
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_UNIT)
_CN_DIGIT_CHARS = "".join(_CN_DIGIT)

# A numeral run is converted when a unit follows it (money, time, counts), when it follows a
# money unit (两块五), or when it is a digit string (phone numbers, SMS codes).
_CN_RUN = re.compile(
    rf"(?<=[块元毛角])(?P<tail>[{_CN_DIGIT_CHARS}])(?![{_CN_DIGIT_CHARS}]*[元块毛角])"
    rf"|(?P<num>[{_CN_CHARS}]+(?:点[{_CN_DIGIT_CHARS}]+)?)"
    rf"(?=[元块毛角分月号日天年岁个周星期礼拜小时点钟次倍%])"
    rf"|(?P<digits>[{_CN_DIGIT_CHARS}]{{3,}})"
)
# Words whose numeral is not a number ("一下" = briefly): never converted.
_CN_IDIOMS = re.compile(
    r"一个(?!月|多月|星期|礼拜|小时|周)|一两|两三|三五|三四|一(?:下|点儿|些|直|起|样|般|定|会|边|共|切|旦|致|向)|万一|十分"
)


def cn_to_number(text: str) -> float:
    """Value of a Chinese numeral: 十五 -> 15, 一百零八 -> 108, 三点五 -> 3.5, 一二一 -> 121."""
    integer, _, decimals = text.partition("点")
    value = float(_cn_int(integer))
    if decimals:
        value += float("0." + "".join(str(_CN_DIGIT[c]) for c in decimals))
    return value


def _cn_int(text: str) -> int:
    if text and all(c in _CN_DIGIT for c in text) and len(text) > 1:
        return int("".join(str(_CN_DIGIT[c]) for c in text))
    total, section, number = 0, 0, 0
    for char in text:
        if char in _CN_DIGIT:
            number = _CN_DIGIT[char]
        elif _CN_UNIT[char] == 10000:
            total += (section + number) * 10000
            section, number = 0, 0
        else:
            section += (number or 1) * _CN_UNIT[char]
            number = 0
    return total + section + number


def _format(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def digitize_zh(text: str) -> str:
    """Replace Chinese numerals that stand for numbers with Arabic digits."""
    protected = {m.start() for m in _CN_IDIOMS.finditer(text)}

    def repl(match: re.Match[str]) -> str:
        if match.start() in protected:
            return match.group(0)
        if match.group("tail"):
            # 两块五一个月: keep the 5 apart from the 1 that follows.
            spacer = " " if text[match.end() : match.end() + 1] in _CN_CHARS else ""
            return str(_CN_DIGIT[match.group("tail")]) + spacer
        if match.group("digits"):
            return "".join(str(_CN_DIGIT[c]) for c in match.group("digits"))
        return _format(cn_to_number(match.group(0)))

    return _CN_RUN.sub(repl, text)


_EN_SMALL = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_EN_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_EN_ORDINAL = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
_EN_SCALE = {"hundred": 100, "thousand": 1000}
_EN_WORD = "|".join(
    sorted([*_EN_SMALL, *_EN_TENS, *_EN_ORDINAL, *_EN_SCALE], key=len, reverse=True)
)
# A run of number words, joined by spaces, hyphens or "and" (one hundred and eight).
_EN_RUN = re.compile(rf"\b(?:{_EN_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_EN_WORD}))*\b")
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
_EN_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:the\s+)?$"
)
_EN_OF_MONTH = re.compile(
    r"\s+of\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
)
_EN_UNIT_AFTER = re.compile(
    r"[\s-]+(?:dollars?|bucks?|cents?|days?|weeks?|months?|minutes?|years?)\b"
)


def _en_groups(words: list[str]) -> list[list[str]]:
    """Split a run where magnitudes cannot continue one number: 'two ninety nine' is two
    numbers (2, 99), as said for $2.99; 'ninety nine' is one."""
    groups: list[list[str]] = [[]]
    for word in words:
        prev = groups[-1][-1] if groups[-1] else None
        new_number = prev is not None and (
            prev in _EN_ORDINAL
            or (prev in _EN_SMALL and (word in _EN_SMALL or word in _EN_TENS))
            or (prev in _EN_TENS and (word in _EN_TENS or _EN_SMALL.get(word, 0) >= 10))
        )
        if new_number:
            groups.append([])
        groups[-1].append(word)
    return groups


def _en_number(words: list[str]) -> str:
    total, current, ordinal = 0, 0, False
    for word in words:
        if word in _EN_SMALL:
            current += _EN_SMALL[word]
        elif word in _EN_TENS:
            current += _EN_TENS[word]
        elif word in _EN_ORDINAL:
            current += _EN_ORDINAL[word]
            ordinal = True
        else:
            current = max(current, 1) * _EN_SCALE[word]
            if _EN_SCALE[word] >= 1000:
                total, current = total + current, 0
    value = total + current
    if ordinal:
        suffix = "th" if 10 <= value % 100 <= 20 else _SUFFIX.get(value % 10, "th")
        return f"{value}{suffix}"
    return str(value)


def _en_words_value(words: list[str], in_date: bool = True) -> str:
    if len(words) > 1 and all(w in _EN_SMALL and _EN_SMALL[w] < 10 for w in words):
        return "".join(str(_EN_SMALL[w]) for w in words)  # six one one -> 611
    # A lone ordinal is a number only in a date ("november seventh", "the fifth of may"):
    # "the first thirty days" keeps its "first".
    return " ".join(
        group[0]
        if len(group) == 1 and group[0] in _EN_ORDINAL and not in_date
        else _en_number(group)
        for group in _en_groups(words)
    )


def digitize_en(text: str) -> str:
    """Replace English number words with digits: 'thirty days' -> '30 days',
    'november seventh' -> 'november 7th', 'six one one' -> '611'."""

    def repl(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0)) if w != "and"]
        # "one" alone is usually a pronoun ("the one text") unless a unit follows ("one
        # dollar"); "second" is a unit of time, "oh" an interjection.
        unit_follows = _EN_UNIT_AFTER.match(match.string, match.end()) is not None
        after_month = _EN_MONTH_BEFORE.search(match.string, 0, match.start()) is not None
        in_date = after_month or _EN_OF_MONTH.match(match.string, match.end()) is not None
        if words == ["oh"] or (words == ["one"] and not unit_follows):
            return match.group(0)
        return _en_words_value(words, in_date)

    return _EN_RUN.sub(repl, text)
