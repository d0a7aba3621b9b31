"""Every pattern of the bundled rules with its examples, sqlfluff-style: each is a test that
matches the pattern the way the engine does (the language pack's normalized view, a forbidden
rule's clause view), so a pattern nobody can show a use of does not creep in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa_pipeline.judging.coverage import RulePattern, rule_patterns
from qa_pipeline.judging.judge import load_rules, load_rules_cached
from qa_pipeline.ruleset.facts import CampaignFacts
from qa_pipeline.ruleset.schema import LexiconSpec, Pattern, examples_of
from tests.conftest import ROOT, with_first_pattern

PATTERNS = rule_patterns(load_rules_cached(ROOT / "rules"))


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: f"{p.file}:{p.key}")
def test_pattern_has_examples_that_hold(pattern: RulePattern) -> None:
    assert pattern.examples, f"{pattern.file} {pattern.key}: write it with an example it matches"
    assert not pattern.problems()


def test_patterns_are_read_with_their_examples() -> None:
    spec = LexiconSpec.model_validate(
        {"patterns": ["plain", {"p": "{=company}客服", "e": ["中国电信客服"], "not": ["客服"]}]}
    )
    plain, written = spec.patterns
    assert examples_of(plain) == ((), ())
    assert isinstance(written, Pattern) and written == "{=company}客服"
    filled = CampaignFacts({"company": ("中国电信",)}).pattern(written)
    assert filled == "(?:中国电信)客服"
    assert examples_of(filled) == (("中国电信客服",), ("客服",))


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{p: 'maybe', e: []}", "lexicons.hedge.patterns.0.e: List should have at least 1 item"),
        ("{p: 'maybe'}", "lexicons.hedge.patterns.0.e: Field required"),
        ("{p: 'maybe', e: [maybe], bad: [x]}", "lexicons.hedge.patterns.0.bad: Extra inputs"),
        ("[maybe]", "lexicons.hedge.patterns.0: a pattern is a regular expression or {p:"),
    ],
)
def test_a_bad_example_entry_names_its_key(tmp_path: Path, entry: str, problem: str) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    with_first_pattern(rules, "en", "hedge", entry)
    assert problem in load_rules(rules).broken_languages["en"].message


def _one(key: str) -> RulePattern:
    return next(p for p in PATTERNS if f"{p.file} {p.key}" == key)


def test_examples_are_read_as_the_engine_reads_them() -> None:
    # A negatable lexicon's cue cancels the match; a forbidden rule's negation window too; the
    # view reads spoken numbers as digits.
    holder = _one("languages/zh.yaml lexicons.holder_yes.patterns.4")
    assert (
        holder.pattern == "本人(?!\\s*[？?])"
        and holder.matches("我本人")
        and not holder.matches("我不本人")
    )
    restrict = _one("forbidden/zh.yaml rules.3.patterns.0")
    assert restrict.matches("不开的话号码会被停机")
    assert not restrict.matches("放心，不会停机")
    time = _one("languages/zh.yaml lexicons.time_request.patterns.0")
    assert time.matches("就占用您三分钟") and not time.matches("每三分钟")
