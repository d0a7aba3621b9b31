"""Spoken numbers to digits, for Mandarin (三块钱, 三千五, 十一月八号, 百分之五十, 一二一二一) and
English (thirty days, November seventh, two ninety nine, six one one, double five, three
point five).

Digitising first lets one set of entity patterns (money, dates, durations, codes) serve every
way an agent or an ASR system writes a number. Both readers take time linear in the text: each
run of numerals is read once, and a run too long to be one spoken number is read as a code or
left as it is (a transcript is untrusted input).
"""

from __future__ import annotations

import re

from qa_pipeline.text.lexicon import screened

_CN_DIGIT = {
    "零": 0, "〇": 0, "幺": 1, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2,
    "三": 3, "叁": 3, "仨": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6,
    "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9,
}  # fmt: skip
_CN_UNIT = {
    "十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10**4, "亿": 10**8,
}  # fmt: skip
_CN_CHARS = "".join(_CN_DIGIT) + "".join(_CN_UNIT)
_CN_DIGIT_CHARS = "".join(_CN_DIGIT)
_CN_MONEY_UNITS = "元块蚊毛角"  # 蚊: Cantonese-tinged 元 (五蚊)
# Longer runs with units (十百千万) are not one spoken number; their digit stretches are codes.
_CN_MAX_SPOKEN = 32

# A run of numerals, with its decimals (三点五) and a percent before it (百分之五十, 百分百).
_CN_RUN = re.compile(
    rf"(?P<pct>百分之?(?=[{_CN_CHARS}]))?(?P<run>[{_CN_CHARS}]+)(?:点(?P<dec>[{_CN_DIGIT_CHARS}]+))?"
)
# A run is a number when a unit follows it (money, time, counts) ...
_CN_UNIT_AFTER = re.compile(
    r"元|块|蚊|毛|角|分|月|号|日|天|年|岁|个|周|星期|礼拜|小时|点|钟|次|倍|%"
)
# ... and is not a word: 一下 (briefly), 十分 (very), 三天两头 (often), 一点儿, 便宜一点 (a bit),
# 一五一十 (in full), 十三点 (Shanghainese: silly), 百分比 (percentage).
_CN_WORDS = re.compile(
    rf"一个(?!月|多月|星期|礼拜|小时|周)|(?:一两|两三|三五|三四)(?![{_CN_DIGIT_CHARS}])|万一"
    r"|一(?:下|点儿|些|直|起|样|般|定|会|边|共|切|旦|致|向)"
    r"|一点(?=[点儿都也])|(?<=[有快慢早晚多少大小高低宜好近远轻重贵便长短])一点"
    r"|十分(?![钟钱])|百分|十三点(?![半钟整\d零一二两三四五六七八九十])"
    r"|三天两头|一天到晚|一年到头|一五一十|三六九等"
    r"|(?<=得)七七八八|七七八八(?=[了的地])|三三两两(?=[地的])"  # else codes: 发送七七八八
)
_CN_CODE = re.compile(rf"[{_CN_DIGIT_CHARS}]{{3,}}")  # codes and phone numbers, digit by digit


def cn_to_number(text: str) -> float:
    """Value of a Chinese numeral: 十五 -> 15, 一百零八 -> 108, 三千五 -> 3500, 三点五 -> 3.5,
    一二一 -> 121."""
    integer, _, decimals = text.partition("点")
    return float(_cn_value(integer, decimals or None) or "nan")


def _cn_value(run: str, decimals: str | None) -> str | None:
    """The number a run of numerals says, as digits; None when it is too long to be one."""
    if len(run) > 1 and all(c in _CN_DIGIT for c in run):
        integer = "".join(str(_CN_DIGIT[c]) for c in run).lstrip("0") or "0"
    elif len(run) > _CN_MAX_SPOKEN:
        return None
    else:
        integer = str(_cn_int(run))
    fraction = "".join(str(_CN_DIGIT[c]) for c in decimals or "").rstrip("0")
    return f"{integer}.{fraction}" if fraction else integer


def _cn_int(run: str) -> int:
    closed = 0  # the 亿 and 万 groups already read
    section = 0  # below 万
    digit = 0  # the digit not yet given a unit
    for char in run:
        if char in _CN_DIGIT:
            digit = _CN_DIGIT[char]
            continue
        unit = _CN_UNIT[char]
        if unit >= 10**4:
            group = section + digit or int(not closed)  # a bare 万 is ten thousand
            closed = (closed + group) * unit if unit == 10**8 else closed + group * unit
            section = 0
        else:
            section += (digit or 1) * unit
        digit = 0
    # A last digit right after 百, 千, 万 or 亿 counts in the next unit down: 三千五 is 3500,
    # 一万五 15000 (三千零五, with its 零, is 3005).
    if len(run) > 1 and run[-1] in _CN_DIGIT and _CN_UNIT.get(run[-2], 0) >= 100:
        digit *= _CN_UNIT[run[-2]] // 10
    return closed + section + digit


