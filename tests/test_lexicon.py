"""Lexicon matching: negation scope and word edges."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace

import pytest

from qa_pipeline.checks.context import Turn
from qa_pipeline.ingest.batch import transcript_files
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.text import lexicon
from tests.conftest import ROOT


def _found(ruleset: Ruleset, language: str, lexicon: str, text: str) -> bool:
    from qa_pipeline.languages import get
    from qa_pipeline.text.normalize import surface

    return bool(
        ruleset.languages[language].lexicons[lexicon].find(get(language).digitize(surface(text)))
    )


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


def _lexicon_without_parser(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the lexicon module, imported where `re._parser` cannot be imported."""
    monkeypatch.setitem(sys.modules, "re._parser", None)  # None in sys.modules: ImportError
    spec = importlib.util.spec_from_file_location("lexicon_without_parser", lexicon.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def _boom(pattern: str) -> None:
    raise TypeError("the private parser changed")


@pytest.mark.parametrize("failure", ["import", "parse"])
def test_without_the_private_parser_the_same_matches(
    ruleset: Ruleset, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """The screen reads patterns with CPython's private `re._parser`. If that cannot be
    imported, or parsing raises, patterns compile without the screen and match the same."""
    forbidden = {
        language: ([p for rule in pack.forbidden for p in rule.spec.patterns], pack)
        for language, pack in ruleset.languages.items()
    }
    screened = {
        language: lexicon.compile_patterns(patterns, pack.word_boundaries)
        for language, (patterns, pack) in forbidden.items()
    }
    if failure == "import":
        fallback = _lexicon_without_parser(monkeypatch)
    else:
        monkeypatch.setattr(lexicon, "_parser", SimpleNamespace(parse=_boom))
        monkeypatch.setattr(lexicon, "_compile", lexicon._compile.__wrapped__)  # no stale cache
        fallback = lexicon
    calls = [load_call(path) for path in transcript_files(ROOT / "samples" / "calls")]
    found = 0
    for language, (patterns, pack) in forbidden.items():
        plain = fallback.compile_patterns(patterns, pack.word_boundaries)
        assert "(?=[" in screened[language].pattern and "(?=[" not in plain.pattern
        for call in (c for c in calls if c.language == language):
            for text in (pack.view(s.text) for s in call.segments):
                spans = [m.span() for m in screened[language].finditer(text)]
                assert spans == [m.span() for m in plain.finditer(text)], text
                found += len(spans)
    assert found  # the samples say forbidden phrases: the comparison saw matches


def test_required_literals() -> None:
    """What every match must contain: runs of few strings joined, an alternation's choices
    united; nothing where some match needs no literal (or case is ignored)."""
    import re

    from qa_pipeline.text.lexicon import required_literals

    found = required_literals(re.compile("(?:it's|it is) (?:already |now )?(?:on|live)"))
    assert found == {
        f"{a} {b}{c}" for a in ("it's", "it is") for b in ("", "already ", "now ") for c in ("on", "live")
    }  # fmt: skip
    assert required_literals(re.compile(r"^(?:yes,? )?it(?:'s| is)\b")) == {
        f"{a}it{b}" for a in ("", "yes ", "yes, ") for b in ("'s", " is")
    }  # fmt: skip
    assert required_literals(re.compile(r"\w+x")) == {"x"}
    assert required_literals(re.compile(r"工号\s*\d+|编号\d+")) == {"工号", "编号"}
    assert required_literals(re.compile(r"([\u4e00-\u9fff])不\1")) == {"不"}
    assert required_literals(re.compile("a*")) is None
    assert required_literals(re.compile(r"a|\d")) is None  # one alternative needs no literal
    assert required_literals(re.compile("(?i)abc")) is None
    assert required_literals(re.compile("x(?i:abc)")) == {"x"}


def test_required_literals_at_word_starts() -> None:
    """Between `compile_patterns`' word edges, a required string that starts a word in every
    match is marked, so the screen looks for it at word starts only: one at the pattern's start,
    one after a string or repeat that ends in a space, the rest of one that starts with a space;
    not one that may follow a digit."""
    from qa_pipeline.text.lexicon import WORD_START as W
    from qa_pipeline.text.lexicon import compile_patterns, required_literals

    patterns = ["(?:i've|we have) (?:just )?added it", r"\d+(?:st|nd) grade",
                "(?:it's|that's) (?:[a-z]+ ){0,2}?switched on", r"(?:\d+|a few) pints? deep"]  # fmt: skip
    found = required_literals(compile_patterns(patterns, True))
    assert found == {
        *(W + f"{a} {b}added it" for a in ("i've", "we have") for b in ("", "just ")),
        "st grade", "nd grade", W + "switched on", W + "pint deep", W + "pints deep",
    }  # fmt: skip
    assert required_literals(compile_patterns(patterns, False)) == {
        *(f"{a} {b}added it" for a in ("i've", "we have") for b in ("", "just ")),
        "st grade", "nd grade", "switched on", " pint deep", " pints deep",
    }  # fmt: skip


def test_the_screen_finds_word_start_literals_at_word_starts_only() -> None:
    from qa_pipeline.text.lexicon import Lexicon, LexiconScreen, compile_patterns

    screen = LexiconScreen(
        {name: Lexicon(name, compile_patterns([p], True), None)
         for name, p in {"she": "she said", "grade": r"\d+(?:st|nd) grade"}.items()}
    )  # fmt: skip
    assert screen.candidates("she said so") == {"she"}  # the text's start is a word start
    assert screen.candidates("so, she said") == {"she"}
    assert screen.candidates("ashe said") == frozenset()
    assert screen.candidates("the 2nd grade") == {"grade"}


def test_literal_scan_reports_overlapping_literals() -> None:
    from qa_pipeline.text.lexicon import _literal_scan

    scan = _literal_scan({"不是", "是我", "我", "不", "the", "th", "]", "-x"})
    assert scan.findall("不是我") == ["不是", "是我", "我"]
    assert scan.findall("then ]-x") == ["the", "]", "-x"]


def _sample_turns(ruleset: Ruleset) -> Iterator[tuple[str, Turn]]:
    """Every turn of the sample and held-out calls, with its call's language."""
    from qa_pipeline.checks.context import build_turns

    for folder in ("samples/calls", "tests/data/heldout", "tests/data/heldout2"):
        for path in transcript_files(ROOT / folder):
            call = load_call(path)
            for turn in build_turns(call, ruleset.languages[call.language]):
                yield call.language, turn


def test_the_lexicon_screen_hides_no_match(ruleset: Ruleset) -> None:
    """A lexicon the screen leaves out of a view's candidates cannot match it: checked on every
    sentence and whole turn of the sample and held-out calls, every lexicon of their language."""
    checked = 0
    for language, turn in _sample_turns(ruleset):
        pack = ruleset.languages[language]
        views = [s.norm for s in turn.sentences]
        for view in {*views, turn.joiner.join(views)}:
            maybe = pack.screen.candidates(view)
            for name, found in pack.lexicons.items():
                if found.pattern.search(view):
                    assert name in maybe, (name, view)
                    checked += 1
    assert checked > 1000


def test_screened_amounts_match_the_same(ruleset: Ruleset) -> None:
    """The money patterns behind their first-character look-ahead find the same amounts, groups
    and all, in every sentence of the sample and held-out calls."""
    from qa_pipeline.languages import english, mandarin

    assert lexicon.screened(lexicon.re.compile("a*")).pattern == "a*"  # no screen: as it was
    found = 0
    for language, turn in _sample_turns(ruleset):
        module = english if language == "en" else mandarin
        assert module._AMOUNTS.pattern.startswith("(?=[")
        for sentence in turn.sentences:
            plain = [(m.span(), m.groupdict()) for m in module._MONEY.finditer(sentence.norm)]
            fast = [(m.span(), m.groupdict()) for m in module._AMOUNTS.finditer(sentence.norm)]
            assert fast == plain, sentence.norm
            found += len(plain)
    assert found > 50


def test_forbidden_rules_screened_as_their_union(ruleset: Ruleset) -> None:
    """Searching only the rules whose literals a text holds says what one multi-line union of
    every rule's patterns says, on every sentence (clause breaks as line breaks) of the sample
    and held-out calls."""
    from qa_pipeline.checks.forbidden import _CLAUSE_BREAK

    unions = {
        language: lexicon.re.compile(
            lexicon.compile_patterns(
                [p for rule in pack.forbidden for p in rule.spec.patterns], pack.word_boundaries
            ).pattern,
            lexicon.re.MULTILINE,
        )
        for language, pack in ruleset.languages.items()
    }
    found = 0
    for language, turn in _sample_turns(ruleset):
        for sentence in turn.sentences:
            text = _CLAUSE_BREAK.sub("\n", sentence.norm)
            expected = unions[language].search(text) is not None
            assert ruleset.languages[language].forbidden_any.search(text) == expected, text
            found += expected
    assert found > 20
