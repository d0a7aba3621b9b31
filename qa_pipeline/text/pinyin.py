"""Toneless pinyin per character (adapter over pypinyin), cached: ASR homophone errors
(体验期 -> 体验七, 退订 -> 退定) keep the syllables, so comparing syllables finds them."""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=65536)
def syllable(char: str) -> str:
    """The character's default reading without tone; non-Chinese characters map to themselves."""
    return lazy_pinyin(char, style=Style.NORMAL, errors="default")[0]