def _cn_codes(run: str, start: int, words: set[int]) -> str:
    """A run that is no number: only its digit-by-digit stretches (codes) become digits."""

    def repl(m: re.Match[str]) -> str:
        if start + m.start() in words:
            return m.group(0)
        return "".join(str(_CN_DIGIT[c]) for c in m.group(0))

    return _CN_CODE.sub(repl, run)


def _cn_tail(text: str, start: int) -> bool:
    """两块五: the digit after a money unit is its jiao (or fen), unless a new amount starts
    there (五块五块钱) or a larger number does (每月五元三十天免费: 30 days, not 5.3元)."""
    if start == 0 or text[start - 1] not in _CN_MONEY_UNITS or text[start] not in _CN_DIGIT:
        return False
    end = start + 1
    while end < len(text) and text[end] in _CN_DIGIT:
        end += 1
    return end == len(text) or text[end] not in _CN_MONEY_UNITS + "十百千万亿"


_ASCII_DIGITS = frozenset("0123456789")


def digitize_zh(text: str) -> str:
    """Replace Chinese numerals that stand for numbers with Arabic digits."""
    words = {m.start() for m in _CN_WORDS.finditer(text)}
    out: list[str] = []
    pos = 0
    while m := _CN_RUN.search(text, pos):
        out.append(text[pos : m.start()])
        pos = m.end()
        run, decimals = m.group("run"), m.group("dec")
        value = _cn_value(run, decimals)
        if m.group("pct") and value is not None:
            out.append(value + "%")
        elif m.start() in words:
            out.append(m.group(0))
        elif _cn_tail(text, m.start()):
            # Keep the jiao apart from a number that follows: 两块五一个月 -> 2块5 1个月.
            out.append(str(_CN_DIGIT[run[0]]) + (" " if len(run) > 1 else ""))
            pos = m.start() + 1
        elif value is not None and _CN_UNIT_AFTER.match(text, pos):
            # A count kept apart from digits written before it: 3块5一个月 -> 3块5 1个月, not
            # 3块51个月 (codes, handled below, run on: TD1二121).
            apart = m.start() and text[m.start() - 1] in _ASCII_DIGITS
            out.append(" " + value if apart else value)
        elif decimals is not None and len(run) <= _CN_MAX_SPOKEN:
            # 三点五十: no unit after the decimals, so 点 is the hour (三点 -> 3点).
            out.append(_cn_value(run, None) or run)
            pos = m.end("run")
        else:
            out.append(_cn_codes(m.group(0), m.start(), words))
    out.append(text[pos:])
    return "".join(out)


_EN_DIGIT = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9,
}  # fmt: skip
_EN_TEEN = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
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
_EN_SCALE = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9}
_EN_REPEAT = {"double": 2, "triple": 3}  # "double five" is 55, in codes and phone numbers
_EN_CARDINAL = {**_EN_DIGIT, **_EN_TEEN, **_EN_TENS}
_EN_NUMERIC = frozenset([*_EN_CARDINAL, *_EN_ORDINAL, *_EN_SCALE])
_EN_WORD = "|".join(sorted([*_EN_NUMERIC, *_EN_REPEAT, "oh", "point"], key=len, reverse=True))
_EN_BEFORE_ZERO = frozenset([*_EN_CARDINAL, "point"])  # "one oh one", "one point oh five"
_AFTER_SCALE = "".join(f"(?<={word})|" for word in _EN_SCALE)[:-1]
# A run of number words joined by spaces or hyphens, and by "and" after a scale (one hundred
# and eight); "five and ten" is two numbers.
_EN_RUN = screened(  # behind the letters number words start with: most positions fail at once
    re.compile(rf"\b(?:{_EN_WORD})(?:(?:[\s-]+|(?:{_AFTER_SCALE})\s+and\s+)(?:{_EN_WORD}))*\b")
)
_SUFFIX = {1: "st", 2: "nd", 3: "rd"}
# A month name just before a lone ordinal makes it a date; looked for this far back only.
_MONTH_REACH = 32
_EN_MONTH_BEFORE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:the\s+)?$"
)
_EN_OF_MONTH = re.compile(
    r"\s+of\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b"
)
_EN_UNIT_AFTER = re.compile(
    r"[\s-]+(?:dollars?|bucks?|cents?|days?|weeks?|months?|minutes?|years?)\b"
)


def _en_continues(prev: str, word: str, following: str | None) -> bool:
    """Whether `word` goes on the number that `prev` is part of: 'ninety nine' is one number,
    'two ninety nine' two (2, 99: $2.99), 'eight hundred five five five' 800 then 555."""
    if prev in _EN_ORDINAL:
        return False
    if word in _EN_ORDINAL:
        return prev in _EN_TENS  # twenty first; "one second" is two words
    if word in _EN_SCALE:  # scales grow within a number: five hundred thousand
        return prev in _EN_CARDINAL or _EN_SCALE.get(prev, 10**12) < _EN_SCALE[word]
    if prev in _EN_TENS:
        return word in _EN_DIGIT
    if prev in _EN_SCALE:
        return word not in _EN_DIGIT or following not in _EN_DIGIT
    return False  # after a digit or a teen: six one one, two ninety nine


