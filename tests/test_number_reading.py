"""Property tests of the number readers: numbers written as digits and said as words (by people,
by ASR, digit by digit) read back as the same digits; cn2an is the oracle for Chinese numerals
where it is right. Example tables live in test_numbers_entities.py."""

from __future__ import annotations

import random
import warnings

import cn2an
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from qa_pipeline.languages import english, mandarin
from qa_pipeline.languages.registry import get
from qa_pipeline.text.numbers import cn_to_number, digitize_en, digitize_zh

ZH_UNITS = ["元", "块钱", "天", "个月", "分钟", "次", "岁"]
EN_UNITS = ["dollars", "days", "months", "minutes"]


def _cn2an(text: str) -> float | None:
    """cn2an's reading, or None where it refuses the text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(text, "smart"))
        except (ValueError, KeyError):
            return None


def _money(text: str, language: str) -> list[tuple[float, str | None]]:
    lang = get(language)
    return [(m.amount, m.period) for m in lang.find_money(lang.digitize(text), 6)]


# --- Mandarin -------------------------------------------------------------------------------


@given(st.integers(0, 10**12))
def test_formal_numerals_read_as_cn2an_writes_them(n: int) -> None:
    assert cn_to_number(cn2an.an2cn(n)) == n


@given(st.integers(0, 10**9), st.sampled_from(ZH_UNITS))
def test_numerals_before_a_unit_become_digits(n: int, unit: str) -> None:
    assert digitize_zh(f"大概{cn2an.an2cn(n)}{unit}吧") == f"大概{n}{unit}吧"


@given(
    st.integers(1, 9),
    st.sampled_from(["百", "千", "万", "十万"]),
    st.integers(1, 9),
    st.sampled_from(["", "零"]),
)
@example(3, "千", 5, "")  # 三千五 is 3500, not 3005
@example(1, "万", 5, "")  # 一万五 is 15000
def test_colloquial_numerals_agree_with_cn2an(lead: int, unit: str, last: int, zero: str) -> None:
    """三千五 (3500), 两百五 (250), 一万五 (15000); with 零, 三千零五 is 3005."""
    words = f"{cn2an.an2cn(lead)}{unit}{zero}{cn2an.an2cn(last)}"
    assert cn_to_number(words) == _cn2an(words)


@given(st.integers(0, 10**6))
def test_the_asr_noise_numbers_read_back(n: int) -> None:
    """Whatever number the `eval --noisy` speller writes, the reader reads."""
    assert digitize_zh(mandarin.number_words(n) + "元") == f"{n}元"


@given(st.from_regex(r"\A[0-9]{3,15}\Z"), st.randoms(use_true_random=False))
def test_codes_said_digit_by_digit(digits: str, rng: random.Random) -> None:
    """Codes and phone numbers, with ASR's 幺 for 一, 两 for 二 and 〇 for 零."""
    spoken = {"0": "零〇", "1": "一幺", "2": "二两"}
    said = "".join(rng.choice(spoken.get(d, "零一二三四五六七八九"[int(d)])) for d in digits)
    assert digitize_zh(f"发送{said}到一零零零一") == f"发送{digits}到10001"


@given(st.integers(0, 100), st.integers(0, 9))
def test_percentages(whole: int, tenth: int) -> None:
    said = cn2an.an2cn(whole)
    assert digitize_zh(f"百分之{said}的人") == f"{whole}%的人"
    assert digitize_zh(f"百分之{said}点{cn2an.an2cn(tenth)}") == f"{whole}.{tenth}%".replace(
        ".0%", "%"
    )


@given(st.integers(1, 99), st.integers(1, 9), st.integers(0, 9))
def test_yuan_and_jiao_and_fen(yuan: int, jiao: int, fen: int) -> None:
    """三块五 (3.5), 九十九块九毛九 (99.99), and the jiao kept apart from "一个月" after it
    (两块五一个月: cn2an reads 2块51个月)."""
    fen_words = cn2an.an2cn(fen) if fen else ""
    said = f"{cn2an.an2cn(yuan)}块{cn2an.an2cn(jiao)}{'毛' if fen else ''}{fen_words}一个月"
    assert _money(said, "zh") == [(round(yuan + jiao / 10 + fen / 100, 2), "month")]


@given(st.integers(0, 9999), st.randoms(use_true_random=False))
def test_prices_written_as_digits_read_back_after_asr_spells_them(
    fen: int, rng: random.Random
) -> None:
    price = f"{fen // 100}.{fen % 100:02d}".rstrip("0").rstrip(".")
    spelled = mandarin.MandarinNoise(get("zh")).spell_numbers(f"每个月{price}元", rng)
    assert _money(spelled, "zh") == [(fen / 100, "month")]


@given(st.text(alphabet="零一二两三五十百千万亿点分之块元毛个月天钟好的不", max_size=40))
def test_chinese_reading_is_total_and_idempotent(text: str) -> None:
    once = digitize_zh(text)
    assert digitize_zh(once) == once


@pytest.mark.parametrize(
    "text",
    ["十分方便", "稍等一下", "一点都不贵", "再便宜一点", "一五一十地说", "三天两头打电话",
     "一天到晚", "万一呢", "你真是个十三点", "百分比", "百分点", "三星手机", "一时半会",
     "一小部分", "忘得七七八八了", "三三两两地", "一两分钟", "两三天", "十分之一"],
)  # fmt: skip
def test_numerals_inside_words_stay(text: str) -> None:
    assert digitize_zh(text) == text


