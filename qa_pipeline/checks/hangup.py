"""Who ended the call: from the call-detail record when it says, else from the transcript."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.registry import register
from qa_pipeline.verdict.model import HangupResult


class HangupParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    cut_off_s: float = Field(
        0.1, ge=0, description="a last segment ending this close to the recording's end was cut off"
    )


_TRAILING = ("…", "-", "—", "...")
_TERMINAL = tuple("。！？!?.…-—~")


def _unfinished(ctx: CallContext, text: str) -> bool:
    """A punctuated transcript whose last sentence has no end mark was cut mid-sentence."""
    punctuated = all(
        s.text.rstrip().endswith(_TERMINAL) for t in ctx.turns[:-1] for s in t.sentences[-1:]
    )
    return punctuated and not text.endswith(_TERMINAL)


@register("agent_hung_up_first.v1", "hangup", HangupParams)
def agent_hung_up_first(ctx: CallContext, params: HangupParams) -> HangupResult:
    """True when the agent ended the call before the customer was done: the CDR's hangup_by,
    else a transcript that ends while the customer is mid-sentence or waiting for an answer,
    or right after the agent's goodbye with no goodbye from the customer."""
    call = ctx.call
    if not ctx.turns:
        return HangupResult(None, "transcript", (), "the transcript is empty")
    last = ctx.turns[-1]
    evidence = (last.evidence(),)
    if call.hangup_by is not None:
        return HangupResult(
            call.hangup_by == "agent",
            "metadata",
            evidence,
            f"the call record says the {call.hangup_by} hung up",
        )
    if last.speaker == "customer":
        if last.has("goodbye"):
            return HangupResult(False, "transcript", evidence, "the customer said the last goodbye")
        text = last.sentences[-1].text.rstrip()
        cut = (
            last.end >= call.duration_s - params.cut_off_s
            or text.endswith(_TRAILING)
            or _unfinished(ctx, text)
        )
        if cut:
            return HangupResult(
                True, "transcript", evidence, "the call ended while the customer was still speaking"
            )
        if last.sentences[-1].is_question:
            return HangupResult(
                True,
                "transcript",
                evidence,
                "the call ended while the customer waited for an answer",
            )
        return HangupResult(
            False, "transcript", evidence, "the customer spoke last and ended the call"
        )
    customer_bye = any(t.has("goodbye") for t in ctx.customer_turns() if t.index >= last.index - 1)
    if customer_bye:
        return HangupResult(False, "transcript", evidence, "both sides said goodbye")
    return HangupResult(
        True,
        "transcript",
        evidence,
        "the call ended right after the agent spoke, without the customer's goodbye",
    )
