"""ASR-shaped input: cleanup, fillers, key-term matching, role assignment and turn repair,
in Mandarin and English."""

from __future__ import annotations

import dataclasses

import pytest

from qa_pipeline.checks.disclosures import _heard_hotline, cancel_method_disclosed
from qa_pipeline.checks.holder import identity_confirmed
from qa_pipeline.errors import RoleAssignmentError
from qa_pipeline.ingest.model import Call, Segment
from qa_pipeline.judging.judge import Judge
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.ruleset.schema import CancelMethod
from qa_pipeline.transcript.cleanup import Cleaner
from qa_pipeline.transcript.roles import assign_roles
from tests.conftest import find_dates, find_money, make_call

ZH_SALE = [
    ["agent", "您好，我是中国电信客服，工号1023。请问您是这个号码的机主吗？"],
    ["customer", "是我，什么事？"],
    ["agent", "给您介绍一个天气预报业务，耽误您一分钟，您现在方便听吗？"],
    ["customer", "行，你说吧。"],
    ["agent", "12121天气预报每天早上7点发天气短信。每月3元，前30天免费，到12月2号结束。退订发TD12121到10001。需要给您开通吗？"],
    ["customer", "好的，给我开通吧。"],
    ["agent", "好的，已经给您开通了，感谢您的接听，再见。"],
    ["customer", "再见。"],
]  # fmt: skip
EN_SALE = [
    ["agent", "Hi, this is Sam with Northwind Mobile, employee number 5001. Is this the account holder?"],
    ["customer", "Yes, it's me."],
    ["agent", "Do you have a minute for a weather alert service?"],
    ["customer", "Sure, go ahead."],
    ["agent", "StormWatch sends a forecast text every morning. It's $2.99 a month, free for 30 days, ending December 2nd. Text STOP to 12121 to cancel. Would you like me to add it?"],
    ["customer", "Yes, please sign me up."],
    ["agent", "Great, you're all set. Thanks for your time, bye."],
    ["customer", "Bye."],
]  # fmt: skip


def _call(turns: list[list[str]], language: str, **changes: object) -> Call:
    campaign = "weather-12121" if language == "zh" else "stormwatch"
    return dataclasses.replace(make_call(turns, campaign=campaign, language=language), **changes)  # type: ignore[arg-type]


def _relabel(call: Call, agent: str, customer: str) -> Call:
    names = {"agent": agent, "customer": customer}
    segments = tuple(dataclasses.replace(s, speaker=names[s.speaker]) for s in call.segments)
    return dataclasses.replace(call, segments=segments)


def _labels(engine: Judge, call: Call) -> dict[str, object]:
    v = engine.judge(call)
    return {
        "outcome": v.outcome.value,
        "valid": v.valid_sale,
        **{name: c.passed for name, c in v.criteria.items()},
    }


# --- cleanup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [("字幕由Amara.org社群提供", "zh"), ("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", "zh"),
     ("Thanks for watching!", "en"), ("Subtitles by the Amara.org community", "en")],
)  # fmt: skip
def test_hallucinations_dropped_and_recorded(ruleset: Ruleset, text: str, language: str) -> None:
    turns = [*(ZH_SALE if language == "zh" else EN_SALE), ["customer", text]]
    cleaned, report = Cleaner(ruleset.cleanup).clean(_call(turns, language))
    assert all(s.text != text for s in cleaned.segments)
    assert [c.text for c in report.dropped] == [text]
    assert "silence" in report.dropped[0].reason


def test_loops_collapsed_but_speech_repetition_kept(ruleset: Ruleset) -> None:
    cleaner = Cleaner(ruleset.cleanup)
    looped = _call(
        [["agent", "好的好的好的好的好的好的好的，给您开通了。"], ["customer", "行行行，开吧。"]],
        "zh",
    )
    cleaned, report = cleaner.clean(looped)
    assert cleaned.segments[0].text == "好的，给您开通了。"
    assert cleaned.segments[1].text == "行行行，开吧。"  # three times is how people talk
    assert len(report.collapsed) == 1
    english = _call([["agent", "thank you thank you thank you thank you thank you"]], "en")
    assert cleaner.clean(english)[0].segments[0].text.strip() == "thank you"
    tight = _call([["agent", "好的好的好的好的"], ["customer", "嗯嗯嗯嗯嗯嗯嗯"]], "zh")
    assert [s.text for s in cleaner.clean(tight)[0].segments] == ["好的", "嗯"]


