"""The initial prompt and hotwords that prime Whisper with a campaign's vocabulary (product
names, prices, codes), worded by the campaign's language (simplified Chinese for zh, so the
output script matches the rules)."""

from __future__ import annotations

from dataclasses import dataclass

from qa_pipeline.languages import get as get_language
from qa_pipeline.ruleset.schema import CampaignFile


@dataclass(frozen=True)
class Prompt:
    initial: str
    hotwords: str


def _cancel_methods(campaign: CampaignFile) -> list[tuple[str, dict[str, str]]]:
    methods: list[tuple[str, dict[str, str]]] = []
    for method in campaign.cancel_methods:
        if method.code and method.number:
            methods.append(("sms", {"code": method.code, "number": method.number}))
        elif method.name:
            methods.append(("app", {"name": method.name}))
        elif method.number:
            methods.append(("hotline", {"number": method.number}))
    return methods


def build_prompt(campaign: CampaignFile, template: str | None) -> Prompt:
    """The campaign's prompt from the language's template in models/models.yaml."""
    lang = get_language(campaign.language)
    initial = ""
    if template:
        initial = template.format(
            company=campaign.company,
            product=campaign.product,
            price=lang.price_phrase(campaign.price.amount, campaign.price.period),
            trial=lang.trial_phrase(campaign.trial_days) if campaign.trial_days else "",
            cancel=lang.cancel_phrase(_cancel_methods(campaign)),
        ).strip()
    codes = [m.code for m in campaign.cancel_methods if m.code]
    numbers = [m.number for m in campaign.cancel_methods if m.number]
    words = dict.fromkeys([campaign.product, campaign.company, *codes, *numbers])
    return Prompt(initial, " ".join(w for w in words if w))
