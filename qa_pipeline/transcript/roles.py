"""Which speaker is the agent: from the labels when they say so, else from what each speaker
says (the opening with company and employee number, who asks the identity, permission and
consent questions, who books the sale) and who speaks first. Low confidence is a flag for
review, never a silent guess."""

from __future__ import annotations

import dataclasses
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from qa_pipeline.errors import RoleAssignmentError
from qa_pipeline.ingest.model import ROLES, Call
from qa_pipeline.ruleset.loader import LanguagePack
from qa_pipeline.ruleset.schema import RolesFile


@dataclass(frozen=True, slots=True)
class RoleAssignment:
    source: Literal["labels", "content"]
    confidence: float
    mapping: Mapping[str, str]
    scores: Mapping[str, float]
    low_confidence: bool


def _scores(call: Call, pack: LanguagePack, spec: RolesFile) -> dict[str, float]:
    scores: dict[str, float] = defaultdict(float)
    for segment in call.segments:
        text = pack.view(segment.text)
        for act, weight in spec.agent_acts.items():
            if pack.lexicons[act].find(text):
                scores[segment.speaker] += weight
        for act, weight in spec.customer_acts.items():
            if pack.lexicons[act].find(text):
                scores[segment.speaker] -= weight
    first = min(call.segments, key=lambda s: s.start).speaker
    scores[first] += spec.first_speaker_bonus
    return dict(scores)


def assign_roles(call: Call, pack: LanguagePack, spec: RolesFile) -> tuple[Call, RoleAssignment]:
    labels = sorted({s.speaker for s in call.segments})
    if set(labels) <= set(ROLES):
        identity = {label: label for label in labels}
        return call, RoleAssignment("labels", 1.0, identity, {}, False)
    if len(labels) < 2:
        raise RoleAssignmentError(call.source or call.call_id, labels)
    scores = _scores(call, pack, spec)
    ranked = sorted(labels, key=lambda label: scores.get(label, 0.0), reverse=True)
    margin = scores.get(ranked[0], 0.0) - scores.get(ranked[1], 0.0)
    # Saturating in the margin: a few agent acts more than the other speaker is near-certain.
    confidence = round(1 - math.exp(-margin / spec.confidence_scale), 3)
    mapping = {label: ("agent" if label == ranked[0] else "customer") for label in labels}
    relabeled = tuple(dataclasses.replace(s, speaker=mapping[s.speaker]) for s in call.segments)
    assignment = RoleAssignment(
        "content", confidence, mapping, scores, confidence < spec.min_confidence
    )
    ended = call.talking_at_end
    if ended is not None:
        ended = tuple(sorted(mapping.get(label, label) for label in ended))
    return dataclasses.replace(call, segments=relabeled, talking_at_end=ended), assignment
