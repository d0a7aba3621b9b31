"""Judge one call against its campaign and the four criteria.

The engine binds every check named in the rule files to its validated parameters once, at
construction; `judge` then only runs checks (no per-call setup).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from qa_pipeline.checks import registry
from qa_pipeline.checks.context import CallContext
from qa_pipeline.errors import CampaignMismatchError, UnknownCampaignError, UnsupportedLanguageError
from qa_pipeline.ingest.model import Call
from qa_pipeline.ruleset.loader import LanguagePack, Ruleset
from qa_pipeline.ruleset.schema import CampaignFile, CheckSpec
from qa_pipeline.transcript.cleanup import Cleaner, CleanupReport
from qa_pipeline.transcript.roles import RoleAssignment, assign_roles
from qa_pipeline.verdict.model import (
    CallVerdict,
    Criterion,
    Evidence,
    ForbiddenFinding,
    HangupResult,
    Item,
    OutcomeResult,
    ScriptResult,
    SectionResult,
    TranscriptLine,
)

Bound = Callable[..., Any]


def _bind(spec: CheckSpec) -> Bound:
    check = registry.get(spec.type)
    params = check.params_model.model_validate(spec.params)

    def run(ctx: CallContext, *extra: Any) -> Any:
        return check.func(ctx, params, *extra)

    return run


def _criterion(items: Mapping[str, Item]) -> Criterion:
    applicable = [i for i in items.values() if i.passed is not None]
    passed = all(i.passed for i in applicable) if applicable else None
    failing = {name: i for name, i in items.items() if i.passed is False}
    if failing:
        reason = "; ".join(f"{name}: {i.reason}" for name, i in failing.items())
        evidence = tuple(e for i in failing.values() for e in i.evidence)
    else:
        reason = "all items passed"
        evidence = tuple(e for i in items.values() for e in i.evidence)
    return Criterion(passed, dict(items), evidence, reason)


class Judge:
    def __init__(self, ruleset: Ruleset) -> None:
        self.ruleset = ruleset
        criteria = ruleset.criteria
        self._items = {name: _bind(spec) for name, spec in criteria.items.items()}
        self._outcome = _bind(criteria.outcome)
        self._hangup = _bind(criteria.hangup)
        self._forbidden = _bind(criteria.forbidden)
        self._cleaner = Cleaner(ruleset.asr)
        self._sections = {
            campaign_id: [
                (
                    section.section,
                    section.required,
                    section.weight,
                    [_bind(s) for s in section.checks],
                )
                for section in campaign.script
            ]
            for campaign_id, campaign in ruleset.campaigns.items()
        }

    def prepare(self, call: Call) -> tuple[CallContext, CleanupReport, RoleAssignment]:
        """Cleanup, role assignment and turns: the call as the checks will read it."""
        campaign, pack = self._rules_for(call)
        cleaned, report = self._cleaner.clean(call)
        roled, roles = assign_roles(cleaned, pack, self.ruleset.asr.roles)
        return CallContext(roled, campaign, pack), report, roles

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
        return campaign, rules.languages[call.language]

    def judge(self, call: Call) -> CallVerdict:
        ctx, cleanup, roles = self.prepare(call)
        items: dict[str, Item] = {name: check(ctx) for name, check in self._items.items()}
        outcome: OutcomeResult = self._outcome(ctx)
        criteria: dict[str, Criterion | Item] = {
            "account_holder_verified": _criterion(
                {"identity": items["identity"], "permission": items["permission"]}
            ),
            "caller_competent": items["caller_competent"],
            "disclosures": _criterion(
                {k: items[k] for k in ("fees", "trial_end", "cancel_method")}
            ),
            "explicit_consent": items["explicit_consent"],
        }
        all_pass = all(c.passed for c in criteria.values())
        valid_sale = all_pass if outcome.value == "sale" else None
        forbidden: tuple[ForbiddenFinding, ...] = self._forbidden(ctx)
        hangup: HangupResult = self._hangup(ctx)
        return CallVerdict(
            outcome=outcome,
            criteria=criteria,
            script=self._script(ctx, items),
            forbidden_phrases=forbidden,
            agent_hung_up_first=hangup,
            valid_sale=valid_sale,
            revisit_required=valid_sale is False,
            roles=roles,
            normalization=cleanup,
            review_flags=("low_role_confidence",) if roles.low_confidence else (),
            transcript=tuple(
                TranscriptLine(s.start, s.end, s.speaker, s.text) for s in ctx.call.segments
            ),
        )

    def _script(self, ctx: CallContext, items: Mapping[str, Item]) -> ScriptResult:
        sections: dict[str, SectionResult] = {}
        score = total = 0.0
        for name, required, weight, checks in self._sections[ctx.campaign.id]:
            evidence: list[Evidence] = []
            present = True
            for check in checks:
                ok, found = check(ctx, items)
                present = present and ok
                evidence.extend(found)
            sections[name] = SectionResult(present, required, tuple(evidence))
            total += weight
            score += weight if present else 0.0
        missing = tuple(n for n, s in sections.items() if s.required and not s.present)
        return ScriptResult(round(score / total, 3) if total else 1.0, sections, missing)
