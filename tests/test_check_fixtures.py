"""Each check type's pass/fail fixtures (tests/fixtures/checks/<type>.yaml), Mandarin and
English, expanded into one test per case (sqlfluff-style)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from qa_pipeline.checks.registry import REGISTRY
from qa_pipeline.evaluation.metrics import spans_match
from qa_pipeline.judging.judge import Judge
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.ruleset.schema import CheckSpec
from qa_pipeline.verdict.model import CallVerdict, Item
from tests.conftest import make_call

FIXTURES = Path(__file__).parent / "fixtures" / "checks"
S = TypeVar("S", bound=CheckSpec)
PASS = {"pass": True, "fail": False, "na": None}


def _passed(item: Item) -> tuple[Any, str]:
    return item.passed, item.reason


def _reader(ruleset: Ruleset, check: str, case: dict[str, Any]) -> Callable[[CallVerdict], Any]:
    """What a fixture of `check` reads from the verdict: the item it judges (found through
    criteria.yaml by the check's family, so an older version is read where the current one
    sits), the outcome or hang-up, or the script section the case names."""
    kind = REGISTRY[check].kind
    family = check.rsplit(".", 1)[0]
    if kind == "item":
        code = next(
            code
            for (name, spec), code in zip(
                ruleset.criteria.item_specs(), ruleset.criteria.item_codes().values(), strict=True
            )
            if spec.type.rsplit(".", 1)[0] == family
        )
        return lambda v: _passed(v.item(*code.split(".")))
    if kind == "outcome":
        return lambda v: (v.outcome.value, v.outcome.reason)
    if kind == "hangup":
        return lambda v: (v.agent_hung_up_first.value, v.agent_hung_up_first.reason)
    section = case["section"]
    return lambda v: (v.script.sections[section].present, f"section {section}")


def _cases() -> list[Any]:
    params = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            params.append(pytest.param(data["check"], case, id=f"{data['check']}::{case['name']}"))
    return params


CASES = _cases()


def test_every_check_type_has_fixtures_in_both_languages() -> None:
    by_type: dict[str, set[str]] = {}
    for param in CASES:
        check, case = param.values
        by_type.setdefault(check, set()).add(case["language"])
    assert set(by_type) == set(REGISTRY), set(REGISTRY) ^ set(by_type)
    assert all(langs == {"zh", "en"} for langs in by_type.values()), by_type


_ENGINES: dict[str, Judge] = {}


def _engine_for(ruleset: Ruleset, check: str) -> Judge:
    """The rules with `check` judging its item, so an older version is tested as itself even
    after criteria.yaml moved on (caller_competent.v1 beside .v2)."""
    if check not in _ENGINES:
        family = check.rsplit(".", 1)[0]

        def swap(spec: S) -> S:
            # Another version of the family, with its own defaults (params differ by version);
            # the spec's other keys (an outcome's in_doubt_when, a severity) kept.
            same = spec.type.rsplit(".", 1)[0] == family and spec.type != check
            return spec.model_copy(update={"type": check, "params": {}}) if same else spec

        criteria = {
            name: c.model_copy(
                update={
                    "check": swap(c.check) if c.check else None,
                    "items": {
                        k: i.model_copy(update={"check": swap(i.check)})
                        for k, i in (c.items or {}).items()
                    }
                    or None,
                }
            )
            for name, c in ruleset.criteria.criteria.items()
        }
        # The outcome, hang-up and forbidden checks too (call_outcome.v1 beside .v2).
        calls = {
            key: swap(getattr(ruleset.criteria, key)) for key in ("outcome", "hangup", "forbidden")
        }
        changed = ruleset.criteria.model_copy(update={"criteria": criteria, **calls})
        _ENGINES[check] = Judge(dataclasses.replace(ruleset, criteria=changed))
    return _ENGINES[check]


@pytest.mark.parametrize(("check", "case"), CASES)
def test_fixture(ruleset: Ruleset, check: str, case: dict[str, Any]) -> None:
    engine = _engine_for(ruleset, check)
    call = make_call(
        case["turns"],
        campaign=case["campaign"],
        language=case["language"],
        started_at=case.get("started_at"),
        hangup_by=case.get("hangup_by"),
        call_id=case["name"],
    )
    if case.get("heard_by"):  # a transcript a recognizer made (read as heard, Call.heard_by)
        call = dataclasses.replace(call, heard_by=case["heard_by"])
    verdict = engine.judge(call)
    if REGISTRY[check].kind == "forbidden":
        got = [{"category": f.category, "text": f.text} for f in verdict.forbidden_phrases]
        expected = case["expect"]
        unmatched = [g for g in expected if not any(spans_match(g, p) for p in got)]
        extra = [p for p in got if not any(spans_match(g, p) for g in expected)]
        assert not unmatched and not extra, f"missed {unmatched}, extra {extra} ({case['why']})"
        return
    value, reason = _reader(ruleset, check, case)(verdict)
    expected = (
        PASS.get(case["expect"], case["expect"])
        if isinstance(case["expect"], str)
        else case["expect"]
    )
    assert value == expected, f"{case['why']} -- engine said: {reason}"
