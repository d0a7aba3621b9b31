"""Synthesised stereo phone calls with exact ground truth, for tests and benchmarks of the
recordings path (decoding, VAD, transcription, diarization by channel, silence, interruptions,
speech rate, who was still talking when the recording ended).

Each transcript segment is spoken by espeak-ng (a different voice, pitch and speed per role),
resampled to the call's rate with an FFT (band-limited, so no aliasing at 8 kHz) and placed on
its role's channel of a 16-bit PCM stereo WAV. The truth is measured, not taken from the
transcript's nominal times: a turn starts and ends where its utterance's 10 ms frame RMS
first/last rises above -40 dB relative to the utterance's loudest frame, so every truth
boundary is within one frame (10 ms) of the audible speech, and placement is sample-exact.
Inside a turn espeak pauses at most ~0.5 s (0.4-0.47 s measured over the sample calls), so
every silence of more than 1 s lies between turns and `SynthCall.silences` is complete.

espeak-ng output is deterministic, and so is everything here for a given `seed`; nothing is
cached outside the temporary directories the functions create and remove.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from qa_pipeline.ingest.model import ROLES, Call, Role

Channel = Literal["left", "right"]
Audio = npt.NDArray[np.float32]

ESPEAK = "espeak-ng"
FFMPEG = "ffmpeg"
FRAME_S = 0.01
TRIM_DB = -40.0  # audible = frame RMS above this, relative to the utterance's loudest frame
SILENCE_MIN_S = 1.0
_MIN_LEAD_S = 0.3  # an interruption starts at least this long into the interrupted turn


class AudioSynthError(RuntimeError):
    """A tool (espeak-ng, ffmpeg) is missing or failed."""


class UnsupportedFormatError(AudioSynthError):
    """`encode` was asked for a format this ffmpeg cannot write."""


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: `name` may carry a variant (`cmn-latn-pinyin+f2`); pitch 0-99,
    speed in wpm. A `cmn-latn-pinyin` voice is fed tone-numbered pinyin (`pinyin_script`): the
    plain `cmn` voice of Debian's espeak-ng reads many characters as English-spelt pinyin with
    their tone digits ("ni three hao three")."""

    name: str
    pitch: int = 50
    speed: int = 175
    amplitude: int = 100

    @property
    def reads_pinyin(self) -> bool:
        return self.name.split("+")[0].lower() == "cmn-latn-pinyin"

    @property
    def english(self) -> bool:
        return self.name.split("+")[0].lower().startswith("en")

    def args(self) -> list[str]:
        return ["-v", self.name, "-p", str(self.pitch), "-s", str(self.speed),
                "-a", str(self.amplitude)]  # fmt: skip


@dataclass(frozen=True)
class RoleVoices:
    agent: Voice
    customer: Voice

    def of(self, role: Role) -> Voice:
        return self.agent if role == "agent" else self.customer


def _default_voices() -> dict[str, RoleVoices]:
    # A higher, faster female variant for the agent and a low, slower male customer: the two
    # sides differ in pitch and speech rate, as real agents and customers tend to.
    return {
        "zh": RoleVoices(
            Voice("cmn-latn-pinyin+f2", pitch=65, speed=220),
            Voice("cmn-latn-pinyin", pitch=30, speed=190),
        ),
        "en": RoleVoices(
            Voice("en-us+f2", pitch=65, speed=175), Voice("en-us", pitch=30, speed=150)
        ),
    }