def _en_value(words: list[str]) -> str:
    """One number's words as digits: 'one hundred eight' -> 108, 'twenty first' -> 21st."""
    total, current = 0, 0
    for word in words:
        if word in _EN_SCALE:
            current = max(current, 1) * _EN_SCALE[word]
            if _EN_SCALE[word] >= 1000:
                total, current = total + current, 0
        else:
            current += _EN_CARDINAL.get(word) or _EN_ORDINAL.get(word, 0)
    value = total + current
    if words[-1] not in _EN_ORDINAL:
        return str(value)
    suffix = "th" if 10 <= value % 100 <= 20 else _SUFFIX.get(value % 10, "th")
    return f"{value}{suffix}"


def _en_tokens(words: list[str]) -> list[str]:
    """The run's words with 'double'/'triple' spelled out and each 'oh' that is a zero as
    'zero'; a leading 'oh' ("oh one more thing") stays a word."""
    out: list[str] = []
    repeat = 1
    for word in words:
        if word in _EN_REPEAT:
            repeat = _EN_REPEAT[word]
            continue
        digit = word in _EN_DIGIT or word == "oh"
        if repeat > 1 and not digit:
            out.append("double" if repeat == 2 else "triple")  # "double the price": a word
        zero = word == "oh" and (repeat > 1 or (out and out[-1] in _EN_BEFORE_ZERO))
        out.extend(["zero" if zero else word] * (repeat if digit else 1))
        repeat = 1
    if repeat > 1:
        out.append("double" if repeat == 2 else "triple")
    return out


# What a piece of a run is: a word left as it was, a number, or digits said one by one.
_WORD, _NUMBER, _DIGITS = "word", "number", "digits"


def _en_groups(tokens: list[str]) -> list[list[str]]:
    groups: list[list[str]] = []
    for i, word in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = groups[-1][-1] if groups else None
        if prev in _EN_NUMERIC and word in _EN_NUMERIC and _en_continues(prev, word, following):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _en_pieces(tokens: list[str], in_date: bool) -> list[tuple[str, str]]:
    """The run read as (kind, text) pieces."""
    pieces: list[tuple[str, str]] = []
    for group in _en_groups(tokens):
        word = group[0]
        last = pieces[-1] if pieces else (_WORD, "")
        if len(group) > 1:
            pieces.append((_NUMBER, _en_value(group)))
        elif word in _EN_DIGIT and last[0] == _DIGITS:
            pieces[-1] = (_DIGITS, last[1] + str(_EN_DIGIT[word]))  # six one one -> 611
        elif word in _EN_DIGIT:
            pieces.append((_DIGITS, str(_EN_DIGIT[word])))
        elif word not in _EN_NUMERIC or (word in _EN_ORDINAL and not in_date):
            # "point", "oh", a lone ordinal ("the first thirty days") stay words
            pieces.append((_WORD, word))
        else:
            pieces.append((_NUMBER, _en_value(group)))
    return _en_decimals(pieces)


def _en_decimals(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """'three point five' -> 3.5, 'nine point nine nine' -> 9.99."""
    out: list[tuple[str, str]] = []
    for kind, text in pieces:
        point = len(out) >= 2 and out[-1] == (_WORD, "point") and out[-2][0] != _WORD
        if point and kind == _DIGITS and out[-2][1].isdigit():
            out.pop()
            out[-1] = (_NUMBER, f"{out[-1][1]}.{text}")
        else:
            out.append((kind, text))
    return out


def digitize_en(text: str) -> str:
    """Replace English number words with digits: 'thirty days' -> '30 days',
    'november seventh' -> 'november 7th', 'six one one' -> '611'."""

    def repl(match: re.Match[str]) -> str:
        words = [w for w in re.split(r"[\s-]+", match.group(0)) if w != "and"]
        start, end = match.start(), match.end()
        # "one" alone is usually a pronoun ("the one text") unless a unit follows ("one
        # dollar"); "second" is a unit of time, "oh" an interjection.
        unit_follows = _EN_UNIT_AFTER.match(text, end) is not None
        after_month = _EN_MONTH_BEFORE.search(text, max(0, start - _MONTH_REACH), start)
        in_date = after_month is not None or _EN_OF_MONTH.match(text, end) is not None
        pieces = _en_pieces(_en_tokens(words), in_date)
        read = [piece for kind, piece in pieces if kind != _WORD]
        if not read or (read == ["1"] and not unit_follows):
            return match.group(0)
        return " ".join(piece for _, piece in pieces)

    return _EN_RUN.sub(repl, text)
