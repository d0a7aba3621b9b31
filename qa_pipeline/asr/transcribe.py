"""Transcribe decoded recordings: pack the speech of every channel of one or several calls into
shared 30-second windows, run Whisper over a few windows at a time (memory stays flat however
long the call), and map every word back to its call, channel and recording time.

Packing several calls together is what makes encoder work follow speech seconds: one call's
last window is rarely full, and the next call's speech fills it.

No speech is lost silently: every decoded window and every speech region in it is measured
(quality.py). A poor window, or one with two poor regions (an early end of text), is decoded
again whole, once, without the prompt and with timestamps (`Transcriber.decode_alone`: one
encoder pass or two, where decoding each of its regions alone costs one per region); a region
whose own words are still poor after that, or the one poor region of a good window, is decoded
again by itself, and what is still poor becomes a `Suspect` with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qa_pipeline.asr.packing import (
    Order,
    Packing,
    PackingMode,
    Piece,
    QuietPoint,
    Window,
    pack,
)
from qa_pipeline.asr.prompt import Prompt
from qa_pipeline.asr.quality import (
    DEFAULT_GATE,
    QualityGate,
    Reading,
    better,
    compression_ratio,
    echo_problem,
    prompt_clauses,
    region_problem,
    window_problem,
)
from qa_pipeline.asr.whisper import Decoded, Transcriber, Word
from qa_pipeline.audio.decode import ASR_RATE, Audio
from qa_pipeline.audio.vad import SpeechRegion
from qa_pipeline.languages import get as get_language

MIN_POOR_REGIONS = 2  # poor regions in a window heard at rate that re-decode it whole
WINDOWS_PER_CALL = 16  # windows decoded per model call: bounds packed audio and features
_FRAME_S = 0.02


@dataclass(frozen=True, slots=True)
class ChannelWord:
    channel: int
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Suspect:
    """Speech of one channel the ASR may not have heard, even after decoding it again alone:
    where, and why (asr_suspect in the transcript, a review flag on the call)."""

    channel: int
    start: float
    end: float
    reason: str


@dataclass(frozen=True)
class AsrRun:
    """One call's words. `windows` is its share of the encoder windows of the calls decoded
    together: their windows in proportion to its seconds of speech, so the one part-filled
    window of a group is shared, not charged to whichever call ended up in it."""

    words: tuple[ChannelWord, ...]
    windows: float
    speech_s: float
    packed_calls: int  # calls whose speech shared this call's windows, itself included
    retried_regions: int = 0  # regions decoded again alone
    suspects: tuple[Suspect, ...] = ()


@dataclass(frozen=True)
class AsrInfo:
    model: str
    language: str
    encoder_windows: float  # this call's share of the windows it was decoded in
    speech_s: float
    device: str
    compute_type: str
    packed_calls: int  # calls decoded together in shared windows, this one included
    retried_regions: int = 0
    suspects: tuple[Suspect, ...] = ()


@dataclass(frozen=True)
class CallAudio:
    """A decoded call and its speech, `regions[c]` for channel c."""

    audio: Audio
    regions: Sequence[Sequence[SpeechRegion]]


@dataclass(frozen=True, slots=True)
class _Track:
    call: int
    channel: int
    audio: Audio


def quiet_point(tracks: Sequence[_Track]) -> QuietPoint:
    """The time of least energy in [lo, hi] on a track: where a long region is cut."""

    def find(track: int, lo: float, hi: float) -> float:
        audio = tracks[track].audio
        samples = audio.floats(tracks[track].channel, lo, hi)
        frame = max(1, int(_FRAME_S * audio.sample_rate))
        count = len(samples) // frame
        if count < 2:
            return hi
        energy = np.square(samples[: count * frame].reshape(count, frame)).mean(axis=1)
        return round(lo + (int(np.argmin(energy)) + 0.5) * _FRAME_S, 3)

    return find


def _packed_audio(tracks: Sequence[_Track], windows: Sequence[Window]) -> np.ndarray:
    origin = windows[0].start
    out = np.zeros(round((windows[-1].end - origin) * ASR_RATE) + 1, np.float32)
    for window in windows:
        for piece in window.pieces:
            track = tracks[piece.channel]
            samples = track.audio.floats(
                track.channel, piece.start - piece.lead, piece.end + piece.tail
            )
            at = round((piece.packed_start - piece.lead - origin) * ASR_RATE)
            out[at : at + len(samples)] = samples[: len(out) - at]
    return out


def _place(word: Word, origin: float, packing: Packing) -> tuple[Piece, Word] | None:
    """The piece a word of a decoded batch falls in, and the word in packed time."""
    piece: Piece | None = packing.locate(origin + (word.start + word.end) / 2)
    if piece is None or not word.text.strip():
        return None
    return piece, Word(origin + word.start, origin + word.end, word.text, word.probability)


def _in_recording(piece: Piece, word: Word, track: _Track) -> ChannelWord:
    return ChannelWord(
        track.channel,
        piece.to_recording(word.start),
        piece.to_recording(word.end),
        word.text,
        word.probability,
    )


@dataclass(frozen=True)
class _Redo:
    """A poor window decoded again whole: the decode, its words in their pieces, and its
    window-level problem (None when it heard the window)."""

    decoded: Decoded
    placed: list[tuple[Piece, Word]]
    problem: str | None


@dataclass
class _Hearing:
    """What one transcription run collects: words per call, retries and suspects."""

    language: str
    gate: QualityGate | None
    transcriber: Transcriber
    tracks: Sequence[_Track]
    words: list[list[ChannelWord]]
    suspects: list[list[Suspect]]
    retried: list[int]
    echoes: tuple[str, ...] = ()  # prompt clauses that, heard verbatim, may be copies
    beam_size: int | None = None  # of every decode; None: the transcriber's options

    def units(self, text: str) -> int:
        return get_language(self.language).speech_units(text)

    def reading(self, speech_s: float, text: str, decoded: Decoded) -> Reading:
        """`text` (a window's, or the part of it in one region) against its seconds, with the
        decode's own figures; the compression ratio is the text's own (a loop in one region)."""
        ratio = compression_ratio(text)
        return Reading(speech_s, self.units(text), decoded.avg_logprob,
                       decoded.no_speech_prob, ratio)  # fmt: skip

    def window(
        self, window: Window, decoded: Decoded, placed: Sequence[tuple[Piece, Word]]
    ) -> None:
        spaced = get_language(self.language).spaced
        speech = sum(p.end - p.start for p in window.pieces)
        problem = None
        redo: _Redo | None = None
        words = {piece: [w for p, w in placed if p == piece] for piece in window.pieces}
        if self.gate is not None:
            problem = window_problem(self.reading(speech, decoded.text, decoded), self.gate, spaced)
            # A window heard at rate can still stop early and lose its last regions: two poor
            # regions cost one decode of the whole window, not one each.
            texts = ("".join(w.text for w in ws) for ws in words.values())
            poor = sum(
                self._own_problem(self.reading(p.end - p.start, t, decoded), t, self.gate, spaced)
                is not None
                for p, t in zip(window.pieces, texts, strict=True)
            )
            if problem is not None or poor >= MIN_POOR_REGIONS:
                redo = self._window_again(window, speech, spaced)
        for piece in window.pieces:
            self.piece(piece, words[piece], decoded, problem, spaced, redo)

    def _window_again(self, window: Window, speech_s: float, spaced: bool) -> _Redo:
        """A poor window decoded again whole: no prompt, timestamps on (so an early stop seeks
        on instead of dropping the rest); its words placed in its pieces."""
        assert self.gate is not None
        again = self.transcriber.decode_alone(
            _packed_audio(self.tracks, [window]), self.language, self.beam_size
        )
        own = Packing((window,), speech_s)
        placed = [p for p in (_place(w, window.start, own) for w in again.words) if p]
        problem = window_problem(self.reading(speech_s, again.text, again), self.gate, spaced)
        return _Redo(again, placed, problem)

    def piece(
        self,
        piece: Piece,
        words: Sequence[Word],
        decoded: Decoded,
        inherited: str | None,  # the window's problem, which every region of it shares
        spaced: bool,
        redo: _Redo | None = None,  # the poor window decoded again whole
    ) -> None:
        track = self.tracks[piece.channel]
        heard = [_in_recording(piece, w, track) for w in words]
        gate = self.gate
        if gate is not None:
            text = "".join(w.text for w in words)
            reading = self.reading(piece.end - piece.start, text, decoded)
            problem = inherited or region_problem(reading, gate, spaced)
            problem = problem or echo_problem(text, self.echoes)
            if problem is not None:
                self.retried[track.call] += 1
            alone = problem is not None
            if problem is not None and redo is not None:
                own = [w for p, w in redo.placed if p == piece]
                again = self.reading(piece.end - piece.start, "".join(w.text for w in own),
                                     redo.decoded)  # fmt: skip
                again_problem = redo.problem or region_problem(again, gate, spaced)
                if better((reading, problem), (again, again_problem), gate):
                    heard = [_in_recording(piece, w, track) for w in own]
                    reading, problem, text = again, again_problem, "".join(w.text for w in own)
                # Alone only when the region itself is still poor (too few words, a loop, a
                # copy): a doubt left over the whole window is Whisper's, not lost speech, and
                # decoding each region alone again (one encoder pass each) seldom lifts it.
                alone = self._own_problem(reading, text, gate, spaced) is not None
            if problem is not None and alone:
                heard, problem = self._again(piece, track, (reading, problem), heard, gate, spaced)
            if problem is not None:
                self.suspects[track.call].append(
                    Suspect(track.channel, piece.start, piece.end, problem)
                )
        self.words[track.call].extend(heard)

    def _own_problem(
        self, reading: Reading, text: str, gate: QualityGate, spaced: bool
    ) -> str | None:
        """Why one region's own words lost speech, whatever its window's figures."""
        if reading.compression_ratio > gate.max_compression_ratio:
            return f"repetition (compression ratio {reading.compression_ratio:.1f})"
        return region_problem(reading, gate, spaced) or echo_problem(text, self.echoes)

    def _again(
        self,
        piece: Piece,
        track: _Track,
        first: tuple[Reading, str | None],
        heard: list[ChannelWord],
        gate: QualityGate,
        spaced: bool,
    ) -> tuple[list[ChannelWord], str | None]:
        """The piece decoded alone; its words and problem when better than the first's."""
        samples = track.audio.floats(
            track.channel, piece.start - piece.lead, piece.end + piece.tail
        )
        alone = self.transcriber.decode_alone(samples, self.language, self.beam_size)
        again = self.reading(piece.end - piece.start, alone.text, alone)
        problem = window_problem(again, gate, spaced) or region_problem(again, gate, spaced)
        if not better(first, (again, problem), gate):
            return heard, first[1]
        at = piece.packed_start - piece.lead  # the piece's pads are decoded with it
        shifted = (Word(at + w.start, at + w.end, w.text, w.probability)
                   for w in alone.words if w.text.strip())  # fmt: skip
        return [_in_recording(piece, w, track) for w in shifted], problem


def plan_windows(
    calls: Sequence[CallAudio], packing: PackingMode = "channel", pad_s: float = 0.0
) -> tuple[Packing, list[_Track]]:
    """The windows of `calls` and the tracks their pieces name: the encoder work, known before
    any model runs. `packing` is what may share a window: "calls" (every channel of every call,
    call by call, each in time order), "channels" (the two channels of one call, in time
    order), "channel" (one channel of one call: measured best, docs/asr.md); `pad_s`, the
    context each region carries (`pack`)."""
    tracks = [
        _Track(n, c, call.audio) for n, call in enumerate(calls) for c in range(len(call.regions))
    ]
    regions = [(t, r) for t, k in enumerate(tracks) for r in calls[k.call].regions[k.channel]]
    if packing == "channel":
        order: Order = lambda tr: (tr[0], tr[1].start)  # noqa: E731
        group: Callable[[int], object] | None = lambda t: t  # noqa: E731
    else:
        order = lambda tr: (tracks[tr[0]].call, tr[1].start, tr[0])  # noqa: E731
        group = (lambda t: tracks[t].call) if packing == "channels" else None
    laid = pack(regions, quiet_point=quiet_point(tracks), order=order, group=group, pad_s=pad_s)
    return laid, tracks


def transcribe_calls(
    calls: Sequence[CallAudio],
    transcriber: Transcriber,
    language: str,
    prompt: Prompt,
    gate: QualityGate | None = DEFAULT_GATE,
    packing: PackingMode = "channel",
    pad_s: float = 0.0,
    beam_size: int | None = None,
) -> tuple[AsrRun, ...]:
    """Words of every channel of every call, decoded in windows the calls share (one language
    and prompt: the decode options are per model call), packed as `packing` says and searched
    with `beam_size` (None: the transcriber's options); with a `gate`, a window that lost
    speech is decoded again whole, a region still poor alone, and what stays poor becomes a
    suspect."""
    if any(c.audio.sample_rate != ASR_RATE for c in calls):
        raise ValueError(f"audio must be decoded at {ASR_RATE} Hz")
    laid, tracks = plan_windows(calls, packing, pad_s)
    spaced = get_language(language).spaced
    echoes = prompt_clauses(prompt.initial, gate, spaced) if gate is not None else ()
    hearing = _Hearing(language, gate, transcriber, tracks, [[] for _ in calls],
                       [[] for _ in calls], [0 for _ in calls], echoes, beam_size)  # fmt: skip
    for first in range(0, len(laid.windows), WINDOWS_PER_CALL):
        batch = laid.windows[first : first + WINDOWS_PER_CALL]
        origin = batch[0].start
        spans = [(w.start - origin, w.end - origin) for w in batch]
        decoded = transcriber.transcribe(
            _packed_audio(tracks, batch), spans, language, prompt.initial or None,
            prompt.hotwords or None, beam_size,
        )  # fmt: skip
        for window, result in zip(batch, decoded, strict=True):
            placed = [p for p in (_place(w, origin, laid) for w in result.words) if p]
            hearing.window(window, result, placed)
    speech = [sum(r.duration for channel in c.regions for r in channel) for c in calls]
    per_second = len(laid.windows) / (sum(speech) or 1.0)
    return tuple(
        AsrRun(
            tuple(sorted(hearing.words[n], key=lambda w: (w.start, w.channel))),
            round(speech[n] * per_second, 3),
            round(speech[n], 3),
            len(calls),
            hearing.retried[n],
            tuple(sorted(hearing.suspects[n], key=lambda s: (s.start, s.channel))),
        )
        for n in range(len(calls))
    )


def transcribe_channels(
    audio: Audio,
    regions: Sequence[Sequence[SpeechRegion]],
    transcriber: Transcriber,
    language: str,
    prompt: Prompt,
    gate: QualityGate | None = DEFAULT_GATE,
) -> AsrRun:
    """Words of every channel of one call; `regions[c]` is channel c's speech."""
    return transcribe_calls([CallAudio(audio, regions)], transcriber, language, prompt, gate)[0]
