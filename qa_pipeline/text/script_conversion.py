"""Traditional <-> simplified Chinese (adapter over OpenCC, the official C++ library).

Whisper writes Mandarin in traditional characters in whole stretches. OpenCC converts by phrase
and character, a few microseconds a sentence, so every text goes through it.
"""

from __future__ import annotations

from functools import cache

from opencc import OpenCC


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def to_simplified(text: str) -> str:
    return str(_converter("t2s").convert(text))


def to_traditional(text: str) -> str:
    """For the noise generator: the variants Whisper produces."""
    return str(_converter("s2t").convert(text))
