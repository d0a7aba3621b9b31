"""Lexicon matching: negation scope and word edges."""

from __future__ import annotations

from qa_pipeline.ruleset import Ruleset


def _found(ruleset: Ruleset, language: str, lexicon: str, text: str) -> bool:
    from qa_pipeline.text.normalize import normalized

    return bool(ruleset.languages[language].lexicons[lexicon].find(normalized(text, language)))


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