def test_not_a_single_fen_is_no_price() -> None:
    """一分钱都不收 (nothing at all) is no price of one fen; 每分钟一分钱 is."""
    assert _money("前三十天一分钱都不收每个月三块", "zh") == [(3.0, "month")]
    assert _money("体验期不扣您一分钱", "zh") == []
    assert _money("超出每分钟一分钱", "zh") == [(0.01, "minute")]


def test_rounded_and_compared_amounts_are_no_price() -> None:
    """ "Just under three dollars a month" rounds the price and "save thirty dollars a month"
    compares; neither states it (nor does 不到十块 or 十块钱左右)."""
    assert _money("two ninety nine a month, just under three dollars a month", "en") == [
        (2.99, "month")
    ]
    assert _money("you'll save at least thirty dollars a month", "en") == []
    assert _money("about ten bucks a month", "en") == []
    assert _money("每个月不到十块钱", "zh") == [] and _money("十块钱左右", "zh") == []
    assert _money("一个月能省三十块，每月十元", "zh") == [(10.0, "month")]


def test_huge_runs_are_read_without_error() -> None:
    """A transcript is untrusted: 5,000 numerals before 元 are not one number to convert with
    int() (Python's 4,300-digit limit) or float (overflow)."""
    assert digitize_zh("一" * 5000 + "元") == "1" * 5000 + "元"
    assert digitize_zh("十" * 5000 + "元") == "十" * 5000 + "元"
    assert get("zh").find_durations("前" + "1" * 5000 + "天免费") == []


# --- English --------------------------------------------------------------------------------


@given(st.integers(0, 10**6), st.sampled_from(EN_UNITS))
def test_english_asr_noise_numbers_read_back(n: int, unit: str) -> None:
    assert digitize_en(f"about {english.number_words(n)} {unit}") == f"about {n} {unit}"


@given(st.integers(1, 31), st.sampled_from(["november ", "dec. the "]))
def test_ordinal_days_after_a_month(day: int, month: str) -> None:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    assert digitize_en(month + english.ordinal_words(day)) == f"{month}{day}{suffix}"


@given(st.from_regex(r"\A[0-9]{2,15}\Z"), st.randoms(use_true_random=False))
def test_english_codes_said_digit_by_digit(digits: str, rng: random.Random) -> None:
    """Digit by digit, with "oh" for zero (not first: "oh, one more thing" is no number) and
    "double"/"triple" for repeats."""
    words: list[str] = []
    i = 0
    while i < len(digits):
        run = len(digits[i:]) - len(digits[i:].lstrip(digits[i]))
        take = rng.choice([n for n in (1, 2, 3) if n <= run])
        said = english.number_words(int(digits[i]))
        if digits[i] == "0" and words and rng.random() < 0.5:
            said = "oh"
        words.append({1: "", 2: "double ", 3: "triple "}[take] + said)
        i += take
    assert digitize_en(f"text stop to {' '.join(words)} now") == f"text stop to {digits} now"


@given(st.integers(1, 99), st.integers(10, 99), st.sampled_from(["dollars", "a month", "bucks"]))
@example(1, 99, "dollars")  # "one ninety nine dollars" is $1.99, not $99
@example(2, 99, "a month")
def test_dollars_then_cents(dollars: int, cents: int, unit: str) -> None:
    said = f"it's {english.number_words(dollars)} {english.number_words(cents)} {unit}"
    (money,) = _money(said, "en")
    assert money == (round(dollars + cents / 100, 2), "month" if unit == "a month" else None)


@given(st.integers(0, 99), st.integers(10, 99), st.randoms(use_true_random=False))
def test_english_prices_written_as_digits_read_back(
    dollars: int, cents: int, rng: random.Random
) -> None:
    """$d.cc as the `eval --noisy` speller says it ("two ninety-nine", "two dollars and
    ninety-nine cents") reads back as the same price."""
    spelled = english.EnglishNoise(get("en")).spell_numbers(f"${dollars}.{cents} a month", rng)
    assert _money(spelled, "en") == [(round(dollars + cents / 100, 2), "month")]


words_and_numbers = st.lists(
    st.sampled_from(
        ["one", "two", "oh", "ten", "twenty", "hundred", "and", "first", "second", "point",
         "double", "dollars", "a", "month", "may", "of", "the", "-", ","]
    ),
    max_size=12,
)  # fmt: skip


@given(words_and_numbers)
def test_english_reading_is_total_and_idempotent(words: list[str]) -> None:
    once = digitize_en(" ".join(words))
    assert digitize_en(once) == once


def test_not_a_single_cent_is_no_price() -> None:
    assert _money("it won't cost you one cent during the trial", "en") == []
    assert _money("one cent a minute after that", "en") == [(0.01, "minute")]


def test_huge_english_runs_are_read_without_error() -> None:
    assert digitize_en("hundred " * 3000).split() == ["100"] * 3000
    assert get("en").find_durations("1" * 5000 + " days") == []
    assert get("en").stated_lengths("1" * 5000 + " days") == []