def test_loops_of_any_unit_length_collapsed(ruleset: Ruleset) -> None:
    """Units longer than 16 characters, with punctuation inside, as Whisper loops on a copied
    prompt sentence; numbers are never read as loops of digits."""
    cleaner = Cleaner(ruleset.cleanup)
    zh = _call([["agent", "好的。" + "取消请拨打10000。" * 30 + "还有别的问题吗？"]], "zh")
    assert cleaner.clean(zh)[0].segments[0].text == "好的。取消请拨打10000。还有别的问题吗？"
    unit = "To cancel, text STOP to 12121 or call 611 any time. "
    en = _call([["agent", "Sure. " + unit * 12 + "Anything else?"]], "en")
    assert cleaner.clean(en)[0].segments[0].text == "Sure. " + unit + "Anything else?"
    kept = ["您的号码是13300000000，对吗？", "It costs one million, 1000000 dollars."]
    calls = [_call([["agent", kept[0]]], "zh"), _call([["agent", kept[1]]], "en")]
    assert [cleaner.clean(c)[0].segments[0].text for c in calls] == kept
    long = _call([["agent", "".join(f"第{n}条，" for n in range(400))]], "zh")
    assert cleaner.clean(long)[0].segments == long.segments  # long speech, no loop: unchanged


def test_duplicate_segment_dropped(ruleset: Ruleset) -> None:
    call = _call(
        [["agent", "请问您是机主吗？"], ["agent", "请问您是机主吗？"], ["customer", "是。"]], "zh"
    )
    cleaned, report = Cleaner(ruleset.cleanup).clean(call)
    assert len(cleaned.segments) == 2 and "repeats" in report.dropped[0].reason


def test_traditional_converted(ruleset: Ruleset, engine: Judge) -> None:
    from qa_pipeline.text.script_conversion import to_traditional

    traditional = [[who, to_traditional(text)] for who, text in ZH_SALE]
    call = _call(traditional, "zh")
    _, report = Cleaner(ruleset.cleanup).clean(call)
    assert report.traditional_converted > 0
    assert _labels(engine, call) == _labels(engine, _call(ZH_SALE, "zh"))


# --- normalization and matching ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("请问您是鸡主吗", "请问您是机主吗"), ("退定发短信", "退订发短信"), ("体验七到12月2号", "体验期到12月2号"),
     ("中国典信公号1023", "中国电信工号1023"), ("我记住了", "我记住了"), ("呃那个，是我", "是我")],
)  # fmt: skip
def test_zh_view_repairs_asr_errors(ruleset: Ruleset, raw: str, expected: str) -> None:
    assert ruleset.languages["zh"].view(raw).replace(",", "") == expected.replace("，", "")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("这是额妈的手机", "这是我妈的手机"), ("是额的，额孙子给买的", "是我的我孙子给买的"),
     ("额，是这样的", "是这样的"), ("额解不下", "不懂"), ("她女子", "她女儿"),
     ("额 那个 你说", "你说"), ("机主 是额 你说", "机主是我你说")],
)  # fmt: skip
def test_zh_view_reads_northwestern_and_homophones(
    ruleset: Ruleset, raw: str, expected: str
) -> None:
    """Northwestern 额 (我) before kin or 的 is read; a hesitation 额 is dropped."""
    assert ruleset.languages["zh"].view(raw).replace(",", "") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("am i speaking with the account um holder", "am i speaking with the account holder"),
     ("it's called storm watch", "it's called stormwatch"), ("north wind mobile", "northwind mobile"),
     ("uh-huh", "uh-huh"), ("text stop to one two one two one", "text stop to 12121"),
     # The verb "ring back" stays (a keep expression); the product is restored.
     ("we'll ring back later okay", "we'll ring back later okay"),
     ("can you ring back tomorrow", "can you ring back tomorrow"),
     ("do you want ring back plus", "do you want ringback plus"),
     ("i can add you to ring back plus today", "i can add you to ringback plus today"),
     ("hi ring back plus is great", "hi ringback plus is great"),
     # Dropped g's and long letters read whole.
     ("Speakin'. What you sellin'?", "speaking. what you selling?"),
     ("i was bein' sarcastic", "i was being sarcastic"), ("rock an' roll", "rock an' roll"),
     ("yeahhh", "yeah")],
)  # fmt: skip
def test_en_view_repairs_asr_errors(ruleset: Ruleset, raw: str, expected: str) -> None:
    assert ruleset.languages["en"].view(raw) == expected


