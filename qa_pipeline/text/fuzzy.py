"""String similarity (adapter over rapidfuzz)."""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein


def similarity(a: str, b: str) -> float:
    """Normalized edit similarity in 0..1."""
    return float(Levenshtein.normalized_similarity(a, b))


def partial_ratio(a: str, b: str) -> float:
    """0..100: how well the shorter string matches its best-aligned part of the longer."""
    return float(fuzz.partial_ratio(a, b))


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions and substitutions that turn `a` into `b`."""
    return int(Levenshtein.distance(a, b))
