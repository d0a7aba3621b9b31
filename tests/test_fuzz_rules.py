"""Fuzzed rule files (issue 15): whatever a campaign, language pack, forbidden-phrase file or
criteria.yaml holds after random edits, loading the rules ends in a rule set (the broken file
named among its errors) or a RulesetError naming the file, never another exception."""

from __future__ import annotations

import random
import shutil
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_pipeline.errors import RulesetError
from qa_pipeline.judging.judge import load_rules
from tests.conftest import ROOT

TARGETS = ("campaigns/crbt.yaml", "languages/en.yaml", "forbidden/zh.yaml", "criteria.yaml",
           "cleanup.yaml", "roles.yaml")  # fmt: skip
EDITS = ("\x00", "\t", ": ", "- ", "[", "{", "&a", "*a", "!!python/object:os.system", "'",
         "  price: 1\n", "\n" + "  " * 40 + "x: 1\n", "(a+)+$", "\udc80", "[" * 2000)  # fmt: skip


def _edit(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(text) + 1)
        kind = rng.randrange(3)
        if kind == 0:
            text = text[:at] + rng.choice(EDITS) + text[at:]
        elif kind == 1:
            text = text[:at]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                line = rng.choice(lines)
                text = text + line  # a repeated line: often a duplicate key
    return text


@pytest.mark.slow  # a dozen batches or rule loads: seconds
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), target=st.sampled_from(TARGETS))
def test_a_mangled_rule_file_is_reported_never_a_crash(
    seed: int, target: str, tmp_path_factory: Any
) -> None:
    rules = tmp_path_factory.mktemp("rules") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    path = rules / target
    mangled = _edit(path.read_text(encoding="utf-8"), random.Random(seed))
    path.write_bytes(mangled.encode("utf-8", "surrogatepass"))
    try:
        ruleset = load_rules(rules)
    except RulesetError as exc:
        assert str(path) in exc.message
        return
    for error in ruleset.errors:
        assert error.message.startswith(str(rules)), error.message
