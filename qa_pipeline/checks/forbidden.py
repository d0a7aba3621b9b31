"""Forbidden phrases (服务忌语) in the agent's speech, as verbatim spans with a category."""

from __future__ import annotations

import itertools
import re

from qa_pipeline.checks.context import CallContext, Sentence
from qa_pipeline.checks.registry import register
from qa_pipeline.ruleset.loader import CompiledForbiddenRule
from qa_pipeline.verdict.model import ForbiddenFinding

_CLAUSE = re.compile(r"[^，,。！？!?；;:：]+")
# Unpunctuated ASR text reads as one long clause; a span quoting all of it says little. Such a
# clause is cut again where speech turns: a space between Chinese phrases, an English "and",
# "but", "so" ... (the cue word starts the next piece).
_SOFT = {
    "zh": re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"),
    "en": re.compile(r"\s+(?=(?:and|but|so|because|honestly|anyway|plus|okay|look)\b)"),
}
_LONG = {"zh": 14, "en": 60}  # characters: a clause this long is cut at soft boundaries
# A conditional clause just before a threat belongs to it ("您不开的话，号码会被限制").
_CONDITION = re.compile(r"(?:的话|^\s*(?:如果|要是|假如))|^\s*(?:if|unless)\b")
_TRIM = " \t.。!！?？,，"


_ATTITUDE = frozenset({"arguing", "dismissive"})


def _family(rule: CompiledForbiddenRule) -> str:
    category = rule.spec.category
    return "attitude" if category in _ATTITUDE else category


def _clauses(text: str, language: str) -> list[tuple[int, int]]:
    clauses = []
    soft, long = _SOFT.get(language), _LONG.get(language, 10**6)
    for match in _CLAUSE.finditer(text):
        if not match.group(0).strip():
            continue
        start, end = match.span()
        if soft is None or end - start < long:
            clauses.append((start, end))
            continue
        cuts = [start, *(m.start() for m in soft.finditer(text, start, end)), end]
        clauses += [(a, b) for a, b in itertools.pairwise(cuts) if text[a:b].strip()]
    return clauses


def _applies(rule: CompiledForbiddenRule, clause: str, paid: bool) -> bool:
    if rule.spec.when == "paid_product" and not paid:
        return False
    return not (rule.unless and rule.unless.search(clause))


def _sentence_findings(
    sentence: Sentence, rules: tuple[CompiledForbiddenRule, ...], paid: bool
) -> list[ForbiddenFinding]:
    # Clause positions come from the verbatim text (spans are quoted as said); each clause is
    # matched in its repaired view (面费 -> 免费, "wont" -> "won't", 一分 -> 1分).
    text, view = sentence.text, sentence.surface
    clauses = _clauses(view, sentence.language)
    matched: list[tuple[int, CompiledForbiddenRule]] = []
    for index, (start, end) in enumerate(clauses):
        clause = sentence.pack.view(text[start:end])
        rule = next(
            (r for r in rules if r.pattern.search(clause) and _applies(r, clause, paid)), None
        )
        if rule is not None:
            matched.append((index, rule))
    findings: list[ForbiddenFinding] = []
    i = 0
    while i < len(matched):
        first, rule = matched[i]
        last = first
        # Adjacent clauses of one category are one phrase ("永久免费的，不收任何费用"); so are
        # impatience and blame, and blame decides ("我都说了三遍了，您到底有没有在听").
        while (
            i + 1 < len(matched)
            and matched[i + 1][0] == last + 1
            and _family(matched[i + 1][1]) == _family(rule)
        ):
            i += 1
            last = matched[i][0]
            if matched[i][1].spec.category == "arguing":
                rule = matched[i][1]
        if (
            first > 0
            and rule.spec.category == "threat"
            and _CONDITION.search(view[slice(*clauses[first - 1])])
        ):
            first -= 1
        span = text[clauses[first][0] : clauses[last][1]].strip(_TRIM)
        findings.append(
            ForbiddenFinding(
                rule.spec.category,
                span,
                sentence.start,
                sentence.end,
                sentence.speaker,
                rule.spec.id,
            )
        )
        i += 1
    return findings


@register("forbidden_phrases.v1", "forbidden")
def forbidden_phrases(ctx: CallContext, params: object) -> tuple[ForbiddenFinding, ...]:
    """Agent speech only; a rule may be exempt in some clauses (a trial-qualified "free") and
    may apply only to paid products (a "free" claim is misleading only when it is not)."""
    paid = ctx.campaign.price.amount > 0
    rules = ctx.pack.forbidden
    screen = ctx.pack.forbidden_any
    return tuple(
        finding
        for turn in ctx.agent_turns()
        for sentence in turn.sentences
        if screen.search(sentence.norm)
        for finding in _sentence_findings(sentence, rules, paid)
    )
