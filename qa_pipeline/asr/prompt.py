"""The initial prompt and hotwords that prime Whisper with a campaign's vocabulary (product
names, prices, codes), in simplified Chinese for zh so the output script matches the rules."""

from __future__ import annotations

from dataclasses import dataclass

from qa_pipeline.ruleset.schema import CampaignFile

_PERIODS = {
    "zh": {"month": "每月", "day": "每天", "week": "每周", "year": "每年", "once": ""},
    "en": {"month": " a month", "day": " a day", "week": " a week", "year": " a year", "once": ""},
}


@dataclass(frozen=True)
class Prompt:
    initial: str
    hotwords: str


def _price(campaign: CampaignFile) -> str:
    amount = f"{campaign.price.amount:g}"
    period = _PERIODS.get(campaign.language, _PERIODS["en"]).get(campaign.price.period, "")
    if campaign.language == "zh":
        return f"{period}{amount}元"
    return f"${amount}{period}"


def _cancel(campaign: CampaignFile) -> str:
    parts = []
    for method in campaign.cancel_methods:
        if method.code and method.number:
            parts.append(
                f"发送{method.code}到{method.number}"
                if campaign.language == "zh"
                else f"text {method.code} to {method.number}"
            )
        elif method.name:
            parts.append(
                f"在{method.name}里操作" if campaign.language == "zh" else f"use {method.name}"
            )
        elif method.number:
            parts.append(
                f"拨打{method.number}" if campaign.language == "zh" else f"call {method.number}"
            )
    if not parts:
        return ""
    joined = "或".join(parts) if campaign.language == "zh" else " or ".join(parts)
    return f"取消请{joined}。" if campaign.language == "zh" else f"To cancel, {joined}."


def _trial(campaign: CampaignFile) -> str:
    if not campaign.trial_days:
        return ""
    if campaign.language == "zh":
        return f"免费体验{campaign.trial_days}天。"
    return f"Free trial for {campaign.trial_days} days. "


def build_prompt(campaign: CampaignFile, template: str | None) -> Prompt:
    """The campaign's prompt from the language's template in models/models.yaml."""
    initial = ""
    if template:
        initial = template.format(
            company=campaign.company,
            product=campaign.product,
            price=_price(campaign),
            trial=_trial(campaign),
            cancel=_cancel(campaign),
        ).strip()
    codes = [m.code for m in campaign.cancel_methods if m.code]
    numbers = [m.number for m in campaign.cancel_methods if m.number]
    words = dict.fromkeys([campaign.product, campaign.company, *codes, *numbers])
    return Prompt(initial, " ".join(w for w in words if w))
