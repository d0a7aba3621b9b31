"""A recording call heard: decode and join its legs, find speech per channel, transcribe
(unless a sidecar gives the segments), split speakers by channel or diarization, and measure
the audio signals. Models load lazily; the ASR model once per process (`whisper.shared`), so
the chunks a Dask worker judges one after another share it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qa_pipeline.asr.model_config import ModelsConfig, load_models_config
from qa_pipeline.asr.prompt import Prompt, build_prompt
from qa_pipeline.asr.transcribe import AsrInfo, AsrRun, CallAudio, transcribe_calls
from qa_pipeline.asr.whisper import AsrOptions, Transcriber, shared
from qa_pipeline.audio.decode import Audio, decode
from qa_pipeline.audio.signals import AudioSignals, audio_signals
from qa_pipeline.audio.vad import SpeechRegion, VadSettings, speech_regions
from qa_pipeline.diarize.turns import (
    CHANNEL_NAMES,
    SpeakerTurn,
    channel_segments,
    speaker_activity,
    speaker_channels,
)
from qa_pipeline.errors import AudioFileError, UnknownCampaignError
from qa_pipeline.ingest.model import Call, Segment
from qa_pipeline.ingest.recordings import RecordingCall, call_metadata, cdr_warnings
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.transcript.cleanup import Cleaner
from qa_pipeline.transcript.roles import assign_roles
from qa_pipeline.verdict.model import SuspectSpan

Diarize = Callable[[Audio], Sequence[SpeakerTurn]]
Hook = Callable[[str, object], None]


def _no_hook(step: str, artifact: object) -> None:
    return None


@dataclass(frozen=True)
class Heard:
    call: Call
    asr: AsrInfo | None
    audio: AudioSignals
    review_flags: tuple[str, ...]
    recordings: tuple[str, ...]
    warnings: tuple[str, ...] = ()  # input problems that did not stop judging
    suspects: tuple[SuspectSpan, ...] = ()  # speech the ASR may have lost (asr_suspect)


@dataclass(frozen=True)
class _Opened:
    """A recording decoded and its speech found: what hearing it needs before ASR."""

    recording: RecordingCall
    audio: Audio
    call: Call
    decoding: tuple[str, Prompt] | None  # language and prompt; None: a sidecar transcript
    turns: tuple[SpeakerTurn, ...]  # diarized speakers of a mono call
    speech: CallAudio  # what the ASR hears: the channels, or a mono call's speakers apart
    speakers: tuple[str, ...]  # the speaker of each channel of `speech`


def _attempt(step: Callable[..., Heard | _Opened], *args: Any) -> Any:
    """`step(*args)`, or the exception it raised: one call's failure stays its own."""
    try:
        return step(*args)
    except Exception as exc:
        return exc


def join_legs(legs: Sequence[Audio]) -> Audio:
    """The legs of a transferred call, end to end in time order."""
    if len(legs) == 1:
        return legs[0]
    counts = {len(leg.channels) for leg in legs}
    if len(counts) > 1:
        raise AudioFileError(legs[0].path, "the call's legs mix mono and stereo recordings")
    channels = tuple(np.concatenate([leg.channels[c] for leg in legs]) for c in range(counts.pop()))
    truncated = any(leg.truncated for leg in legs)
    return Audio(legs[0].path, legs[0].sample_rate, channels, legs[0].source_rate, truncated)


