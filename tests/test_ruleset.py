"""Rule files: validated on load, every problem of a file reported at once with its key path;
a broken campaign or language disables only the calls that need it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa_pipeline.errors import RulesetError
from qa_pipeline.judging.judge import load_rules
from qa_pipeline.ruleset import loader
from tests.conftest import ROOT, with_first_pattern


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def test_bundled_rules_are_valid() -> None:
    ruleset = load_rules(ROOT / "rules")
    assert not ruleset.errors
    assert set(ruleset.campaigns) == {
        "weather-12121", "radio-118971", "ld-96688", "crbt",
        "stormwatch", "ringback-plus", "ld-unlimited",
    }  # fmt: skip
    assert set(ruleset.languages) == {"zh", "en"}


def test_forbidden_screen_skips_positions() -> None:
    """Every forbidden pattern starts with a character the one-scan screen can see (a literal or
    a short set, not \\w or .), so each rule keeps its look-ahead and a text searched costs one
    scan a rule."""
    from qa_pipeline.text.lexicon import first_chars

    ruleset = load_rules(ROOT / "rules")
    for language, pack in ruleset.languages.items():
        blind = [p for r in pack.forbidden for p in r.spec.patterns if first_chars(p) is None]
        assert not blind, f"{language}: patterns the screen cannot skip by: {blind}"
        assert all("(?=[" in p.pattern for p in pack.forbidden_any.patterns.values())


def test_forbidden_patterns_reject_capturing_groups(rules_copy: Path) -> None:
    path = rules_copy / "forbidden" / "zh.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("'拉倒'", "'爱(.)不\\1'"), encoding="utf-8")
    ruleset = load_rules(rules_copy)
    assert "zh" in ruleset.broken_languages
    assert "not a capturing group" in str(ruleset.broken_languages["zh"])


def test_campaign_facts_match_spec() -> None:
    campaigns = load_rules(ROOT / "rules").campaigns
    facts = {cid: (c.price.amount, c.trial_days) for cid, c in campaigns.items()}
    assert facts == {
        "weather-12121": (3, 30), "radio-118971": (5, 30), "ld-96688": (10, None),
        "crbt": (5, 30), "stormwatch": (2.99, 30), "ringback-plus": (1.99, 14),
        "ld-unlimited": (9.99, None),
    }  # fmt: skip
    codes = {
        cid: sorted(m.code or m.number or m.name or "" for m in c.cancel_methods)
        for cid, c in campaigns.items()
    }
    assert codes["weather-12121"] == ["10000", "TD12121"]
    assert codes["crbt"] == ["10000", "TDCL"]
    assert codes["ringback-plus"] == ["611", "My Northwind app"]


def test_all_problems_in_a_campaign_reported_at_once(rules_copy: Path) -> None:
    path = rules_copy / "campaigns" / "crbt.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("trial_days: 30", "trial_days: -3\nbonus: yes")
    text = text.replace("type: acts_present.v1", "type: acts_present.v9", 1)
    path.write_text(text, encoding="utf-8")
    ruleset = load_rules(rules_copy)
    error = ruleset.broken_campaigns["crbt"]
    joined = "\n".join(error.problems)
    assert "crbt.yaml" in error.message
    assert "trial_days" in joined and "bonus" in joined
    assert "crbt" not in ruleset.campaigns and "weather-12121" in ruleset.campaigns


def test_unknown_check_type_lists_valid_choices(rules_copy: Path) -> None:
    path = rules_copy / "campaigns" / "crbt.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("acts_present.v1", "acts_present.v9", 1),
        encoding="utf-8",
    )
    error = load_rules(rules_copy).broken_campaigns["crbt"]
    assert "acts_present.v9" in error.message and "terms_present.v1" in error.message


def test_bad_regex_and_missing_lexicon_in_language_pack(rules_copy: Path) -> None:
    path = rules_copy / "languages" / "en.yaml"
    text = path.read_text(encoding="utf-8").replace("p: 'nope'", "p: 'nope('")
    path.write_text(text, encoding="utf-8")
    ruleset = load_rules(rules_copy)
    error = ruleset.broken_languages["en"]
    assert "lexicons.deny.patterns" in error.message and "nope(" in error.message
    assert "zh" in ruleset.languages


@pytest.mark.parametrize(
    ("anchor", "bad_line", "key", "bad"),
    [("    keep:\n", "      - 'ring (back'\n", "asr_terms.0.keep.0", "ring (back"),
     ("heard_rewrites:\n", '  "all (ahead": "all set"\n', "heard_rewrites", "all (ahead")],
)  # fmt: skip
def test_bad_asr_keep_or_heard_rewrite_breaks_its_pack(
    rules_copy: Path, anchor: str, bad_line: str, key: str, bad: str
) -> None:
    """A broken regular expression in an asr_terms `keep` or in `heard_rewrites` is named."""
    path = rules_copy / "languages" / "en.yaml"
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    path.write_text(text.replace(anchor, anchor + bad_line, 1), encoding="utf-8")
    error = load_rules(rules_copy).broken_languages["en"]
    assert key in error.message and bad in error.message


def test_yaml_syntax_error_names_line(rules_copy: Path) -> None:
    (rules_copy / "campaigns" / "stormwatch.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    error = load_rules(rules_copy).broken_campaigns["stormwatch"]
    assert "line 2" in error.message or "line 1" in error.message


def test_broken_criteria_stops_everything(rules_copy: Path) -> None:
    path = rules_copy / "criteria.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "tolerance_days: 1", "tolerance_days: -1\n            typo: 2"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RulesetError) as info:
        load_rules(rules_copy)
    message = str(info.value)
    assert "items.trial_end.check.params.tolerance_days" in message and "typo" in message


def test_version_changes_with_content(rules_copy: Path) -> None:
    before = load_rules(rules_copy).version
    path = rules_copy / "forbidden" / "en.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# note\n", encoding="utf-8")
    assert load_rules(rules_copy).version != before


def test_version_changes_with_a_verdict_library(
    rules_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgraded opencc, pypinyin or rapidfuzz can change verdicts: a new rules version."""
    before = load_rules(rules_copy).version
    real = loader.metadata.version
    for library in loader.VERDICT_LIBRARIES:
        monkeypatch.setattr(
            loader.metadata,
            "version",
            lambda name, lib=library: "0.0" if name == lib else real(name),
        )
        loader._libraries.cache_clear()
        try:
            after = load_rules(rules_copy).version
        finally:
            loader._libraries.cache_clear()
        assert after != before and re.fullmatch("[0-9a-f]{12}", after), library


