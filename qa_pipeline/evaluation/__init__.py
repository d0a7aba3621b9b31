"""Scoring results against labels.jsonl (`qa-pipeline eval`)."""
