"""English (en): space-separated words, US dollars, number words."""

from __future__ import annotations

import random
import re
from typing import ClassVar

from qa_pipeline.languages.base import AsrNoise, Language
from qa_pipeline.languages.registry import register
from qa_pipeline.text import entities
from qa_pipeline.text.entities import DateMention, Duration, Money, Period
from qa_pipeline.text.fuzzy import edit_distance
from qa_pipeline.text.lexicon import screened
from qa_pipeline.text.numbers import digitize_en

_NUM = r"\d+(?:\.\d+)?"
_PER = r"(?=\s*(?:(?:a|per|each|every|/)\s*(?:month|minute|mo)\b|monthly\b))"
# Amounts start where a number starts ((?<!\d)), so a long digit run is scanned once.
_MONEY = re.compile(
    rf"\$\s?(?P<d>{_NUM})(?:\s+(?P<dc>\d{{2}})\b)?"
    # "one ninety nine dollars", "two ninety nine a month": dollars then cents ($1.99, $2.99)
    rf"|\b(?P<w>\d{{1,2}})\s+(?P<wc>\d{{2}})(?:\s*(?:dollars?|bucks)\b|{_PER})"
    rf"|(?<!\d)(?P<a>{_NUM})\s*(?:dollars?|bucks)(?:\s*(?:and\s*)?(?P<c>\d{{1,2}})(?:\s*cents?)?)?"
    rf"|\b(?:a|1)\s+(?:dollar|buck)\s+(?:and\s+)?(?P<ac>\d{{2}})\b"
    rf"|\b(?P<cents>\d{{1,2}})\s*cents?\b"
    rf"|\b(?P<p>\d{{1,3}}\.\d{{2}}){_PER}"
)
_AMOUNTS = screened(_MONEY)  # the same matches, most positions ruled out at once
# "Won't cost you 1 cent" is no price of a cent; "just under 3 dollars a month", "save at
# least 30 dollars", "about 10 bucks" round or compare, they do not state the price.
_APPROXIMATE = (
    r"\b(?:under|less\s+than|about|around|roughly|nearly|almost|over|more\s+than|at\s+least"
    r"|up\s+to|save|saves|saving|savings\s+of)\s+(?:(?:at\s+least|about|around|over|you|a)\s+)*"
)
# "It's not 12 dollars", "eight to twelve dollars", "between 8 and 12 dollars": a corrected
# amount or a range is not the price either.
_NEGATED_OR_RANGE = (
    r"\b(?:not|isn't|wasn't)\s+(?:(?:a|about|around)\s+)?"
    r"|\b\d+(?:\.\d+)?\s+(?:to|or)\s+|\bbetween\s+\d+(?:\.\d+)?\s+and\s+"
)
_NOT_A_PRICE = re.compile(
    r"(?:n't|\bnot|\bnever|\bwithout)\b(?:\s+[a-z']+){0,4}?\s+1\s+cents?\b|"
    + entities.qualified(_APPROXIMATE, _MONEY)
    + "|"
    + entities.qualified(_NEGATED_OR_RANGE, _MONEY)
)
_MONTHS = {
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
_MONTH_NAME = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    rf"\b(?P<mn>{_MONTH_NAME})\.?\s+(?:the\s+)?(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?:the\s+)?(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+of\s+(?P<mn2>{_MONTH_NAME})\b"
    rf"|\b(?P<m3>\d{{1,2}})/(?P<d3>\d{{1,2}})\b"
    # A day said alone after "until" or "from" ("free until the 18th"): its month is implied.
    r"|\b(?:until|till|til|through|thru|to|by|from|ends? on|ending on)\s+the\s+"
    r"(?P<d4>\d{1,2})(?:st|nd|rd|th)\b(?!\s+of\b)"
)
_DURATION = re.compile(
    r"\b(?P<n>\d{1,4}|a|one)[\s-]+(?:(?P<day>days?)|(?P<week>weeks?)|(?P<month>months?))\b"
)
_LENGTH = re.compile(
    r"\b(?P<n>\d{1,4}|first|one|half a)[\s-]+(?:(?P<day>days?)|(?P<week>weeks?)"
    r"|(?P<month>months?)|(?P<year>years?))\b"
)
_WORD_COUNTS = {"half a": 0.5, "first": 1.0, "one": 1.0}
_PROMPT_PERIOD = {"month": " a month", "day": " a day", "week": " a week", "year": " a year"}


def _amount(m: re.Match[str]) -> float:
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
    return int(m.group("w")) + int(m.group("wc")) / 100


# Words whose period ends no sentence: titles before a name, a.m. / p.m., U.S.
_ABBREVIATIONS = ("mr", "mrs", "ms", "dr", "st", "jr", "sr", "a.m", "p.m", "u.s")