def test_version_covers_the_languages_code(
    rules_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa_pipeline.languages import get

    before = load_rules(rules_copy).version
    monkeypatch.setattr(type(get("zh")), "version", get("zh").version + 1)
    assert load_rules(rules_copy).version != before


def test_a_key_given_twice_is_an_error_with_its_line(rules_copy: Path) -> None:
    """PyYAML keeps the last of two keys silently; a second `price:` must not pass (issue 15)."""
    path = rules_copy / "campaigns" / "crbt.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "price: {amount: 1, period: month}\n", encoding="utf-8"
    )
    error = load_rules(rules_copy).broken_campaigns["crbt"]
    assert "duplicate key 'price' (first given at line 8)" in error.message
    assert str(path) in error.message


@pytest.mark.parametrize("deep", ["[" * 900 + "]" * 900, "[" * 70 + "]" * 70])
def test_deep_nesting_is_an_error_with_its_line(rules_copy: Path, deep: str) -> None:
    path = rules_copy / "criteria.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f"\nextra: {deep}\n", encoding="utf-8")
    with pytest.raises(RulesetError) as info:
        load_rules(rules_copy)
    assert str(path) in info.value.message and "line " in info.value.message
    assert "nesting depth" in info.value.message or "nested deeper than 64" in info.value.message


def test_the_python_parser_is_held_to_the_depth_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the parser recurses: a deep file is still a problem, not a crash."""
    import yaml

    from qa_pipeline.ruleset import yaml_text

    python = type("PythonLoader", (yaml_text.UniqueKeys, yaml.SafeLoader), {})
    monkeypatch.setattr(yaml_text, "_Loader", python)
    with pytest.raises(yaml_text.YamlProblem, match="nested deeper than 64 levels"):
        yaml_text.parse_yaml("a: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(yaml_text.YamlProblem, match="duplicate key 'a'"):
        yaml_text.parse_yaml("a: 1\na: 2\n")


@pytest.mark.parametrize("kind", ["folder", "dangling link", "link loop"])
def test_a_non_file_named_yaml_is_a_broken_file(rules_copy: Path, kind: str) -> None:
    path = rules_copy / "campaigns" / "odd.yaml"
    if kind == "folder":
        path.mkdir()
    else:
        path.symlink_to(path if kind == "link loop" else rules_copy / "nowhere")
    ruleset = load_rules(rules_copy)
    assert "cannot read" in ruleset.broken_campaigns["odd"].message
    assert len(ruleset.campaigns) == 7


@pytest.mark.parametrize("pattern", ["(?:a+)+$", "(a+)+$", "(?:a|a)*b", "(\\w+\\s?)*$"])
def test_a_catastrophic_pattern_breaks_its_pack_instead_of_every_call(
    rules_copy: Path, pattern: str
) -> None:
    """Such a pattern passed `rules check` and then hung `run` on 34 a's and a b (issue 15)."""
    with_first_pattern(rules_copy, "en", "deny", f"{{p: '{pattern}', e: ['aaab']}}")
    ruleset = load_rules(rules_copy)
    error = ruleset.broken_languages["en"].message
    assert "languages/en.yaml" in error and "lexicons.deny.patterns.0" in error
    assert "backtracks catastrophically" in error and repr(pattern) in error
    assert "zh" in ruleset.languages


def test_a_catastrophic_forbidden_pattern_is_found_too(rules_copy: Path) -> None:
    path = rules_copy / "forbidden" / "zh.yaml"
    text = path.read_text(encoding="utf-8")
    head = "    patterns:\n"
    start = text.index(head) + len(head)
    entry = "      - {p: '您好(?:[您好]+)+吗', e: ['您好您好吗']}\n"
    path.write_text(text[:start] + entry + text[start:], encoding="utf-8")
    error = load_rules(rules_copy).broken_languages["zh"].message
    assert "forbidden/zh.yaml" in error and ".patterns.0" in error and "您好" in error


def test_the_bundled_patterns_are_tried_and_pass() -> None:
    from qa_pipeline.judging.coverage import rule_patterns
    from qa_pipeline.text.backtracking import catastrophic, probes

    patterns = [p.pattern for p in rule_patterns(load_rules(ROOT / "rules"))]
    assert sum(bool(probes(p)) for p in patterns) > 10  # the check does run on real rules
    assert catastrophic(patterns) == {}
