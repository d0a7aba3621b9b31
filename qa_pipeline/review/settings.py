"""Workbench settings as data, with defaults (docs/review.md documents every one; a test fails
when one is not). A YAML file given to `serve --settings` overrides any of them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_pipeline.errors import ReviewSettingsError
from qa_pipeline.review.i18n import DEFAULT_LANGUAGE
from qa_pipeline.ruleset.schema import CriteriaFile
from qa_pipeline.ruleset.yaml_text import YamlProblem, parse_yaml


def _severity() -> dict[str, int]:
    # Over criteria.yaml's severities (criteria, forbidden phrases, hang-up): 3 high, the sale
    # may not stand; 2 medium; 1 low, worth a look. The longest matching code prefix wins.
    # An item decided on an unsure model reading, a yes on a call booked as no sale, or a
    # transcript where the ASR may have lost speech comes before what is only worth a look.
    return {
        "low_role_confidence": 1, "model_unsure": 2, "model_overruled": 2,
        "model_disagrees": 2, "customer_dissatisfied": 2, "outcome_in_doubt": 2,
        "asr_suspect": 2,
    }  # fmt: skip


@dataclass(frozen=True)
class ReviewSettings:
    sla_dissatisfaction_minutes: int = 30
    sla_default_minutes: int = 240
    dissatisfaction_codes: tuple[str, ...] = (
        "forbidden", "agent_hung_up_first", "customer_dissatisfied",
    )  # fmt: skip
    severity: dict[str, int] = field(default_factory=_severity)
    review_flags: tuple[str, ...] = (
        "low_role_confidence", "model_unsure", "model_overruled", "model_disagrees",
        "customer_dissatisfied", "outcome_in_doubt", "asr_suspect",
    )  # fmt: skip
    calibration_share: float = 0.05
    calibration_share_recent_failures: float = 0.20
    calibration_recent_days: int = 7
    calibration_seed: str = "qa-review"
    unmask_roles: tuple[str, ...] = ("qa_lead", "admin")
    login_max_failures: int = 5
    login_window_seconds: int = 300
    session_max_age_seconds: int = 8 * 3600
    secure_cookies: bool = True
    secret_key: str = ""
    default_language: str = DEFAULT_LANGUAGE
    queue_sync_seconds: int = 60
    queue_page_size: int = 50
    ranking_min_calls: int = 20
    # Agent cases (hotline practice): what opens one, and the agent's time to explain.
    case_explain_minutes: int = 30
    case_flags: tuple[str, ...] = ("customer_dissatisfied",)
    case_finding_kinds: tuple[str, ...] = ("forbidden", "hangup")
    claim_minutes: int = 60
    # Filled by `with_rules` from criteria.yaml (not a setting): severities `severity` overrides.
    rule_severity: dict[str, int] = field(default_factory=dict)

    def with_rules(self, criteria: CriteriaFile) -> ReviewSettings:
        """These settings over the severities the loaded criteria declare."""
        return dataclasses.replace(self, rule_severity=criteria.severities())


MIN_SECRET_KEY = 32  # characters: a guessable key lets anyone sign a session cookie


def weak_secret(settings: ReviewSettings) -> str | None:
    """Why the configured secret_key may not sign sessions, or None (empty: a random key)."""
    key = settings.secret_key
    if key and len(key) < MIN_SECRET_KEY:
        return (
            f"secret_key: {len(key)} characters is too short to sign sessions (at least "
            f"{MIN_SECRET_KEY}; e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return None


# Settings with a range: (lowest, highest) allowed.
RANGES = {"claim_minutes": (1, 24 * 60)}  # a claim outliving a day would never return


def out_of_range(settings: ReviewSettings) -> list[str]:
    """Why each ranged setting is outside its range, if it is."""
    problems = []
    for name, (low, high) in RANGES.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            problems.append(f"{name}: {value} is outside {low}..{high}")
    return problems


def setting_names() -> list[str]:
    return [f.name for f in dataclasses.fields(ReviewSettings) if f.name != "rule_severity"]


def load_settings(path: Path | None) -> ReviewSettings:
    """Defaults, overridden by the YAML mapping at `path`; every problem reported at once."""
    if path is None:
        return ReviewSettings()
    try:
        data = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except YamlProblem as exc:
        raise ReviewSettingsError(str(path), [str(exc)]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewSettingsError(str(path), [f"cannot read: {exc}"]) from exc
    if not isinstance(data, dict):
        raise ReviewSettingsError(str(path), ["expected a mapping of setting: value"])
    defaults = ReviewSettings()
    problems: list[str] = []
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in setting_names():
            problems.append(f"unknown setting {key!r}; valid: {', '.join(setting_names())}")
            continue
        default = getattr(defaults, key)
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not type(default):
            problems.append(f"{key}: expected {type(default).__name__}, got {value!r}")
            continue
        values[key] = value
    settings = dataclasses.replace(defaults, **values)
    weak = weak_secret(settings)
    problems += ([weak] if weak else []) + out_of_range(settings)
    problems += case_problems(settings)
    if problems:
        raise ReviewSettingsError(str(path), problems)
    return settings


FINDING_KINDS = ("criterion", "forbidden", "hangup", "review_flag")  # verdict/findings.py


def case_problems(settings: ReviewSettings) -> list[str]:
    """What is wrong with the agent-case settings (values of the right type)."""
    problems = []
    if settings.case_explain_minutes < 1:
        problems.append(
            f"case_explain_minutes: {settings.case_explain_minutes} is not a number of minutes "
            "(1 or more; default 30)"
        )
    unknown = [k for k in settings.case_finding_kinds if k not in FINDING_KINDS]
    if unknown:
        problems.append(f"case_finding_kinds: {unknown} are not finding kinds; valid: "
                        f"{', '.join(FINDING_KINDS)}")  # fmt: skip
    return problems


def severity_of(code: str, settings: ReviewSettings) -> int:
    """The severity of a finding code: its longest configured prefix's, else 1."""
    best, level = -1, 1
    for key, value in (settings.rule_severity | settings.severity).items():
        if (code == key or code.startswith(key + ".")) and len(key) > best:
            best, level = len(key), value
    return level
