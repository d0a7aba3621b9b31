"""Settings and rule types are documented (datasette-style): adding an undocumented check type,
lexicon, parameter or rule-file key fails here."""

from __future__ import annotations

from qa_pipeline.checks.registry import REGISTRY
from qa_pipeline.ruleset.schema import (
    LEXICON_NAMES,
    AsrTermsSpec,
    CampaignFile,
    CancelMethod,
    ChannelsSpec,
    CleanupFile,
    ConfirmationPolicy,
    CriteriaFile,
    CriterionSpec,
    DissatisfiedSpec,
    FamilySpec,
    FindingCheckSpec,
    ForbiddenRule,
    HallucinationSpec,
    ItemSpec,
    LanguageFile,
    LoopSpec,
    NegationSpec,
    PatternSpec,
    RevisitPolicy,
    RolesFile,
    ScriptSection,
    SignalsFile,
    TasksFile,
    UnderstandingFile,
)
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")


def test_every_check_type_documented() -> None:
    missing = [name for name in REGISTRY if f"`{name}`" not in DOC]
    assert not missing, f"document these check types in docs/rules.md: {missing}"


def test_every_check_parameter_documented() -> None:
    missing = [
        f"{name}.{field}"
        for name, check in REGISTRY.items()
        for field in check.params_model.model_fields
        if f"`{field}`" not in DOC
    ]
    assert not missing, f"document these parameters in docs/rules.md: {missing}"


def test_every_lexicon_documented() -> None:
    missing = [name for name in LEXICON_NAMES if f"`{name}`" not in DOC]
    assert not missing, f"document these lexicons in docs/rules.md: {missing}"


def test_every_rule_file_key_documented() -> None:
    models = (
        CampaignFile, CancelMethod, ScriptSection, ForbiddenRule, CleanupFile, AsrTermsSpec,
        HallucinationSpec, LoopSpec, RolesFile, LanguageFile, NegationSpec, TasksFile,
        RevisitPolicy, ConfirmationPolicy, ChannelsSpec, SignalsFile, CriteriaFile,
        CriterionSpec, ItemSpec, FindingCheckSpec, UnderstandingFile, FamilySpec,
        DissatisfiedSpec,
    )  # fmt: skip
    missing = [
        f"{m.__name__}.{key}" for m in models for key in m.model_fields if f"`{key}`" not in DOC
    ]
    assert not missing, f"document these keys in docs/rules.md: {missing}"


def test_every_pattern_key_documented() -> None:
    keys = [field.alias or name for name, field in PatternSpec.model_fields.items()]
    missing = [key for key in keys if f"| `{key}` |" not in DOC]
    assert not missing, f"document these pattern keys in docs/rules.md: {missing}"


def _layout() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    return [
        line.split()[0] for line in block.splitlines() if line.startswith("  ") and line[2] != " "
    ]


def test_readme_layout_lists_every_package_and_nothing_else() -> None:
    listed = _layout()
    package = ROOT / "qa_pipeline"
    present = sorted(
        [f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").is_file()]
        + [p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    )
    assert sorted(listed) == present, set(listed) ^ set(present)


def test_readme_layout_is_the_import_layers_order() -> None:
    layers = [
        line.strip().split(".")[1]
        for line in (ROOT / ".importlinter")
        .read_text(encoding="utf-8")
        .split("layers =")[1]
        .split("\n\n")[0]
        .splitlines()
        for line in line.split("|")
        if line.strip().startswith("qa_pipeline.")
    ]
    listed = [name.rstrip("/").removesuffix(".py") for name in _layout()]
    assert [n for n in listed if n in layers] == layers
