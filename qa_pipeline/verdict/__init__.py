"""Verdict objects and the engine that produces them."""