@dataclass(frozen=True)
class SynthOptions:
    sample_rate: int = 8000
    agent_channel: Channel = "left"
    voices: Mapping[str, RoleVoices] = field(default_factory=_default_voices)
    gap_s: float = 0.4  # between one turn's audible end and the next one's start
    lead_s: float = 0.5  # before the first turn
    tail_s: float = 0.5  # after the last turn (none when the recording is cut off)
    noise_dbfs: float | None = None  # white noise floor on both channels, e.g. -60
    seed: int = 0  # picks the interrupted turn when none is given, and the noise
    # English numbers as an agent says them (`english_script`: "$9.99" -> "9 dollars 99", "611"
    # digit by digit); off, espeak-ng reads the written text ("dollar nine point nine nine"),
    # as the tests were written against
    spoken_numbers: bool = False

    def __post_init__(self) -> None:
        if not 4000 <= self.sample_rate <= 48000:
            raise ValueError(f"sample_rate {self.sample_rate} is outside 4000-48000 Hz")
        if self.agent_channel not in ("left", "right"):
            raise ValueError(f"agent_channel must be 'left' or 'right', not {self.agent_channel!r}")
        if min(self.gap_s, self.lead_s, self.tail_s) < 0:
            raise ValueError("gap_s, lead_s and tail_s must not be negative")

    def channel_of(self, role: Role) -> Channel:
        if role == "agent":
            return self.agent_channel
        return "right" if self.agent_channel == "left" else "left"

    def voice(self, language: str, role: Role) -> Voice:
        base = language.split("-")[0].lower()
        if base not in self.voices:
            raise ValueError(f"no voice for language {language!r}; have {sorted(self.voices)}")
        return self.voices[base].of(role)


@dataclass(frozen=True)
class TimedTurn:
    """One utterance as placed in the file (seconds from the start of the recording)."""

    role: Role
    channel: Channel
    start: float
    end: float
    text: str  # what the turn was to say; a truncated turn stops partway through it
    segment_index: int  # the segment of `Call.segments` it speaks
    truncated: bool = False  # cut off by the end of the recording

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def channel_index(self) -> int:
        return 0 if self.channel == "left" else 1


@dataclass(frozen=True)
class Overlap:
    """Both sides speaking at once: `interrupter` started while `interrupted` was talking."""

    start: float
    end: float
    interrupter: Role
    interrupted: Role


