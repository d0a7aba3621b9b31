"""Small helpers the checks share."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from qa_pipeline.checks.context import Sentence, Turn
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.verdict.model import Evidence, Item
from qa_pipeline.verdict.reasons import Reason

Found = tuple[Turn, Sentence, Hit]


def first_hit(
    turns: Iterable[Turn], lexicon: str, keep: Callable[[Sentence, Hit], bool] | None = None
) -> Found | None:
    """The first hit of `lexicon` in `turns` (that `keep` keeps), with its turn and sentence."""
    for turn in turns:
        for sentence in turn.sentences:
            for hit in sentence.hits(lexicon):
                if keep is None or keep(sentence, hit):
                    return turn, sentence, hit
    return None


def quote(found: Found) -> str:
    return f"“{found[1].text}”"


def item(passed: bool | None, evidence: Iterable[Evidence], key: str, **params: object) -> Item:
    """An item decided for the reason `key` (verdict/reason_text), its English text rendered."""
    why = Reason.of(key, **params)
    return Item(passed, tuple(evidence), why.text(), why=why)
