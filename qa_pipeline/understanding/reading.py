"""What the model read in one sentence: a probability distribution per task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Side = str  # "agent" or "customer": whose sentences a task reads


@dataclass(frozen=True, slots=True)
class Distribution:
    labels: tuple[str, ...]
    probs: tuple[float, ...]

    def best(self) -> tuple[str, float]:
        top = max(self.probs)
        return self.labels[self.probs.index(top)], top  # the first of equals, as max's key

    def p(self, label: str) -> float:
        return self.probs[self.labels.index(label)] if label in self.labels else 0.0

    def best_together(self, together: Sequence[Sequence[str]]) -> tuple[str, float]:
        """The likeliest label, each counted with the labels it is grouped with (`together`:
        labels that mean the same to the checks): yes 0.45 and go_ahead 0.40 agree at 0.85,
        read as the likelier of the two. Labels in no group stand alone."""
        if not together:
            return self.best()
        mass = dict(zip(self.labels, self.probs, strict=True))
        best_label, best_p = self.best()
        for group in together:
            present = [label for label in group if label in mass]
            if not present:
                continue
            total = sum(mass[label] for label in present)
            if total > best_p:
                best_label, best_p = max(present, key=mass.__getitem__), total
        return best_label, best_p

    def against(self, label: str) -> tuple[str, float]:
        """The likeliest label other than `label`, with all the probability not on `label`:
        a line read 0.45 arguing and 0.40 dismissive is rude at 0.85, though no one category
        reaches that."""
        index = max(
            (i for i, name in enumerate(self.labels) if name != label),
            key=self.probs.__getitem__,
        )
        return self.labels[index], 1.0 - self.p(label)


@dataclass(frozen=True, slots=True)
class Reading:
    """A sentence's distributions by task (identity, reply, ..., act.price)."""

    tasks: Mapping[str, Distribution]

    def best(self, task: str, together: Sequence[Sequence[str]] = ()) -> tuple[str, float] | None:
        found = self.tasks.get(task)
        return found.best_together(together) if found is not None else None
