"""What the model read in one sentence: a probability distribution per task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Side = str  # "agent" or "customer": whose sentences a task reads


@dataclass(frozen=True, slots=True)
class Distribution:
    labels: tuple[str, ...]
    probs: tuple[float, ...]

    def best(self) -> tuple[str, float]:
        index = max(range(len(self.probs)), key=self.probs.__getitem__)
        return self.labels[index], self.probs[index]

    def p(self, label: str) -> float:
        return self.probs[self.labels.index(label)] if label in self.labels else 0.0


@dataclass(frozen=True, slots=True)
class Reading:
    """A sentence's distributions by task (identity, reply, ..., act.price)."""

    tasks: Mapping[str, Distribution]

    def best(self, task: str) -> tuple[str, float] | None:
        found = self.tasks.get(task)
        return found.best() if found is not None else None