class Listener:
    """Recording -> transcript. Steps report through `hook(step, artifact)`: "decode" (the
    audio), "vad" (speech regions per channel), "diarize" (mono speaker turns), "asr" (the words
    of a group of calls), "signals" (the audio signals)."""

    def __init__(
        self,
        ruleset: Ruleset,
        asr: AsrOptions | None = None,
        models: ModelsConfig | None = None,
        diarization: str | None = None,
        vad: VadSettings | None = None,
        hook: Hook | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.hook: Hook = hook or _no_hook
        self.asr_options = asr or AsrOptions()
        self.models = models or load_models_config()
        # --diarization names a pyannote pipeline; without it models.yaml decides the kind
        self.diarization = diarization
        self.vad = vad or VadSettings()
        self._languages = {cid: c.language for cid, c in ruleset.campaigns.items()}
        self._transcriber: Transcriber | None = None
        self._cleaner = Cleaner(ruleset.cleanup)  # loops would inflate the speech rate
        self._diarizer: Diarize | None = None

    def asr_fingerprint(self) -> str:
        """What, besides the audio, decides the transcript: a changed model re-hears calls, and
        so do the quality gate, the packing, the regions' context and the beam (calls heard
        before them are heard again)."""
        options, asr = self.asr_options, self.models.file.asr
        model = options.model or asr.default
        gate = "" if options.quality is None else "|gate"
        packing = ""
        for language in sorted(set(self._languages.values())):  # each campaign language's own
            chosen = options.packing_for(asr, language)
            packing += f"|{language}:{chosen.mode}" + (f"+{chosen.pad_s:g}" if chosen.pad_s else "")
            packing += f"/beam{chosen.beam_size}" if chosen.beam_size > 1 else ""
        return model + gate + packing

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = shared(self.asr_options, self.models)
        return self._transcriber

    def diarizer(self) -> Diarize:
        if self._diarizer is None:
            config = self.models.file.diarization
            if self.diarization is None and config.kind == "embedding":
                from qa_pipeline.diarize.embedding import EmbeddingDiarizer

                assert config.speaker_encoder is not None  # models.yaml is validated
                folder = self.models.speaker_encoder_dir(config.speaker_encoder)
                self._diarizer = EmbeddingDiarizer(folder, self.vad)
            else:
                from qa_pipeline.diarize.pyannote import Diarizer

                source = self.diarization or config.pipeline
                self._diarizer = Diarizer(source, self.models.diarization_dir)
        return self._diarizer

    def hear(self, recording: RecordingCall) -> Heard:
        heard = self.hear_group([recording])[0]
        if isinstance(heard, Exception):
            raise heard
        return heard

    def hear_group(self, recordings: Sequence[RecordingCall]) -> list[Heard | Exception]:
        """Hear several calls, their speech decoded in shared windows (calls of one language
        and prompt together). A call that cannot be heard gets its exception, in its place;
        the others go on."""
        opened: list[_Opened | Exception] = [_attempt(self._open, r) for r in recordings]
        runs: dict[int, tuple[AsrRun, AsrInfo] | Exception] = {}
        for (language, prompt), group in self._asr_groups(opened).items():
            runs |= self._transcribe(group, language, prompt)
        return [
            o if isinstance(o, Exception) else _attempt(self._finish, o, runs.get(n))
            for n, o in enumerate(opened)
        ]

    def _open(self, recording: RecordingCall) -> _Opened:
        """Decoded, with its speech found (and, for a mono call to transcribe, its speakers)."""
        audio = join_legs([decode(leg) for leg in recording.legs])
        self.hook("decode", audio)
        call, has_segments = call_metadata(recording, audio.duration_s, self._languages)
        regions = tuple(speech_regions(audio, c, self.vad) for c in range(len(audio.channels)))
        self.hook("vad", regions)
        if not has_segments and not any(regions):
            raise AudioFileError(audio.path, "no speech found in any channel (silent recording)")
        by_channel = CallAudio(audio, regions)
        if has_segments:
            return _Opened(recording, audio, call, None, (), by_channel, self._speakers())
        decoding = self._decoding(call)
        turns = tuple(self.diarizer()(audio)) if len(audio.channels) == 1 else ()
        if not turns:
            return _Opened(recording, audio, call, decoding, (), by_channel, self._speakers())
        self.hook("diarize", turns)
        speakers, apart = speaker_channels(audio, turns)  # heard from here on as stereo is
        tracks = tuple(speech_regions(apart, c, self.vad) for c in range(len(speakers)))
        return _Opened(recording, audio, call, decoding, turns, CallAudio(apart, tracks), speakers)

    def _decoding(self, call: Call) -> tuple[str, Prompt]:
        """The language and prompt a call is decoded with (its campaign's)."""
        campaign = self.ruleset.campaigns.get(call.campaign)
        if campaign is None:
            raise UnknownCampaignError(call.campaign, self.ruleset.campaigns)
        prompt = build_prompt(campaign, self.models.file.asr.prompts.get(campaign.language))
        return campaign.language, prompt

    @staticmethod
    def _asr_groups(
        opened: Sequence[_Opened | Exception],
    ) -> dict[tuple[str, Prompt], list[tuple[int, _Opened]]]:
        """Calls to transcribe, by the decode options they share."""
        groups: dict[tuple[str, Prompt], list[tuple[int, _Opened]]] = {}
        for n, o in enumerate(opened):
            if not isinstance(o, Exception) and o.decoding is not None:
                groups.setdefault(o.decoding, []).append((n, o))
        return groups

    def _transcribe(
        self, group: Sequence[tuple[int, _Opened]], language: str, prompt: Prompt
    ) -> dict[int, tuple[AsrRun, AsrInfo] | Exception]:
        try:
            model = self.transcriber()
            packing = self.asr_options.packing_for(self.models.file.asr, language)
            runs = transcribe_calls(
                [o.speech for _, o in group], model, language, prompt,
                self.asr_options.quality, packing.mode, packing.pad_s, packing.beam_size,
            )  # fmt: skip
        except Exception as exc:  # the model failed: every call of the group says why
            return {n: exc for n, _ in group}
        self.hook("asr", runs)
        return {
            n: (run, AsrInfo(model.name, language, run.windows, run.speech_s, model.device,
                             model.compute_type, run.packed_calls, run.retried_regions,
                             run.suspects))
            for (n, _), run in zip(group, runs, strict=True)
        }  # fmt: skip

    def _finish(
        self, opened: _Opened, transcribed: tuple[AsrRun, AsrInfo] | Exception | None
    ) -> Heard:
        if isinstance(transcribed, Exception):
            raise transcribed
        call, audio, turns = opened.call, opened.audio, opened.turns
        stereo = len(audio.channels) == 2
        speakers = self._speakers()
        asr: AsrInfo | None = None
        if transcribed is None:
            segments = call.segments
        else:
            run, asr = transcribed
            segments = channel_segments(run.words, opened.speech.regions, opened.speakers)
        if stereo or turns:
            activity = {who: list(found) for who, found in
                        zip(opened.speakers, opened.speech.regions, strict=True)}  # fmt: skip
        else:
            activity = _segment_activity(segments)
        untrusted = self._untrusted(asr, speakers if stereo else None, tuple(activity))
        texts = {
            who: "".join(s.text for s in self._cleaner.clean(
                dataclasses.replace(call, segments=segments))[0].segments
                if s.speaker == who and not _inside(s, untrusted.get(who, ())))
            for who in activity
        }  # fmt: skip
        signals = audio_signals(
            activity, texts, audio.duration_s, call.language, self.ruleset.signals, untrusted
        )
        self.hook("signals", signals)
        contradicted = (
            stereo and asr and channel_map_contradicted(self.ruleset, call, segments, speakers)
        )
        flags: tuple[str, ...] = ("channel_map_contradicted",) if contradicted else ()
        if audio.truncated:  # a cut-off upload sounds like a cut-off customer: do not use it
            flags = (*flags, "truncated_recording")
        warnings = cdr_warnings(opened.recording)
        if warnings:
            flags = (*flags, "cdr_row_invalid")
        heard = dataclasses.replace(
            call, segments=segments, source=opened.recording.source,
            talking_at_end=None if audio.truncated else signals.talking_at_end,
            heard_by=asr.model if asr else call.heard_by,
        )  # fmt: skip
        legs = tuple(str(p) for p in opened.recording.legs)
        suspects = tuple(
            SuspectSpan(speakers[s.channel] if stereo else None, s.start, s.end, s.reason)
            for s in (asr.suspects if asr else ())
        )
        return Heard(heard, asr, signals, flags, legs, warnings, suspects)

    @staticmethod
    def _untrusted(
        asr: AsrInfo | None, speakers: tuple[str, str] | None, heard: tuple[str, ...]
    ) -> dict[str, list[SpeechRegion]]:
        """Suspect regions per speaker. Stereo: the suspect's channel is its speaker. Mono: a
        suspect is a stretch of time whoever spoke in it, so it is untrusted for every speaker
        (audio_signals counts only each speaker's own seconds inside it)."""
        found: dict[str, list[SpeechRegion]] = {}
        if asr is None:
            return found
        for suspect in asr.suspects:
            region = SpeechRegion(suspect.start, suspect.end)
            for who in (speakers[suspect.channel],) if speakers else heard:
                found.setdefault(who, []).append(region)
        return found

    def _speakers(self) -> tuple[str, str]:
        """Channel 0's and channel 1's role, as configured."""
        if self.ruleset.roles.channels.agent_channel == "left":
            return ("agent", "customer")
        return ("customer", "agent")


def channel_map_contradicted(
    ruleset: Ruleset, call: Call, segments: Sequence[Segment], speakers: Sequence[str]
) -> bool:
    """Whether what each channel says contradicts the configured channel map: roles assigned
    from content alone put the agent on the other channel, confidently."""
    pack = ruleset.languages.get(call.language)
    if pack is None or len({s.speaker for s in segments}) < 2:
        return False
    by_channel = {speakers[0]: CHANNEL_NAMES[0], speakers[1]: CHANNEL_NAMES[1]}
    anonymous = dataclasses.replace(
        call,
        segments=tuple(dataclasses.replace(s, speaker=by_channel[s.speaker]) for s in segments),
    )
    _, roles = assign_roles(anonymous, pack, ruleset.roles)
    configured_agent = CHANNEL_NAMES[speakers.index("agent")]
    content_agent = next(label for label, role in roles.mapping.items() if role == "agent")
    sure = roles.confidence >= ruleset.roles.channels.contradiction_confidence
    return content_agent != configured_agent and sure


def _inside(segment: Segment, regions: Sequence[SpeechRegion]) -> bool:
    return any(r.start < segment.end and segment.start < r.end for r in regions)


def _segment_activity(segments: Sequence[Segment]) -> dict[str, list[SpeechRegion]]:
    """Who spoke when, from a sidecar's segments (mono calls that came with a transcript)."""
    return speaker_activity([SpeakerTurn(s.speaker, s.start, s.end) for s in segments])