@register("en")
class English(Language):
    # v2: "one ninety nine dollars" is $1.99, digit strings, and-joins after scales; v3: a title's
    # period ("Is this Mr. Rampersad?"), a.m., p.m. and U.S. end no sentence; v4: quarters and
    # years are periods ("$9.99 a quarter" is no monthly price)
    version = 4
    sentence_end = re.compile(
        r".*?(?:[!?;]+|"
        + "".join(rf"(?<!\b{re.escape(a)})" for a in _ABBREVIATIONS)
        + r"\.(?=\s|$)|$)",
        re.IGNORECASE,
    )
    periods: ClassVar[dict[Period, re.Pattern[str]]] = {
        "month": re.compile(
            r"\b(?:per|a|each|every|1)\s+month\b|/\s?mo(?:nth)?\b|\bmonthly\b|\ba mo\b"
        ),
        "minute": re.compile(r"\b(?:per|a|each|every|1)\s+minute\b|/\s?min(?:ute)?\b"),
        "day": re.compile(r"\b(?:per|a|each|every|1)\s+day\b|\bdaily\b|/\s?day\b"),
        "quarter": re.compile(
            r"\b(?:per|a|each|every|1)\s+quarter\b|\bquarterly\b|/\s?(?:qtr|quarter)\b"
        ),
        "year": re.compile(
            r"\b(?:per|a|each|every|1)\s+year\b|\byearly\b|\bannually\b|/\s?(?:yr|year)\b"
        ),
    }

    def make_noise(self) -> AsrNoise:
        return EnglishNoise(self)

    def heard_digit(self, word: str) -> str | None:
        """A digit's name with one sound changed ("fix" for six, "nero" for zero), or the same
        sounds spelled otherwise ("free", th said f, for three): compared as sounds (`_sounds`)
        within one edit. Words of three letters or more, and never the name itself."""
        word = word.lower()
        if len(word) < 3 or word in _ONES[:10]:
            return None
        key = _sounds(word)
        found = [d for d, name in enumerate(_DIGIT_SOUNDS) if edit_distance(key, name) <= 1]
        return str(found[0]) if len(found) == 1 else None

    def digitize(self, text: str) -> str:
        return digitize_en(text)

    def find_money(self, text: str, reach: int) -> list[Money]:
        return entities.find_money(text, _AMOUNTS, _amount, self.periods, reach, _NOT_A_PRICE)

    def find_dates(self, text: str) -> list[DateMention]:
        found = []
        for m in _DATE.finditer(text):
            if m["mn"]:
                month, day = _MONTHS[m["mn"]], int(m["d"])
            elif m["mn2"]:
                month, day = _MONTHS[m["mn2"]], int(m["d2"])
            elif m["m3"]:
                month, day = int(m["m3"]), int(m["d3"])
            else:
                month, day = 0, int(m["d4"])
            if 0 <= month <= 12 and 1 <= day <= 31:
                found.append(DateMention(month, day, m.start(), m.end(), m[0]))
        return found

    def find_durations(self, text: str) -> list[Duration]:
        return entities.find_durations(text, _DURATION, self.find_dates(text))

    def stated_lengths(self, clause: str) -> list[float]:
        return entities.stated_lengths(clause, _LENGTH, _WORD_COUNTS)

    def money_text(self, amount: float, period: str) -> str:
        return f"${amount:g}/{period}"

    def price_phrase(self, amount: float, period: str) -> str:
        return f"${amount:g}{_PROMPT_PERIOD.get(period, '')}"


SPLITS = {"stormwatch": "storm watch", "ringback": "ring back", "northwind": "north wind"}
FILLERS = ["um", "uh", "uh", "er"]
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
         "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen"]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {
    1: "first", 2: "second", 3: "third", 5: "fifth", 8: "eighth", 9: "ninth", 12: "twelfth",
}  # fmt: skip


# Spellings of one sound written alike, for comparing words as they sound: th said f (as
# recognizers hear "three" from many voices), ph, ck, c before a back vowel, z.
_SOUND_SPELLINGS = ((re.compile(r"th|ph"), "f"), (re.compile(r"ck|c(?=[aou])|q"), "k"),
                    (re.compile(r"z"), "s"), (re.compile(r"(.)\1"), r"\1"))  # fmt: skip


def _sounds(word: str) -> str:
    for pattern, sound in _SOUND_SPELLINGS:
        word = pattern.sub(sound, word)
    return word


_DIGIT_SOUNDS = tuple(_sounds(name) for name in _ONES[:10])  # "zero" .. "nine", as sounds


def number_words(value: int) -> str:
    if value < 20:
        return _ONES[value]
    if value < 100:
        return _TENS[value // 10] + ("-" + _ONES[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        return _ONES[value // 100] + " hundred" + (" " + number_words(rest) if rest else "")
    return " ".join(_ONES[int(d)] for d in str(value))


def ordinal_words(value: int) -> str:
    if value in _ORDINALS:
        return _ORDINALS[value]
    if value % 10 in _ORDINALS and value > 20:
        return _TENS[value // 10] + "-" + _ORDINALS[value % 10]
    word = number_words(value)
    return word[:-1] + "ieth" if word.endswith("y") else word + "th"


class EnglishNoise(AsrNoise):
    hallucinations = (
        "Thanks for watching!", "Subtitles by the Amara.org community", "Please subscribe.",
    )  # fmt: skip

    def spell_numbers(self, text: str, rng: random.Random) -> str:
        def money(m: re.Match[str]) -> str:
            dollars, cents = m.group(1), m.group(2)
            if rng.random() < 0.5:
                return f"{number_words(int(dollars))} {number_words(int(cents))}"
            return f"{number_words(int(dollars))} dollars and {number_words(int(cents))} cents"

        text = re.sub(r"\$(\d+)\.(\d\d)", money, text)
        text = re.sub(r"(\d+)(?:st|nd|rd|th)\b", lambda m: ordinal_words(int(m.group(1))), text)
        text = re.sub(r"\b(\d+)-day\b", lambda m: number_words(int(m.group(1))) + "-day", text)
        return re.sub(r"\d+", lambda m: number_words(int(m.group(0))), text)

    def mishear(self, text: str, rng: random.Random, chance: float) -> str:
        text = text.lower()
        for word, split in SPLITS.items():
            if rng.random() < 0.5:
                text = text.replace(word, split)
        return text

    def filler(self, text: str, rng: random.Random) -> str:
        words = text.split(" ")
        at = rng.randrange(len(words))
        return " ".join([*words[:at], rng.choice(FILLERS), *words[at:]])
