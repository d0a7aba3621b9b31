"""Prefect flows: the scheduled form of `qa-pipeline run`."""