@dataclass(frozen=True)
class Silence:
    """Neither side audible (for longer than SILENCE_MIN_S)."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class SynthCall:
    path: Path
    sample_rate: int
    duration_s: float
    language: str
    agent_channel: Channel
    turns: tuple[TimedTurn, ...]
    overlaps: tuple[Overlap, ...]
    silences: tuple[Silence, ...]
    speaking_at_end: Role | None  # whose speech the end of the recording cut off
    dropped_segments: int = 0  # transcript segments left out (after the cut-off turn)

    @property
    def ends_with_customer_talking(self) -> bool:
        return self.speaking_at_end == "customer"

    def turns_of(self, role: Role) -> tuple[TimedTurn, ...]:
        return tuple(t for t in self.turns if t.role == role)


# --- tools ------------------------------------------------------------------------------------


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def ffmpeg_available() -> bool:
    return shutil.which(FFMPEG) is not None


def _run(args: Sequence[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    if shutil.which(args[0]) is None:
        raise AudioSynthError(f"{args[0]} is not installed (apt-get install {args[0]})")
    done = subprocess.run(list(args), input=stdin, capture_output=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip()[-500:]
        raise AudioSynthError(f"{args[0]} failed with exit code {done.returncode}: {tail}")
    return done


# --- one utterance ----------------------------------------------------------------------------


def _read_mono(path: Path) -> tuple[Audio, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise AudioSynthError(f"{path}: expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        rate, channels = w.getframerate(), w.getnchannels()
    samples = raw.reshape(-1, channels)[:, 0].astype(np.float32)
    samples /= 32768.0
    return samples, rate


def resample(x: Audio, rate_in: int, rate_out: int) -> Audio:
    """Band-limited resampling by zero-padding/truncating the spectrum: exact for a signal
    that starts and ends in silence, as a TTS utterance does (so the FFT's wrap-around is
    harmless). Output length is len(x) * rate_out / rate_in, rounded."""
    if rate_in == rate_out or len(x) == 0:
        return x
    n_out = max(1, round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)
    keep = min(len(spectrum), n_out // 2 + 1)
    y = np.fft.irfft(spectrum[:keep], n=n_out) * (n_out / len(x))
    return y.astype(np.float32)


def _frame_rms(x: Audio, frame: int) -> npt.NDArray[np.float64]:
    n = len(x) // frame
    frames = x[: n * frame].reshape(n, frame)
    # einsum sums the squares without a frame-sized temporary (this runs on whole utterances).
    energy: npt.NDArray[np.float64] = np.einsum("ij,ij->i", frames, frames, dtype=np.float64)
    return np.sqrt(energy / frame)


def trim(x: Audio, rate: int, threshold_db: float = TRIM_DB) -> Audio:
    """`x` from the start of its first to the end of its last audible 10 ms frame."""
    frame = max(1, round(FRAME_S * rate))
    rms = _frame_rms(x, frame)
    if len(rms) == 0 or rms.max() <= 0:
        return x[:0]
    loud = np.flatnonzero(rms > rms.max() * 10 ** (threshold_db / 20))
    return x[loud[0] * frame : (loud[-1] + 1) * frame].copy()  # frees the untrimmed buffer


_CLAUSE_END = str.maketrans({"，": ", ", "、": ", ", "。": ". ", "？": "? ", "！": "! ",
                             "；": "; ", "：": ": "})  # fmt: skip


def pinyin_script(text: str) -> str:
    """Chinese text as tone-numbered pinyin for a `cmn-latn-pinyin` voice: numbers spelt out
    as a speaker says them (codes and phone numbers digit by digit), punctuation kept as
    pauses."""
    from pypinyin import Style, lazy_pinyin

    from qa_pipeline.languages import get as get_language

    spelt = get_language("zh").noise.spell_numbers(text, random.Random(0))
    syllables = lazy_pinyin(spelt.translate(_CLAUSE_END), style=Style.TONE3,
                            neutral_tone_with_five=True)  # fmt: skip
    return " ".join(" ".join(syllables).split())


def _price(m: re.Match[str]) -> str:
    dollars, cents = m.group(1), m.group(2)
    said = f"{dollars} {'dollar' if dollars == '1' else 'dollars'}"
    return f"{said} {cents}" if cents and cents != "00" else said


def english_script(text: str) -> str:
    """English text with its numbers as an agent says them: codes and phone numbers digit by
    digit ("611" -> "6 1 1"), a price in dollars and cents ("$9.99" -> "9 dollars 99"). Left
    to itself espeak-ng reads "12121" as "twelve thousand one hundred twenty-one" and "$9.99"
    as "dollar nine point nine nine", which no caller says (Whisper heard "another 9.9.9")."""
    text = re.sub(r"(?<![$\d.,])\d{3,}(?!\d|[.,]\d)", lambda m: " ".join(m.group(0)), text)
    return re.sub(r"\$(\d+)(?:\.(\d\d))?\b", _price, text)


def _said(text: str, voice: Voice, opts: SynthOptions) -> tuple[str, Voice]:
    return (english_script(text) if opts.spoken_numbers and voice.english else text), voice


def speak(text: str, voice: Voice, sample_rate: int, scratch: Path) -> Audio:
    """`text` spoken by espeak-ng, at `sample_rate`, trimmed to the audible speech; `scratch`
    is a temporary WAV path, removed afterwards."""
    # Text goes in on stdin so a leading "-" can never be read as an option.
    one_line = " ".join((pinyin_script(text) if voice.reads_pinyin else text).split())
    _run([ESPEAK, *voice.args(), "-w", str(scratch), "--stdin"], stdin=one_line.encode())
    samples, rate = _read_mono(scratch)  # espeak-ng writes 22.05 kHz mono
    scratch.unlink()
    return trim(resample(samples, rate, sample_rate), sample_rate)


def _speak_all(
    items: Sequence[tuple[str, Voice]], sample_rate: int, workers: int = 4
) -> list[Audio]:
    # espeak-ng runs in subprocesses, so threads overlap the calls; map keeps the order.
    with (
        tempfile.TemporaryDirectory(prefix="audio-synth-") as tmp,
        ThreadPoolExecutor(max_workers=workers) as pool,
    ):
        scratch = [Path(tmp) / f"{i}.wav" for i in range(len(items))]
        return list(pool.map(lambda it, out: speak(it[0], it[1], sample_rate, out), items, scratch))


# --- placing turns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    index: int  # in Call.segments
    role: Role
    text: str


def _lines(call: Call, agent_cuts_off: bool) -> tuple[list[_Line], int]:
    lines: list[_Line] = []
    for i, seg in enumerate(call.segments):
        if seg.speaker not in ROLES:
            raise ValueError(
                f"{call.call_id}: segment {i} has speaker {seg.speaker!r}; "
                "synthesis needs role labels ('agent', 'customer')"
            )
        if seg.text.strip():
            lines.append(_Line(i, "agent" if seg.speaker == "agent" else "customer", seg.text))
    if not lines:
        raise ValueError(f"{call.call_id}: no segment has text to speak")
    dropped = 0
    if agent_cuts_off:
        last = max((k for k, ln in enumerate(lines) if ln.role == "customer"), default=None)
        if last is None:
            raise ValueError(f"{call.call_id}: agent_cuts_off needs a customer turn")
        # The agent hangs up during the customer's last turn: what came after never happened.
        dropped = len(lines) - 1 - last
        lines = lines[: last + 1]
    return lines, dropped


def _pick_overlap(
    lines: Sequence[_Line],
    clips: Sequence[Audio],
    rate: int,
    interrupter: Role,
    overlap_s: float,
    forbidden: set[int],
    seed: int,
) -> int:
    """Position (in `lines`) of a turn by `interrupter` that follows the other side's turn,
    long enough to be interrupted `overlap_s` before its end."""
    need = round((overlap_s + _MIN_LEAD_S) * rate)
    eligible = [
        k
        for k in range(1, len(lines))
        if lines[k].role == interrupter
        and lines[k - 1].role != interrupter
        and len(clips[k - 1]) > need
        and k not in forbidden
    ]
    if not eligible:
        raise ValueError(
            f"no {interrupter} turn follows a turn of the other side longer than "
            f"{overlap_s + _MIN_LEAD_S:.2f} s, so there is nothing to interrupt"
        )
    return random.Random(seed).choice(eligible)


def _cut_point(clip: Audio, rate: int, fraction: float) -> int:
    """A sample near `fraction` of `clip` where the last 200 ms are clearly speech, so the
    recording visibly ends mid-utterance."""
    frame = max(1, round(FRAME_S * rate))
    rms = _frame_rms(clip, frame)
    window = 20  # frames: 200 ms
    loud = rms.max() * 10 ** (-20 / 20)
    first = max(window, int(len(rms) * fraction))
    for f in range(first, len(rms) - 1):
        if rms[f] > loud and rms[f - window + 1 : f + 1].mean() > loud:
            return (f + 1) * frame
    return max(frame, int(len(clip) * fraction))


def _overlaps(turns: Sequence[TimedTurn]) -> tuple[Overlap, ...]:
    found: list[Overlap] = []
    for a in turns:
        for b in turns:
            if a.role == "agent" and b.role == "customer":
                start, end = max(a.start, b.start), min(a.end, b.end)
                if end > start:
                    late, early = (a, b) if a.start > b.start else (b, a)
                    found.append(Overlap(start, end, late.role, early.role))
    return tuple(sorted(found, key=lambda o: o.start))


def _silences(turns: Iterable[TimedTurn], duration: float) -> tuple[Silence, ...]:
    found: list[Silence] = []
    heard_until = 0.0
    for t in sorted(turns, key=lambda t: t.start):
        if t.start - heard_until > SILENCE_MIN_S:
            found.append(Silence(heard_until, t.start))
        heard_until = max(heard_until, t.end)
    if duration - heard_until > SILENCE_MIN_S:
        found.append(Silence(heard_until, duration))
    return tuple(found)


def synthesize_call(
    call: Call,
    out_path: Path,
    options: SynthOptions | None = None,
    *,
    overlap_s: float = 0.0,
    interrupter: Role = "customer",
    overlap_turn: int | None = None,
    long_silence: tuple[int, float] | None = None,
    agent_cuts_off: bool = False,
    cut_fraction: float = 0.5,
) -> SynthCall:
    """Speak `call` into a stereo WAV at `out_path` and return where everything landed.

    Scenarios (independent, combinable):
    - `overlap_s` > 0: one turn by `interrupter` starts `overlap_s` before the other side's
      previous turn ends. `overlap_turn` is that turn's index in `call.segments`; by default
      one is picked (seeded) among the turns that can be interrupted.
    - `long_silence=(i, seconds)`: `seconds` of silence after segment `i` instead of `gap_s`.
    - `agent_cuts_off`: the recording ends `cut_fraction` of the way into the customer's last
      turn, at a point where the customer is audibly speaking; segments after that turn are
      dropped (counted in `dropped_segments`).
    Segments with empty text are skipped. Speakers must be role labels.
    """
    if overlap_s < 0 or not 0 < cut_fraction < 1:
        raise ValueError("overlap_s must not be negative and cut_fraction must be in (0, 1)")
    opts = options or SynthOptions()
    rate = opts.sample_rate
    lines, dropped = _lines(call, agent_cuts_off)
    position = {ln.index: k for k, ln in enumerate(lines)}
    clips = _speak_all([_said(ln.text, opts.voice(call.language, ln.role), opts) for ln in lines],
                       rate)  # fmt: skip

    silence_after: dict[int, int] = {}
    if long_silence is not None:
        seg, seconds = long_silence
        if seconds < 0:
            raise ValueError(f"long_silence: {seconds} s is negative")
        if seg not in position or position[seg] == len(lines) - 1:
            raise ValueError(f"long_silence: segment {seg} is not followed by a spoken turn")
        silence_after[position[seg]] = round(seconds * rate)

    interrupt_at: int | None = None
    if overlap_s > 0:
        forbidden = {k + 1 for k in silence_after}
        if agent_cuts_off:
            forbidden.add(len(lines) - 1)  # the cut must come after everything else
        if overlap_turn is None:
            interrupt_at = _pick_overlap(
                lines, clips, rate, interrupter, overlap_s, forbidden, opts.seed
            )
        else:
            interrupt_at = position.get(overlap_turn)
            if interrupt_at is None or interrupt_at == 0 or interrupt_at in forbidden:
                raise ValueError(f"overlap_turn {overlap_turn} cannot interrupt a turn here")
            if lines[interrupt_at].role == lines[interrupt_at - 1].role:
                raise ValueError(f"overlap_turn {overlap_turn} follows its own side's turn")

    if agent_cuts_off:
        clips[-1] = clips[-1][: _cut_point(clips[-1], rate, cut_fraction)]

    starts: list[int] = []
    cursor = round(opts.lead_s * rate)  # end of the latest audible speech, in samples
    for k, clip in enumerate(clips):
        gap = silence_after.get(k - 1, round(opts.gap_s * rate))
        start = cursor if k == 0 else cursor + gap
        if k == interrupt_at:
            prev_start, prev_end = starts[k - 1], starts[k - 1] + len(clips[k - 1])
            start = max(prev_start + round(_MIN_LEAD_S * rate), prev_end - round(overlap_s * rate))
        starts.append(start)
        cursor = max(cursor, start + len(clip))
    total = cursor if agent_cuts_off else cursor + round(opts.tail_s * rate)

    stereo = np.zeros((total, 2), dtype=np.float32)
    turns: list[TimedTurn] = []
    for k, (ln, clip, start) in enumerate(zip(lines, clips, starts, strict=True)):
        channel = opts.channel_of(ln.role)
        truncated = agent_cuts_off and k == len(lines) - 1
        turn = TimedTurn(ln.role, channel, start / rate, (start + len(clip)) / rate, ln.text,
                         ln.index, truncated)  # fmt: skip
        stereo[start : start + len(clip), turn.channel_index] += clip
        turns.append(turn)
    if opts.noise_dbfs is not None:
        stereo += _noise(np.random.default_rng(opts.seed), stereo.shape, opts.noise_dbfs)
    _write_wav(out_path, stereo, rate)

    duration = total / rate
    return SynthCall(
        path=out_path,
        sample_rate=rate,
        duration_s=duration,
        language=call.language,
        agent_channel=opts.agent_channel,
        turns=tuple(turns),
        overlaps=_overlaps(turns),
        silences=_silences(turns, duration),
        speaking_at_end="customer" if agent_cuts_off else None,
        dropped_segments=dropped,
    )


# --- writing ----------------------------------------------------------------------------------


def _noise(rng: np.random.Generator, shape: tuple[int, ...], dbfs: float) -> Audio:
    return (rng.standard_normal(shape) * 10 ** (dbfs / 20)).astype(np.float32)


def _pcm(stereo: Audio) -> bytes:
    return (np.clip(stereo, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


@contextmanager
def _open_writer(path: Path, rate: int) -> Iterator[wave.Wave_write]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        yield w


def _write_wav(path: Path, stereo: Audio, rate: int) -> None:
    with _open_writer(path, rate) as w:
        w.writeframes(_pcm(stereo))


# --- long recordings, streamed ----------------------------------------------------------------

_LONG_LINES: dict[str, tuple[tuple[Role, str], ...]] = {
    "en": (
        ("agent", "Hello, this is Northwind Mobile. Am I speaking with the account holder?"),
        ("customer", "Yes, speaking. What is this about?"),
        ("agent", "We have a weather alert service for two ninety nine a month."),
        ("customer", "Hmm, I am not sure I need that. Can you send me the details?"),
        ("agent", "Of course. The first month is free and you can cancel any time."),
        ("customer", "All right, thank you."),
    ),
    "zh": (
        ("agent", "您好，这里是电信客服，请问是机主本人吗？"),
        ("customer", "是的，什么事？"),
        ("agent", "我们有一个天气短信服务，每个月两块九毛九。"),
        ("customer", "嗯，我考虑一下，你先发个短信给我吧。"),
        ("agent", "好的，第一个月免费，随时可以退订。"),
        ("customer", "好，谢谢。"),
    ),
}
_LONG_GAPS_S = (0.3, 0.5, 0.8, 1.6)  # some gaps over SILENCE_MIN_S, for silence detection
_CHUNK_S = 1.0


def write_long_recording(
    out_path: Path,
    seconds: float,
    sample_rate: int = 8000,
    *,
    language: str = "en",
    options: SynthOptions | None = None,
) -> SynthCall:
    """A `seconds`-long stereo call that alternates a few synthesised turns with seeded pauses
    (0.3-1.6 s), written in 1 s blocks: memory is six utterances and one utterance's FFT,
    whatever the length (traced peak ~3 MB at 16 kHz for 10 s or 10 minutes alike; a 2-hour
    8 kHz file is 230 MB). The truth covers every turn, as in `synthesize_call`.
    `sample_rate` overrides `options.sample_rate`."""
    opts = replace(options or SynthOptions(), sample_rate=sample_rate)
    rate, total = sample_rate, round(seconds * sample_rate)
    script = _LONG_LINES.get(language.split("-")[0].lower())
    if script is None:
        raise ValueError(f"no long-recording script for {language!r}; have {sorted(_LONG_LINES)}")
    # One utterance at a time: parallel synthesis would multiply the peak memory.
    items = [(text, opts.voice(language, role)) for role, text in script]
    clips = _speak_all(items, rate, workers=1)
    gaps = random.Random(opts.seed)
    noise_rng = np.random.default_rng(opts.seed)

    def write(w: wave.Wave_write, frames: int, clip: Audio | None = None, channel: int = 0) -> None:
        step = max(1, round(_CHUNK_S * rate))
        for at in range(0, frames, step):
            block = np.zeros((min(step, frames - at), 2), dtype=np.float32)
            if clip is not None:
                block[:, channel] = clip[at : at + len(block)]
            if opts.noise_dbfs is not None:
                block += _noise(noise_rng, block.shape, opts.noise_dbfs)
            w.writeframes(_pcm(block))

    turns: list[TimedTurn] = []
    written, k = 0, 0
    pause = round(opts.lead_s * rate)
    with _open_writer(out_path, rate) as w:
        while written + pause + len(clips[k]) + round(opts.tail_s * rate) <= total:
            write(w, pause)
            written += pause
            role, text = script[k]
            turn = TimedTurn(role, opts.channel_of(role), written / rate,
                             (written + len(clips[k])) / rate, text, k)  # fmt: skip
            write(w, len(clips[k]), clips[k], turn.channel_index)
            turns.append(turn)
            written += len(clips[k])
            k = (k + 1) % len(script)
            pause = round(gaps.choice(_LONG_GAPS_S) * rate)
        write(w, total - written)
    return SynthCall(
        path=out_path,
        sample_rate=rate,
        duration_s=total / rate,
        language=language,
        agent_channel=opts.agent_channel,
        turns=tuple(turns),
        overlaps=(),
        silences=_silences(turns, total / rate),
        speaking_at_end=None,
    )


# --- compressed formats -----------------------------------------------------------------------

# Phone-quality settings. AMR-NB is 8 kHz mono by definition, so it loses the channel split.
_ENCODINGS: dict[str, tuple[str, list[str]]] = {
    "mp3": ("libmp3lame", ["-b:a", "32k"]),
    "m4a": ("aac", ["-b:a", "48k"]),
    "ogg": ("libvorbis", ["-q:a", "3"]),
    # Family 255 codes the channels separately: default stereo coupling leaks one side into
    # the other at about -45 dBFS, enough for a VAD to hear the agent on the customer channel.
    "opus": ("libopus", ["-b:a", "32k", "-mapping_family", "255"]),
    "amr": ("libopencore_amrnb", ["-ar", "8000", "-ac", "1", "-b:a", "12.2k"]),
}


@cache
def ffmpeg_encoders() -> frozenset[str]:
    """The encoder names this ffmpeg lists (empty when ffmpeg is missing)."""
    if not ffmpeg_available():
        return frozenset()
    listing = _run([FFMPEG, "-hide_banner", "-encoders"]).stdout.decode(errors="replace")
    # Lines look like " A....D libmp3lame  libmp3lame MP3 ..." after a "------" separator.
    body = listing.split("------", 1)[-1]
    return frozenset(m.group(1) for m in re.finditer(r"^\s*[A-Z.]{6}\s+(\S+)", body, re.M))


def encodable_formats() -> tuple[str, ...]:
    """The formats `encode` can write here."""
    return tuple(f for f, (enc, _) in _ENCODINGS.items() if enc in ffmpeg_encoders())


def encode(path: Path, fmt: str, out_path: Path | None = None) -> Path:
    """Re-encode a WAV to mp3, m4a (AAC), ogg (Vorbis), opus or amr (AMR-NB, 8 kHz mono) with
    ffmpeg, next to it unless `out_path` is given. The sample rate is kept (but amr's)."""
    if fmt not in _ENCODINGS:
        raise UnsupportedFormatError(f"unknown format {fmt!r}; choose from {sorted(_ENCODINGS)}")
    encoder, settings = _ENCODINGS[fmt]
    if not ffmpeg_available():
        raise AudioSynthError(f"{FFMPEG} is not installed (apt-get install ffmpeg)")
    if encoder not in ffmpeg_encoders():
        raise UnsupportedFormatError(
            f"this ffmpeg has no {encoder} encoder, so it cannot write {fmt}; "
            f"it can write {', '.join(encodable_formats()) or 'none of them'}"
        )
    target = out_path or path.with_suffix(f".{fmt}")
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-i", str(path)]
    _run([*args, "-vn", "-c:a", encoder, *settings, str(target)])
    return target


def read_wav(path: Path) -> tuple[Audio, int]:
    """A 16-bit PCM WAV as float32 samples (frames x channels) in [-1, 1), and its rate."""
    with wave.open(str(path), "rb") as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        return raw.reshape(-1, w.getnchannels()).astype(np.float32) / 32768.0, w.getframerate()


def frame_dbfs(samples: Audio, rate: int, start: float, end: float) -> float:
    """RMS level in dBFS of `samples` (one channel) between `start` and `end` seconds."""
    part = samples[max(0, round(start * rate)) : round(end * rate)].astype(np.float64)
    if len(part) == 0:
        return -math.inf
    rms = math.sqrt(float(np.mean(part**2)))
    return 20 * math.log10(rms) if rms > 0 else -math.inf
