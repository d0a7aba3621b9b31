"""Calls and their segments, turns and clauses: the text the checks read."""
