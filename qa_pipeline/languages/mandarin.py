"""Mandarin Chinese (zh): characters without spaces, simplified script, Chinese numerals."""

from __future__ import annotations

import random
import re
from typing import ClassVar

from qa_pipeline.languages.base import AsrNoise, CancelWording, Language
from qa_pipeline.languages.registry import register
from qa_pipeline.text import entities
from qa_pipeline.text.entities import DateMention, Duration, Money, Period
from qa_pipeline.text.lexicon import screened
from qa_pipeline.text.numbers import digitize_zh
from qa_pipeline.text.script_conversion import to_simplified, to_traditional

_NUM = r"\d+(?:\.\d+)?"
# A digit that starts a count or a new amount (1个月, 30天, 5块, 3块钱1年) is no jiao or fen.
_NOT_SMALL = r"(?![\d个月天分周块元年季星礼小次])"
# Amounts start where a number starts ((?<!\d)), so a long digit run is scanned once:
# 3块, 2块5 (2.5), 1块9毛9 (1.99), 5毛钱, 1毛5 (0.15), 7分钱.
_MONEY = re.compile(
    rf"(?<!\d)(?P<a>{_NUM})\s*(?:(?P<u>块钱|块|元)"
    rf"(?:(?P<b>\d)(?:[毛角](?:(?P<bf>\d)(?:分钱?|{_NOT_SMALL}))?|{_NOT_SMALL}))?"
    rf"|(?P<s>毛钱|分钱|毛|角)(?:(?<=[毛角])(?P<sf>\d)(?:分钱?|{_NOT_SMALL}))?)"
)
_AMOUNTS = screened(_MONEY)  # the same matches, most positions ruled out at once
# 一分钱都不收, 不扣您一分钱: "not a single cent" is no price of one fen.
# 不到10块, 能省30块, 10块左右: rounding or comparing, not the price.
_NOT_A_PRICE = re.compile(
    r"(?:不|没)(?:会|用|要|再|多|需要)*(?:收|扣|花|要|交|掏|付|出)[您你]?的?(?:任何)?1[分毛]钱?"
    r"|1[分毛]钱?(?=[都也]?(?:不|没))|"
    + entities.qualified(
        r"(?:不到|不超过|不足|差不多|大概|大约|至少|起码|能省|省下?|节省|超过|(?<!是)不是)(?:个|了|下来)?",
        _MONEY,
        r"左右|上下|出头",
    )
)
_DATE = re.compile(r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[号日]")
# A day said alone after 到/至 ("免费用到18号"): its month is implied.
_DAY = re.compile(r"(?:到|至|截止到?|截至)\s*(?P<d>\d{1,2})\s*[号日](?!\d)")
_DURATION = re.compile(
    r"(?<!\d)(?P<n>\d{1,4})\s*(?:(?P<day>天|日)|(?P<month>个月)|(?P<week>周|个星期|个礼拜|星期))"
)
# A length the clause states: 30天, 三个月 (as 3个月), 半年. A price's period ("3元一个月"), an
# ordinal day ("第31天") and a date (11月21日, 2026年) are not lengths.
_LENGTH = re.compile(
    r"(?<![第元块钱毛角月\d])(?P<n>\d{1,3}|半)\s*(?:(?P<day>天|日)|(?P<week>个?(?:周|星期|礼拜))"
    r"|(?P<month>个月|月(?![\d份]))|(?P<year>年))"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PERIOD_WORD = {"month": "月", "minute": "分钟", "quarter": "季度", "year": "年"}
_PROMPT_PERIOD = {"month": "每月", "day": "每天", "week": "每周", "year": "每年", "once": ""}


def _amount(m: re.Match[str]) -> float:
    value = float(m.group("a"))
    small = m.group("s")
    if small == "分钱":
        return value / 100
    if small:
        return value / 10 + _digit(m, "sf") / 100
    return value + _digit(m, "b") / 10 + _digit(m, "bf") / 100


def _digit(m: re.Match[str], group: str) -> int:
    return int(m.group(group) or 0)


@register("zh")
class Mandarin(Language):
    # v2: 三千五 is 3500, percentages, jiao and fen, 一分钱都不收 no price; v3: quarters and years
    # are periods (一个季度才10块钱 is no monthly price)
    version = 3
    joiner = ""
    spaced = False
    rate_unit = "chars/min"
    units_per_word = 1.8
    sentence_end = re.compile(r"[^。！？!?；;]*(?:[。！？!?；;]+|$)")
    periods: ClassVar[dict[Period, re.Pattern[str]]] = {
        "month": re.compile(r"每个?月|1个?月|月租|包月|/月|按月|月费|一个月"),
        "minute": re.compile(r"每分钟|1分钟|/分钟|每分"),
        "day": re.compile(r"每天|1天|/天|一天|每日|天天"),
        "quarter": re.compile(r"每个?季度?|(?<![0-9])[1一]个?季度|按季度?|/季度?|季费"),
        "year": re.compile(r"每年|(?<![0-9])1年(?![级前后底初])|/年|按年|年费|包年"),
    }
    cancel_wording = CancelWording(
        "发送{code}到{number}", "在{name}里操作", "拨打{number}", "或", "取消请{methods}。"
    )

    def make_noise(self) -> AsrNoise:
        return MandarinNoise(self)

    def sentence_spans(self, text: str) -> list[tuple[int, int]]:
        # ASR puts stray full stops inside words ("弄。吧。"); a one-character fragment joins its
        # neighbour (a lone 嗯。 or 好。 reads the same either way), with what lies between them.
        merged: list[tuple[int, int, int]] = []  # begin, end, Chinese characters
        for begin, end in super().sentence_spans(text):
            chars = len(_CJK.findall(text, begin, end))
            if merged and min(merged[-1][2], chars) <= 1:
                merged[-1] = (merged[-1][0], end, merged[-1][2] + chars)
            else:
                merged.append((begin, end, chars))
        return [(begin, end) for begin, end, _ in merged]

    def canonical_script(self, text: str) -> str:
        return to_simplified(text)

    def digitize(self, text: str) -> str:
        return digitize_zh(text)

    def speech_units(self, text: str) -> int:
        return len(_CJK.findall(text))

    def find_money(self, text: str, reach: int) -> list[Money]:
        return entities.find_money(text, _AMOUNTS, _amount, self.periods, reach, _NOT_A_PRICE)

    def find_dates(self, text: str) -> list[DateMention]:
        dated = [
            DateMention(int(m["m"]), int(m["d"]), m.start(), m.end(), m[0])
            for m in _DATE.finditer(text)
        ]
        days = [
            DateMention(0, int(m["d"]), m.start(), m.end(), m[0])
            for m in _DAY.finditer(text)
            if 1 <= int(m["d"]) <= 31
        ]
        return sorted(dated + days, key=lambda d: d.start)

    def find_durations(self, text: str) -> list[Duration]:
        return entities.find_durations(text, _DURATION, self.find_dates(text))

    def stated_lengths(self, clause: str) -> list[float]:
        return entities.stated_lengths(clause, _LENGTH, {"半": 0.5})

    def money_text(self, amount: float, period: str) -> str:
        return f"{amount:g}元/{_PERIOD_WORD.get(period, period)}"

    def price_phrase(self, amount: float, period: str) -> str:
        return f"{_PROMPT_PERIOD.get(period, '')}{amount:g}元"

    def trial_phrase(self, days: int) -> str:
        return f"免费体验{days}天。"


# Homophone (or near) errors Whisper makes in Mandarin key words.
HOMOPHONES = {
    "体验期": "体验七", "退订": "退定", "电信": "典信", "机主": "鸡主", "开通": "开同",
    "工号": "公号", "试用": "是用", "免费": "免废", "短信": "断信", "彩铃": "菜铃",
    "取消": "取销", "长途": "常途", "包月": "保月", "收费": "收废", "方便": "方变",
}  # fmt: skip
FILLERS = ["嗯", "呃", "那个", "就是"]
_DIGITS = "零一二三四五六七八九"


def number_words(value: int) -> str:
    """A number as Chinese numerals: 15 -> 十五, 108 -> 一百零八; longer ones digit by digit."""
    if value < 10:
        return _DIGITS[value]
    if value < 20:
        return "十" + (_DIGITS[value % 10] if value % 10 else "")
    if value < 100:
        return _DIGITS[value // 10] + "十" + (_DIGITS[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        tail = "" if rest == 0 else ("零" + number_words(rest) if rest < 10 else number_words(rest))
        return _DIGITS[value // 100] + "百" + tail.replace("零十", "零一十")
    return "".join(_DIGITS[int(d)] for d in str(value))


class MandarinNoise(AsrNoise):
    hallucinations = (
        "字幕由Amara.org社群提供", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "谢谢观看",
    )  # fmt: skip

    def spell_numbers(self, text: str, rng: random.Random) -> str:
        def repl(m: re.Match[str]) -> str:
            digits = m.group(0)
            if "." in digits:
                whole, frac = digits.split(".")
                return number_words(int(whole)) + "点" + "".join(_DIGITS[int(d)] for d in frac)
            if len(digits) >= 3:  # codes and phone numbers are read digit by digit
                return "".join(_DIGITS[int(d)] for d in digits).replace("一", rng.choice("一幺"))
            word = number_words(int(digits))
            return word.replace("三", "叁") if rng.random() < 0.15 else word

        return re.sub(r"\d+(?:\.\d+)?", repl, text)

    def mishear(self, text: str, rng: random.Random, chance: float) -> str:
        if rng.random() < chance:
            for word, wrong in HOMOPHONES.items():
                if word in text and rng.random() < 0.6:
                    text = text.replace(word, wrong, 1)
        return text

    def filler(self, text: str, rng: random.Random) -> str:
        filler = rng.choice(FILLERS)
        return filler + text if rng.random() < 0.5 else re.sub("，", "，" + filler, text, count=1)

    def variant_script(self, text: str) -> str | None:
        return to_traditional(text)
