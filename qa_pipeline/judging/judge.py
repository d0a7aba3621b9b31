"""Judge one call against its campaign and the validity criteria of criteria.yaml.

The judge binds every check named in the rule files to its validated parameters once, at
construction; `judge` then only runs checks (no per-call setup). Criteria, their items and
their order come from the loaded criteria definition, never from code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from qa_pipeline.checks import registry
from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.registry import (
    ForbiddenCheck,
    HangupCheck,
    ItemCheck,
    OutcomeCheck,
    SectionCheck,
    SectionFound,
)
from qa_pipeline.errors import CampaignMismatchError, UnknownCampaignError, UnsupportedLanguageError
from qa_pipeline.ingest.model import Call
from qa_pipeline.judging.understand import disagreements, flags, read_call
from qa_pipeline.ruleset.loader import LanguagePack, Ruleset, load_ruleset, load_ruleset_cached
from qa_pipeline.ruleset.schema import CampaignFile, CheckSpec, Scope
from qa_pipeline.transcript.cleanup import Cleaner, CleanupReport
from qa_pipeline.transcript.roles import RoleAssignment, assign_roles
from qa_pipeline.understanding.reader import Reader
from qa_pipeline.verdict.model import (
    CallVerdict,
    Criterion,
    Evidence,
    Item,
    ScriptResult,
    SectionResult,
    TranscriptLine,
)

Hook = Callable[[str, object], None]
C = TypeVar("C")


def load_rules(root: Path | None = None) -> Ruleset:
    """The rules folder validated against the registered check types."""
    return load_ruleset(registry.registered(), root)


def load_rules_cached(root: Path | None = None) -> Ruleset:
    """`load_rules`, once per process for each content version of the folder."""
    return load_ruleset_cached(registry.registered(), root)


# The packages whose code decides a verdict from a call file or transcript (not the CLI,
# storage or review): reading the file is part of it.
_DECIDING = ("checks", "ingest", "judging", "languages", "ruleset", "text", "transcript",
             "understanding", "verdict")  # fmt: skip


@cache
def code_version() -> str:
    """A digest of the source that turns a transcript into a verdict: an upgrade that changes
    how calls are judged changes every verdict's version, so `run --db` judges them again
    instead of reusing what the old code decided."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in _DECIDING:
        for path in sorted((package / name).rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _no_hook(step: str, artifact: object) -> None:
    return None


@dataclass(frozen=True)
class Bound(Generic[C]):
    """A check with its parameters validated once."""

    check: C
    params: Any


def _bind(spec: CheckSpec, kind: str, items: frozenset[str]) -> Bound[Any]:
    check = registry.get(spec.type)
    if check.kind != kind:
        raise ValueError(f"{spec.type} is a {check.kind} check, not a {kind} check")
    params = check.params_model.model_validate(spec.params, context={"items": items})
    return Bound(check.func, params)


def _criterion(items: Mapping[str, Item], scope: Scope) -> Criterion:
    items = {name: replace(item, scope=scope) for name, item in items.items()}
    applicable = [i for i in items.values() if i.passed is not None]
    passed = all(i.passed for i in applicable) if applicable else None
    failing = {name: i for name, i in items.items() if i.passed is False}
    if failing:
        reason = "; ".join(f"{name}: {i.reason}" for name, i in failing.items())
        evidence = tuple(e for i in failing.values() for e in i.evidence)
    else:
        reason = "all items passed"
        evidence = tuple(e for i in items.values() for e in i.evidence)
    return Criterion(passed, items, evidence, reason, scope)


@dataclass(frozen=True)
class _Section:
    name: str
    required: bool
    weight: float
    checks: tuple[Bound[SectionCheck], ...]


# The steps `Judge.judge` reports, in the order it takes them (a time budget names the step a
# stopped call was in: the one after the last reported).
STEPS = ("cleanup", "roles", "context", "understanding", "items", "verdict")


class Judge:
    """Transcript -> verdict. Steps report through `hook(step, artifact)`: "cleanup" (the
    report), "roles" (the assignment), "context" (the call as the checks read it),
    "understanding" (the readings), "items", "verdict": STEPS."""

    def __init__(
        self, ruleset: Ruleset, hook: Hook = _no_hook, reader: Reader | None = None
    ) -> None:
        """`reader`: the understanding stage (`configured_reader(ruleset)`); None judges with
        the rules alone."""
        self.ruleset = ruleset
        self.hook = hook
        self.reader = reader
        # What decides a verdict: the rules, the code that reads them, and the model when one
        # reads the calls (a stored verdict is reused only while all three are the same).
        model = reader.version if reader is not None else "rules only"
        decided = f"{ruleset.version}|{model}|{code_version()}"
        self.version = hashlib.sha256(decided.encode()).hexdigest()[:12]
        criteria = ruleset.criteria
        names = frozenset(name for name, _ in criteria.item_specs())
        self._items: dict[str, Bound[ItemCheck]] = {
            name: _bind(spec, "item", names) for name, spec in criteria.item_specs()
        }
        self._outcome: Bound[OutcomeCheck] = _bind(criteria.outcome, "outcome", names)
        self._hangup: Bound[HangupCheck] = _bind(criteria.hangup, "hangup", names)
        self._forbidden: Bound[ForbiddenCheck] = _bind(criteria.forbidden, "forbidden", names)
        self._cleaner = Cleaner(ruleset.cleanup)
        # labels.jsonl key -> finding code: which item a call head's label speaks for
        self._label_codes = {
            label: criterion if item is None else f"{criterion}.{item}"
            for label, (criterion, item) in criteria.labels().items()
        }
        self._sections = {
            campaign_id: tuple(
                _Section(
                    section.section,
                    section.required,
                    section.weight,
                    tuple(_bind(s, "section", names) for s in section.checks),
                )
                for section in campaign.script
            )
            for campaign_id, campaign in ruleset.campaigns.items()
        }

    def prepare(self, call: Call) -> tuple[CallContext, CleanupReport, RoleAssignment]:
        """Cleanup, role assignment and turns: the call as the checks will read it."""
        campaign, pack = self._rules_for(call)
        cleaned, report = self._cleaner.clean(call)
        self.hook("cleanup", report)
        roled, roles = assign_roles(cleaned, pack, self.ruleset.roles)
        self.hook("roles", roles)
        context = CallContext(roled, campaign, pack, self.ruleset.understanding)
        self.hook("context", context)
        return context, report, roles

    def context(self, call: Call) -> CallContext:
        return self.prepare(call)[0]

    def _rules_for(self, call: Call) -> tuple[CampaignFile, LanguagePack]:
        rules = self.ruleset
        if call.campaign in rules.broken_campaigns:
            raise rules.broken_campaigns[call.campaign]
        if call.campaign not in rules.campaigns:
            raise UnknownCampaignError(call.campaign, rules.campaigns)
        campaign = rules.campaigns[call.campaign]
        if call.language != campaign.language:
            raise CampaignMismatchError(campaign.id, campaign.language, call.language)
        if call.language in rules.broken_languages:
            raise rules.broken_languages[call.language]
        if call.language not in rules.languages:
            raise UnsupportedLanguageError(call.language, rules.languages)
        return campaign, rules.languages[call.language].reading(call.heard_by)

    def judge(self, call: Call) -> CallVerdict:
        ctx, cleanup, roles = self.prepare(call)
        readings = read_call(self.reader, ctx) if self.reader is not None else ()
        self.hook("understanding", readings)
        items = {name: b.check(ctx, b.params) for name, b in self._items.items()}
        self.hook("items", items)
        outcome = self._outcome.check(ctx, self._outcome.params)
        criteria: dict[str, Criterion | Item] = {
            name: replace(items[name], scope=spec.scope)
            if spec.check is not None
            else _criterion({item: items[item] for item in spec.items or {}}, spec.scope)
            for name, spec in self.ruleset.criteria.criteria.items()
        }
        all_pass = all(c.passed for c in criteria.values())
        valid_sale = all_pass if outcome.value == "sale" else None
        forbidden = self._forbidden.check(ctx, self._forbidden.params)
        hangup = self._hangup.check(ctx, self._hangup.params)
        verdict = CallVerdict(
            outcome=outcome,
            criteria=criteria,
            script=self._script(ctx, items),
            forbidden_phrases=forbidden,
            agent_hung_up_first=hangup,
            valid_sale=valid_sale,
            revisit_required=valid_sale is False,
            roles=roles,
            normalization=cleanup,
            review_flags=self._flags(roles, outcome.value, items),
            transcript=tuple(
                TranscriptLine(s.start, s.end, s.speaker, s.text) for s in ctx.call.segments
            ),
            readings=readings,
        )
        more: tuple[str, ...] = ()
        if self.reader is not None:
            rules, codes = self.ruleset.understanding, self._label_codes
            more = flags(rules, verdict) + disagreements(
                rules, self.reader.call_heads, ctx, codes, dict(verdict.judged_items())
            )
        if more:
            verdict = replace(verdict, review_flags=(*verdict.review_flags, *more))
        self.hook("verdict", verdict)
        return verdict

    def _flags(
        self, roles: RoleAssignment, outcome: str, items: Mapping[str, Item]
    ) -> tuple[str, ...]:
        """`low_role_confidence`; `outcome_in_doubt` when a call judged not a sale passed an
        item that criteria.yaml says a sale would (a clear yes, yet nothing booked)."""
        found = ["low_role_confidence"] if roles.low_confidence else []
        codes = self.ruleset.criteria.item_codes()
        doubt = self.ruleset.criteria.outcome.in_doubt_when
        if outcome != "sale" and any(items[n].passed and codes[n] in doubt for n in items):
            found.append("outcome_in_doubt")
        return tuple(found)

    def _script(self, ctx: CallContext, items: Mapping[str, Item]) -> ScriptResult:
        sections: dict[str, SectionResult] = {}
        score = total = 0.0
        for section in self._sections[ctx.campaign.id]:
            evidence: list[Evidence] = []
            present = True
            for bound in section.checks:
                found: SectionFound = bound.check(ctx, bound.params, items)
                present = present and found[0]
                evidence.extend(found[1])
            sections[section.name] = SectionResult(present, section.required, tuple(evidence))
            total += section.weight
            score += section.weight if present else 0.0
        missing = tuple(n for n, s in sections.items() if s.required and not s.present)
        return ScriptResult(round(score / total, 3) if total else 1.0, sections, missing)
