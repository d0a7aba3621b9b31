"""Judging: a transcript becomes a verdict (cleanup, roles, turns, every check)."""
