"""Lexicon matching: negation scope and word edges."""

from __future__ import annotations

from qa_pipeline.ruleset import Ruleset


def _found(ruleset: Ruleset, language: str, lexicon: str, text: str) -> bool:
    from qa_pipeline.languages import get
    from qa_pipeline.text.normalize import surface

    return bool(ruleset.languages[language].lexicons[lexicon].find(get(language).digitize(surface(text))))


def test_negation_cancels_zh(ruleset: Ruleset) -> None:
    assert _found(ruleset, "zh", "affirm", "方便，你说吧")
    assert not _found(ruleset, "zh", "affirm", "不太方便")
    assert not _found(ruleset, "zh", "drunk", "我没喝多")
    assert _found(ruleset, "zh", "drunk", "我喝多了")


def test_negation_does_not_cross_clauses(ruleset: Ruleset) -> None:
    assert _found(ruleset, "zh", "consent_strong", "不贵，给我开吧")
    assert _found(ruleset, "en", "affirm", "no problem, go ahead")


def test_negation_en(ruleset: Ruleset) -> None:
    assert _found(ruleset, "en", "consent_strong", "yes, sign me up")
    assert not _found(ruleset, "en", "consent_strong", "please don't sign me up")


def test_word_edges_en(ruleset: Ruleset) -> None:
    assert not _found(ruleset, "en", "affirm", "yesterday")  # 'yes' only as a word
    assert _found(ruleset, "en", "question", "hello?")  # a pattern that is punctuation


def test_first_chars_screen_is_a_superset() -> None:
    """The look-ahead that screens an alternation must allow every character a match can start
    with, or it would hide matches; where that cannot be told there is no screen."""
    from qa_pipeline.text.lexicon import compile_patterns, first_chars

    assert first_chars("(?:那)?[您你]?还问我") == {"那", "您", "你", "还"}
    assert first_chars(r"(?<!\d)(?:零|0)费") == {"零", "0"}
    assert first_chars(r"(?:i )?don't|\$0") == {"i", "d", "$"}
    assert first_chars("a*") is None  # may match empty
    assert first_chars(r"\w+x") is None and first_chars("[^a]b") is None
    pattern = compile_patterns(["(?:i )?don't", r"[\]^-]x", "傻"], word_boundaries=True)
    assert pattern.pattern.count("(?=[") == 1
    for text in ("i don't", "]x", "^x", "-x", "真傻"):
        assert pattern.search(text), text
    assert compile_patterns(["a*", "b"], word_boundaries=False).pattern == "(?:a*)|(?:b)"
