"""Traditional -> simplified Chinese (adapter over OpenCC, the pure-Python port).

Whisper writes Mandarin in traditional characters in whole stretches. OpenCC converts by
phrase and character; it is slow per call, so text is first screened against the set of
characters OpenCC would change, and most (already simplified) text skips it.
"""

from __future__ import annotations

import os
from functools import cache

from opencc import OpenCC


@cache
def _converter() -> OpenCC:
    return OpenCC("t2s")


@cache
def _traditional_chars() -> frozenset[str]:
    import opencc

    path = os.path.join(os.path.dirname(opencc.__file__), "dictionary", "TSCharacters.txt")
    chars = set()
    with open(path, encoding="utf-8") as table:
        for line in table:
            source, _, targets = line.rstrip("\n").partition("\t")
            if source and targets.split(" ")[0] != source:
                chars.add(source)
    return frozenset(chars)


def has_traditional(text: str) -> bool:
    # A set test in C; a regex class of 4,000 CJK characters is ten times slower.
    return not _traditional_chars().isdisjoint(text)


def to_simplified(text: str) -> str:
    return str(_converter().convert(text)) if has_traditional(text) else text


def to_traditional(text: str) -> str:
    """For the noise generator: the variants Whisper produces."""
    return str(_s2t().convert(text))


@cache
def _s2t() -> OpenCC:
    return OpenCC("s2t")
