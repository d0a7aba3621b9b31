"""Campaign facts in language packs and forbidden-phrase rules.

A pack's patterns name facts that belong to the campaigns, not to the language (the company the
agent represents, the products' key words, the hotline, the SMS code) with a placeholder such as
`{=company_short}`. At load time each placeholder becomes the facts of every campaign of that
language, so a new operator's campaign works without touching `rules/languages/` or
`rules/forbidden/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from qa_pipeline.ruleset.schema import CampaignFile, Pattern

PLACEHOLDER = re.compile(r"\{=(\w+)\}")
NEVER = "(?!)"  # a fact no campaign has: the pattern cannot match


def _sms(campaign: CampaignFile, field: str) -> list[str]:
    return [getattr(m, field) for m in campaign.cancel_methods if m.kind == "sms"]


# Fact name -> what it is in a campaign file.
FACTS: dict[str, Callable[[CampaignFile], Sequence[str]]] = {
    "company": lambda c: [c.company],
    "company_short": lambda c: c.company_short or [c.company],
    "product": lambda c: [c.product],
    "key_terms": lambda c: c.key_terms,
    "hotline": lambda c: [m.number for m in c.cancel_methods if m.kind == "hotline" and m.number],
    "sms_code": lambda c: _sms(c, "code"),
    "sms_number": lambda c: _sms(c, "number"),
}


@dataclass(frozen=True)
class CampaignFacts:
    values: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, campaigns: Iterable[CampaignFile]) -> CampaignFacts:
        found: dict[str, dict[str, None]] = {name: {} for name in FACTS}
        for campaign in campaigns:
            for name, read in FACTS.items():
                found[name].update(dict.fromkeys(v for v in read(campaign) if v))
        return cls({name: tuple(values) for name, values in found.items()})

    def problems(self, key: str, texts: Sequence[str]) -> list[str]:
        """Unknown placeholders, with the valid ones."""
        return [
            f"{key}.{i}: unknown campaign fact {{={name}}}; valid: {sorted(FACTS)}"
            for i, text in enumerate(texts)
            for name in PLACEHOLDER.findall(text)
            if name not in FACTS
        ]

    def pattern(self, pattern: str) -> str:
        """A regular expression with each placeholder as an alternation of its facts, written
        as the normalized view reads them (lower case); a `Pattern` keeps its examples."""

        def alternation(match: re.Match[str]) -> str:
            values = self.values.get(match.group(1), ())
            if not values:
                return NEVER
            return "(?:" + "|".join(re.escape(v.lower()) for v in values) + ")"

        filled = PLACEHOLDER.sub(alternation, pattern)
        return pattern.with_regex(filled) if isinstance(pattern, Pattern) else filled

    def patterns(self, patterns: Sequence[str]) -> list[str]:
        return [self.pattern(p) for p in patterns]

    def terms(self, terms: Sequence[str]) -> list[str]:
        """Key words, a placeholder entry standing for all of its facts (lower case, as the
        normalized view reads them)."""
        expanded: list[str] = []
        for term in terms:
            whole = PLACEHOLDER.fullmatch(term)
            facts = self.values.get(whole.group(1), ()) if whole else (term,)
            expanded += [v.lower() for v in facts] if whole else [term]
        return expanded