@pytest.mark.parametrize(
    ("raw", "heard"),
    [("may i speak with the account folder?", "may i speak with the account holder?"),
     ("great, all none.", "great, all done."), ("is this the account older", "is this the account holder"),
     ("i'm at the account total", "i'm at the account total"), ("it's all dome", "it's all done"),
     ("i'm the account holder's wife", "i'm the account holder's wife"),
     ("it's all gone to the dogs", "it's all done to the dogs")],
)  # fmt: skip
def test_en_heard_view_restores_check_phrases(ruleset: Ruleset, raw: str, heard: str) -> None:
    """Only a recognizer's words: "all gone" is a real phrase, which a person's transcript
    keeps."""
    pack = ruleset.languages["en"]
    assert pack.reading("base").view(raw) == heard
    assert pack.view(raw) == pack.reading(None).view(raw) == raw


def test_heard_call_read_tolerantly(engine: Judge) -> None:
    """The same words: misheard check phrases count only in a transcript a recognizer made."""
    turns = [list(t) for t in EN_SALE]
    turns[0][1] = (
        "Hi, this is Sam with Northwind Mobile, employee number 5001. Is this the account folder?"
    )
    turns[6][1] = "Great. All none. Thanks for your time, bye."
    written = _call(turns, "en")
    heard = dataclasses.replace(written, heard_by="base")
    assert _labels(engine, heard) == _labels(engine, _call(EN_SALE, "en"))
    assert _labels(engine, written)["outcome"] == "declined"
    assert _labels(engine, written)["account_holder_verified"] is False


@pytest.mark.parametrize(
    ("raw", "heard"),
    [("None, you're all ahead.", "done, you're all set."), ("None.", "done."),
     ("Great. You're all fed.", "great. you're all set."),
     ("In our okay time for a quick offer?", "is now an okay time for a quick offer?"),
     ("RingBack Plus in now on the line.", "ringback plus is now on the line."),
     ("The free trial ends every 11.", "the free trial ends february 11."),
     ("It is the primary account code.", "is this the account holder."),
     ("Employee number 693 in the account code for this line.",
      "employee number 693 is this the account holder for this line."),
     ("Are you the account donor on this line?", "is this the account holder on this line?"),
     ("Create your oil pack, you can call 611.", "create you're all set, you can call 611."),
     ("Wonderful, you get a welcome text shortly.",
      "wonderful, you'll get a welcome text shortly."),
     ("I activate now you get a welcome text.", "i activate now you'll get a welcome text."),
     ("You can help me out, and not a minute.", "you can help me out, and got a minute."),
     ("Pray to you, have a couple minutes, so I can tell you?",
      "pray to you have a couple minutes, so i can tell you?")],
)  # fmt: skip
def test_en_heard_rewrites(ruleset: Ruleset, raw: str, heard: str) -> None:
    """Words Whisper writes for an agent's (heard_rewrites): read as said in a recognizer's
    transcript only; a person's transcript is read as written."""
    pack = ruleset.languages["en"]
    assert pack.reading("base").view(raw) == heard
    assert pack.view(raw) != heard


@pytest.mark.parametrize(
    "raw",
    ["None of them, thanks.", "It texts you every 7 a.m.", "Every 2 weeks.",
     "Is this the account number?", "I put it on the account today", "You're all ahead of me.",
     "Once it's on you get a welcome text.", "If you sign up you get a welcome text.",
     "Not a minute more.", "Your old pet shop?", "Thank you, have a nice day."],
)  # fmt: skip
def test_en_heard_rewrites_keep_what_the_words_say(ruleset: Ruleset, raw: str) -> None:
    pack = ruleset.languages["en"]
    assert pack.reading("base").view(raw) == pack.view(raw)


