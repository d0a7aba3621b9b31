"""Text views, numbers, entities and compiled lexicons used by the checks."""
