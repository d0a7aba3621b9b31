"""Views of a piece of transcript text.

`surface` keeps every character's position (half-width, lower case) so spans found in it are
verbatim spans of the original; a language's `digitize` then turns spoken numbers into digits,
for entity extraction and lexicon matching (qa_pipeline.languages).
"""

from __future__ import annotations

_HALFWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def surface(text: str) -> str:
    """Full-width ASCII to half-width, lower case; same length as `text`."""
    converted = text.translate(_HALFWIDTH)
    lowered = converted.lower()
    return lowered if len(lowered) == len(converted) else converted