def test_heard_call_with_whispers_words_judged_as_said(engine: Judge) -> None:
    """A sale heard with the opening's question, "six" of the hotline and "done" misheard
    agrees with the same sale written by people; written so, it does not."""
    turns = [list(t) for t in EN_SALE]
    turns[0][1] = (
        "Hi, this is Sam with Northwind Mobile, employee number 5001. It is the account code."
    )
    turns[4][1] = (
        "StormWatch sends a forecast text every morning. It's $2.99 a month, free for 30 days, "
        "ending December 2nd. To cancel, call big one one. Would you like me to add it?"
    )
    turns[6][1] = "None, you're all ahead. Thanks for your time, bye."
    written = _call(turns, "en")
    heard = dataclasses.replace(written, heard_by="base")
    assert _labels(engine, heard) == _labels(engine, _call(EN_SALE, "en"))
    people = _labels(engine, written)
    assert people["outcome"] == "declined" and people["account_holder_verified"] is False
    assert engine.judge(written).criteria["disclosures"].items["cancel_method"].passed is False


@pytest.mark.parametrize(
    ("opening", "asked"),
    [("Hi, this is Sam with Northwind Mobile, employee number 5001. Simply account total.", True),
     ("Hey, Northwind Mobile, this is Brad, ID 4573. You may account for...", True),
     # a sentence about an account, or one with no account, asks nothing
     ("Hi, this is Sam with Northwind Mobile, employee number 5001. I see your account has a "
      "balance from last month.", False),
     ("Hi, this is Sam with Northwind Mobile, employee number 5001. Simply a total.", False)],
)  # fmt: skip
def test_heard_opening_ending_in_the_account_asks_for_the_holder(
    engine: Judge, opening: str, asked: bool
) -> None:
    """The opening's last sentence, short and naming the account, is the account-holder
    question whose other words the recognizer lost, in a recognizer's transcript only."""
    turns = [list(t) for t in EN_SALE]
    turns[0][1] = opening
    written = _call(turns, "en")
    heard = dataclasses.replace(written, heard_by="base")
    identity = engine.judge(heard).criteria["account_holder_verified"].items["identity"]
    assert identity.passed is asked
    written_identity = engine.judge(written).criteria["account_holder_verified"].items["identity"]
    assert written_identity.passed is False
    # v1 keeps its meaning: the heard opening is read only by identity_confirmed.v2.
    assert identity_confirmed(engine.context(heard), None).passed is False


@pytest.mark.parametrize(
    ("said", "passed"),
    [("To cancel, call fix 1, 1.", True), ("To cancel, just call this one one.", True),
     ("To cancel, call big 1 1 2.", False), ("To cancel, call 11.", False),
     ("Call big one one for the weather.", False)],
)  # fmt: skip
def test_heard_hotline_missing_its_first_digit(engine: Judge, said: str, passed: bool) -> None:
    """ "call" and one word for the lost first digit, then the rest of the hotline (611) and no
    more digits, said about cancelling."""
    turns = [list(t) for t in EN_SALE]
    turns[4][1] = f"StormWatch sends a forecast text every morning. {said} Would you like it?"
    heard = dataclasses.replace(_call(turns, "en"), heard_by="base")
    assert engine.judge(heard).criteria["disclosures"].items["cancel_method"].passed is passed
    # v1 keeps its meaning: a heard hotline without its first digit is no hotline there.
    assert cancel_method_disclosed(engine.context(heard), None).passed is False


@pytest.mark.parametrize(
    ("number", "said", "found"),
    [("(800) 555-0199", "to cancel call big 0 0 5 5 5 0 1 9 9", True),
     ("+1 611", "to cancel call big 6 1 1", True), ("6-1", "to cancel call big 1", False)],
)  # fmt: skip
def test_heard_hotline_reads_only_the_numbers_digits(number: str, said: str, found: bool) -> None:
    """A hotline written with brackets, a plus or dashes makes a pattern of its digits (it made
    a broken regular expression from the text itself)."""
    pattern = _heard_hotline(CancelMethod(kind="hotline", number=number))
    assert (pattern is not None and pattern.search(said) is not None) is found


@pytest.mark.parametrize(
    ("raw", "language", "amount"),
    [("每个月叁元", "zh", 3.0), ("月租三块", "zh", 3.0), ("two dollars and ninety nine cents a month", "en", 2.99),
     ("one dollars and ninety-nine cents per month", "en", 1.99), ("nine ninety-nine monthly", "en", 9.99)],
)  # fmt: skip
def test_asr_money(ruleset: Ruleset, raw: str, language: str, amount: float) -> None:
    (money,) = find_money(ruleset.languages[language].view(raw), language)
    assert money.amount == amount and money.period == "month"


