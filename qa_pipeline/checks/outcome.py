"""What happened on the call: a sale, a declined pitch, or no pitch at all."""

from __future__ import annotations

from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.registry import outcome_check
from qa_pipeline.verdict.model import Evidence, Outcome, OutcomeResult
from qa_pipeline.verdict.reasons import Reason


@outcome_check("call_outcome.v1", lexicons=("sale_confirmed",))
def call_outcome(ctx: CallContext, params: object) -> OutcomeResult:
    """sale when the agent says the service has been or will be opened (a statement, not a
    question); declined when a pitch was made without that; no_pitch otherwise."""
    if ctx.bookings:
        last = ctx.bookings[-1][0].index  # the last turn that books it, its first booking
        _, sentence, hit = next(b for b in ctx.bookings if b[0].index == last)
        return _outcome("sale", (sentence.hit_evidence(hit),))
    pitch = ctx.pitch_start
    if pitch is not None:
        return _outcome("declined", (pitch.evidence(),))
    return _outcome("no_pitch", ())


def _outcome(value: Outcome, evidence: tuple[Evidence, ...]) -> OutcomeResult:
    why = Reason.of(f"outcome.{value}")
    return OutcomeResult(value, evidence, why.text(), why)
