"""Who ended the call: from the call-detail record when it says, else from the audio, else
from the transcript (whose "still speaking" reading the audio's silent end overrules)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.registry import hangup_check
from qa_pipeline.verdict.model import Evidence, HangupResult
from qa_pipeline.verdict.reasons import Reason


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


@hangup_check("agent_hung_up_first.v1", HangupParams, lexicons=("goodbye",))
def agent_hung_up_first(ctx: CallContext, params: HangupParams) -> HangupResult:
    """True when the agent ended the call before the customer was done. The CDR's hangup_by
    decides when present, else the audio (only the customer still talking at the end), else
    the transcript (ends while the customer is mid-sentence or waiting for an answer, or right
    after the agent's goodbye with no goodbye from the customer). Sources that disagree with
    the deciding one are listed in `disagreements`."""
    if not ctx.turns:
        return _hangup(None, "transcript", (), "hangup.empty")
    evidence = (ctx.turns[-1].evidence(),)
    found = [
        r
        for r in (_from_metadata(ctx, evidence), _from_audio(ctx, evidence))
        if r is not None and r.value is not None
    ]
    found.append(_from_transcript(ctx, params))
    decided = found[0]
    disagreements = tuple(
        f"{r.source}: {r.reason}"
        for r in found[1:]
        if r.value is not None and r.value != decided.value
    )
    return replace(decided, disagreements=disagreements) if disagreements else decided


@hangup_check("agent_hung_up_first.v2", HangupParams, lexicons=("goodbye",))
def agent_hung_up_first_v2(ctx: CallContext, params: HangupParams) -> HangupResult:
    """As agent_hung_up_first.v1, except that from the transcript a call whose last words are
    the agent's, broken off mid-sentence ("先生您好，耽误您一分钟，我们这边有个——", "Oh, okay,
    I'm sorry to have both-"), was ended by the customer: nobody hangs up on their own
    sentence."""
    found = agent_hung_up_first(ctx, params)
    if found.source != "transcript" or found.why is None or found.why.key != "hangup.agent_last":
        return found
    text = ctx.turns[-1].sentences[-1].text.rstrip()
    if text.endswith(_BROKEN) or _unfinished(ctx, text):
        # decided by the transcript, so no record or audio said otherwise: nothing disagrees
        return _hangup(False, "transcript", found.evidence, "hangup.agent_cut")
    return found


# A sentence broken off: a dash or an ellipsis where its end should be.
_BROKEN = (*_TRAILING, "–")


def _from_metadata(ctx: CallContext, evidence: tuple[Evidence, ...]) -> HangupResult | None:
    by = ctx.call.hangup_by
    if by is None:
        return None
    return _hangup(by == "agent", "metadata", evidence, "hangup.record", by=by)


def _from_audio(ctx: CallContext, evidence: tuple[Evidence, ...]) -> HangupResult | None:
    ended = ctx.call.talking_at_end
    if not ended or len(ended) != 1:
        return None  # no audio, nobody or both talking: the audio cannot tell
    if ended[0] == "customer":
        return _hangup(True, "audio", evidence, "hangup.audio_customer")
    return _hangup(False, "audio", evidence, "hangup.audio_agent")


def _from_transcript(ctx: CallContext, params: HangupParams) -> HangupResult:
    call = ctx.call
    last = ctx.turns[-1]
    evidence = (last.evidence(),)
    if last.speaker == "customer":
        if last.has("goodbye"):
            return _hangup(False, "transcript", evidence, "hangup.customer_goodbye")
        text = last.sentences[-1].text.rstrip()
        cut = (
            last.end >= call.duration_s - params.cut_off_s
            or text.endswith(_TRAILING)
            or _unfinished(ctx, text)
        )
        # The audio outranks the words about the last seconds: a recording that ends in
        # silence cut nobody off, however garbled the last words came out of ASR.
        if cut and call.talking_at_end == ():
            return _hangup(False, "audio", evidence, "hangup.silent_end")
        if cut:
            return _hangup(True, "transcript", evidence, "hangup.customer_cut")
        if last.sentences[-1].is_question:
            return _hangup(True, "transcript", evidence, "hangup.customer_waiting")
        return _hangup(False, "transcript", evidence, "hangup.customer_last")
    customer_bye = any(t.has("goodbye") for t in ctx.customer_turns() if t.index >= last.index - 1)
    if customer_bye:
        return _hangup(False, "transcript", evidence, "hangup.both_goodbye")
    return _hangup(True, "transcript", evidence, "hangup.agent_last")


def _hangup(
    value: bool | None,
    source: Literal["metadata", "transcript", "audio"],
    evidence: tuple[Evidence, ...],
    key: str,
    **params: object,
) -> HangupResult:
    why = Reason.of(key, **params)
    return HangupResult(value, source, evidence, why.text(), why=why)