def test_asr_dates(ruleset: Ruleset) -> None:
    (en,) = find_dates(ruleset.languages["en"].view("the trial ends on february second"), "en")
    (zh,) = find_dates(ruleset.languages["zh"].view("到十二月二号结束"), "zh")
    assert (en.month, en.day, zh.month, zh.day) == (2, 2, 12, 2)


def test_amount_far_from_a_period_is_no_price(ruleset: Ruleset) -> None:
    view = ruleset.languages["zh"].view(
        "每天早上七点给您发天气短信这个现在是免费的也不会扣您一分钱"
    )
    assert all(m.period is None for m in find_money(view, "zh"))


# --- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("agent_label", ["SPEAKER_00", "SPEAKER_01"])
def test_roles_from_content(
    ruleset: Ruleset, engine: Judge, language: str, agent_label: str
) -> None:
    clean = _call(ZH_SALE if language == "zh" else EN_SALE, language)
    other = "SPEAKER_01" if agent_label == "SPEAKER_00" else "SPEAKER_00"
    anonymous = _relabel(clean, agent_label, other)
    _, roles = assign_roles(anonymous, ruleset.languages[language], ruleset.roles)
    assert roles.source == "content" and roles.mapping == {agent_label: "agent", other: "customer"}
    assert roles.confidence >= 0.9 and not roles.low_confidence
    assert _labels(engine, anonymous) == _labels(engine, clean)


def test_roles_from_labels(ruleset: Ruleset) -> None:
    _, roles = assign_roles(_call(ZH_SALE, "zh"), ruleset.languages["zh"], ruleset.roles)
    assert (roles.source, roles.confidence) == ("labels", 1.0)


def test_low_confidence_is_flagged(ruleset: Ruleset) -> None:
    call = _call([["A", "喂？"], ["B", "喂，你好。"], ["A", "嗯。"]], "zh")
    _, roles = assign_roles(call, ruleset.languages["zh"], ruleset.roles)
    assert roles.low_confidence


def test_low_confidence_becomes_a_review_flag(engine: Judge) -> None:
    call = _call([["A", "喂？"], ["B", "喂，你好。"], ["A", "嗯。"]], "zh")
    assert engine.judge(call).review_flags == ("low_role_confidence",)


def test_one_speaker_cannot_be_assigned(ruleset: Ruleset) -> None:
    call = _call([["SPEAKER_00", "您好。"], ["SPEAKER_00", "请问是机主吗？"]], "zh")
    with pytest.raises(RoleAssignmentError):
        assign_roles(call, ruleset.languages["zh"], ruleset.roles)


# --- turn repair -------------------------------------------------------------------------------


def _cut_points(text: str, language: str) -> list[int]:
    """Where ASR may end a segment: any character in Mandarin, a word boundary in English."""
    if language == "zh":
        return list(range(3, len(text) - 2, 4))
    return [i for i, c in enumerate(text) if c == " "][1::2]


def _split_segment(call: Call, index: int, at: int) -> Call:
    segments = list(call.segments)
    seg = segments[index]
    middle = round((seg.start + seg.end) / 2, 2)
    first = Segment(seg.start, middle, seg.speaker, seg.text[:at])
    second = Segment(middle, seg.end, seg.speaker, seg.text[at:])
    segments[index : index + 1] = [first, second]
    return dataclasses.replace(call, segments=tuple(segments))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_verdict_independent_of_segment_boundaries(engine: Judge, language: str) -> None:
    clean = _call(ZH_SALE if language == "zh" else EN_SALE, language)
    expected = _labels(engine, clean)
    for index, segment in enumerate(clean.segments):
        for at in _cut_points(segment.text, language):
            assert _labels(engine, _split_segment(clean, index, at)) == expected, (index, at)


def test_merged_segments_of_one_speaker(engine: Judge) -> None:
    clean = _call(ZH_SALE, "zh")
    segments = list(clean.segments)
    first, second = segments[0], segments[1]
    agent_twice = [
        Segment(first.start, first.end, "agent", first.text[:16]),
        Segment(first.start, first.end, "agent", first.text[16:]),
    ]
    merged = dataclasses.replace(clean, segments=(*agent_twice, second, *segments[2:]))
    assert _labels(engine, merged) == _labels(engine, clean)


def test_silent_end_of_audio_outranks_garbled_last_words(engine: Judge) -> None:
    """ "You too, bye-bye" heard as "You do my my": the words look cut off, but the recording
    ends in silence, so nobody was cut off."""
    turns = [*EN_SALE[:-1], ["customer", "You do my my"]]
    garbled = _call(turns, "en")
    assert engine.judge(garbled).agent_hung_up_first.value is True  # the words alone
    silent = engine.judge(dataclasses.replace(garbled, talking_at_end=())).agent_hung_up_first
    assert silent.value is False and silent.source == "audio" and "silence" in silent.reason
    assert silent.why is not None and silent.why.text("zh").startswith("录音以静音结束")  # issue 14
    talking = dataclasses.replace(garbled, talking_at_end=("customer",))
    assert engine.judge(talking).agent_hung_up_first.value is True


def test_spelled_terms_screen_passes_every_prefix() -> None:
    """The scan for words starting like a term lets through a word with apostrophes among the
    prefix's letters, and rules out text with no such word (unchanged, as the word loop leaves
    it)."""
    from qa_pipeline.text.asr_terms import SpelledTerms, TermList

    terms = SpelledTerms()
    terms.add(TermList("edit_distance", ("stormwatch", "ok"), 0.8))
    assert terms.apply("add storm watch today") == "add stormwatch today"
    assert terms.apply("add st'orm watch") == "add stormwatch"
    assert terms.screen is not None and terms.screen.search("'st'orm") is not None
    assert terms.screen.search("o'k") is not None  # a term shorter than the prefix
    text = "a restoring bill"  # "sto" only inside a word, no other prefix
    assert terms.screen.search(text) is None and terms.apply(text) == text


@pytest.mark.parametrize(
    ("word", "digit"),
    [("fix", "6"), ("sex", "6"), ("free", "3"), ("tree", "3"), ("nero", "0"), ("hive", "5"),
     ("six", None), ("big", None), ("to", None), ("fixed", None), ("won", None)],
)  # fmt: skip
def test_en_heard_digit_by_sound(ruleset: Ruleset, word: str, digit: str | None) -> None:
    """A digit's name one sound off ("fix"), or its sounds spelled otherwise ("free": th said
    f), is the digit a recognizer half heard; the name itself and words further off are not."""
    assert ruleset.languages["en"].lang.heard_digit(word) == digit


@pytest.mark.parametrize(
    ("raw", "heard"),
    [("and to 9-9 a month", "and 2 99 a month"), ("text stop to 1-2-1-2-1", "text stop to 12121"),
     ("open 24-7", "open 24-7"), ("ext 1-08", "ext 1-08")],
)  # fmt: skip
def test_en_heard_hyphened_digits_joined(ruleset: Ruleset, raw: str, heard: str) -> None:
    """Single digits a recognizer joined with hyphens are one number in a heard transcript
    only; numbers of several digits keep their hyphen."""
    pack = ruleset.languages["en"]
    assert pack.reading("base").view(raw) == heard
    assert pack.view(raw) == raw


@pytest.mark.parametrize(("gap", "sentences"), [(0.2, 1), (1.1, 2)])
def test_a_pause_ends_a_sentence_between_segments(
    ruleset: Ruleset, gap: float, sentences: int
) -> None:
    """One speaker's segment without a closing mark runs on into the next (an ASR cut), unless
    a pause of a second or more lies between them: then the next is a new sentence (a handover's
    new speaker: "…我叫我儿子来听" | "喂你好你是电信的是吧…")."""
    from qa_pipeline.checks.context import build_turns

    said = Segment(5.8, 10.4, "customer", "啊啥个电信啊我听勿大清爽侬等等我叫我儿子来听")
    then = Segment(10.4 + gap, 19.0, "customer", "喂你好你是电信的是吧这个号码是我妈的都是我管的")
    call = make_call([["agent", "请问是机主吗"]], campaign="weather-12121", language="zh")
    call = dataclasses.replace(call, segments=(*call.segments, said, then))
    turns = build_turns(call, ruleset.languages["zh"])
    assert len(turns[-1].sentences) == sentences
