"""Units of the recordings path: decoding, packing, audio signals, CDR and hang-up mapping,
batch discovery, speaker turns and model location. Nothing here runs a speech model."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import random
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from qa_pipeline.asr.model_config import LanguagePacking, load_models_config, locate_asr
from qa_pipeline.asr.packing import Packing, Piece, pack
from qa_pipeline.asr.prompt import Prompt
from qa_pipeline.asr.quality import (
    QualityGate,
    Reading,
    better,
    compression_ratio,
    echo_problem,
    prompt_clauses,
    region_problem,
    window_problem,
)
from qa_pipeline.asr.transcribe import (
    AsrInfo,
    CallAudio,
    ChannelWord,
    Suspect,
    _packed_audio,
    plan_windows,
    transcribe_calls,
)
from qa_pipeline.asr.whisper import LOOP_BREAK, NOTHING, AsrOptions, Decoded, Transcriber, Word
from qa_pipeline.audio.decode import ASR_RATE, Audio, decode
from qa_pipeline.audio.signals import Overlap, audio_signals
from qa_pipeline.audio.vad import SpeechRegion, speech_regions
from qa_pipeline.diarize.embedding import EmbeddingSettings, diarize, two_speakers, viterbi
from qa_pipeline.diarize.pyannote import annotation_to_turns
from qa_pipeline.diarize.speaker_encoder import HOP, N_FFT, N_MELS, RATE, log_mel, mel_filterbank
from qa_pipeline.diarize.turns import (
    SpeakerTurn,
    channel_segments,
    speaker_activity,
    speaker_channels,
    speaker_tracks,
)
from qa_pipeline.errors import AudioFileError, CallFileError, ModelNotFoundError
from qa_pipeline.hearing.listener import Listener, channel_map_contradicted
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.cdr import read_cdr
from qa_pipeline.ingest.hangup_fields import HangupValueError, hangup_from
from qa_pipeline.ingest.recordings import RecordingCall, call_metadata
from qa_pipeline.judging.judge import Judge
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.ruleset.schema import SignalsFile
from testing import audio_synth as synth
from tests.conftest import ROOT, require_tool

SAMPLE = ROOT / "samples" / "calls" / "en-s-002.json"


# --- decode -----------------------------------------------------------------------------------


def _tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _write_wav(path: Path, channels: list[np.ndarray], rate: int) -> Path:
    frames = np.stack(channels, axis=1)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(len(channels))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _stereo(path: Path, rate: int) -> Path:
    """Left: a tone in the first second only; right: a tone in the second second only."""
    tone, quiet = _tone(1.0, rate), np.zeros(rate, np.float32)
    return _write_wav(path, [np.concatenate([tone, quiet]), np.concatenate([quiet, tone])], rate)


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))


@pytest.mark.parametrize("rate", [8000, 16000])
def test_decode_stereo_wav_keeps_channels_apart(tmp_path: Path, rate: int) -> None:
    audio = decode(_stereo(tmp_path / "c.wav", rate))
    assert len(audio.channels) == 2 and audio.sample_rate == ASR_RATE
    assert audio.source_rate == rate and not audio.truncated
    assert audio.duration_s == pytest.approx(2.0, abs=0.01)
    assert all(c.dtype == np.int16 for c in audio.channels)
    left, right = audio.floats(0), audio.floats(1)
    half = ASR_RATE  # one second
    assert _rms(left[: half - 400]) > 0.1 and _rms(left[half + 400 :]) < 1e-3
    assert _rms(right[half + 400 :]) > 0.1 and _rms(right[: half - 400]) < 1e-3
    assert len(audio.floats(0, 0.5, 1.0)) == half // 2


def test_decode_mono(tmp_path: Path) -> None:
    audio = decode(_write_wav(tmp_path / "m.wav", [_tone(1.5, 8000)], 8000))
    assert len(audio.channels) == 1 and audio.duration_s == pytest.approx(1.5, abs=0.01)


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "ogg"])
def test_decode_compressed(tmp_path: Path, fmt: str) -> None:
    require_tool(synth.ffmpeg_available(), "ffmpeg")
    encoded = synth.encode(_stereo(tmp_path / "c.wav", 8000), fmt)
    audio = decode(encoded)
    assert len(audio.channels) == 2 and audio.sample_rate == ASR_RATE
    assert audio.duration_s == pytest.approx(2.0, abs=0.15)
    left, right = audio.floats(0), audio.floats(1)
    middle = slice(ASR_RATE // 4, 3 * ASR_RATE // 4)
    assert _rms(left[middle]) > 0.05 and _rms(right[middle]) < 0.01


def test_truncated_mp3_keeps_what_decoded(tmp_path: Path) -> None:
    require_tool(synth.ffmpeg_available(), "ffmpeg")
    tone = _tone(10.0, 8000)
    mp3 = synth.encode(_write_wav(tmp_path / "long.wav", [tone, tone], 8000), "mp3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[: mp3.stat().st_size // 2])
    audio = decode(cut)
    assert audio.truncated
    assert 3.0 < audio.duration_s < 7.0


def _bad_files(folder: Path) -> dict[str, tuple[Path, str]]:
    corrupt = folder / "corrupt.wav"
    corrupt.write_bytes(np.random.default_rng(0).bytes(50_000))
    empty = folder / "empty.mp3"
    empty.write_bytes(b"")
    text = folder / "notes.wav"
    text.write_text("not audio at all\n" * 200, encoding="utf-8")
    header = folder / "header-only.wav"
    header.write_bytes(_stereo(folder / "ok.wav", 8000).read_bytes()[:30])
    return {
        "corrupt": (corrupt, "not a readable audio file"),
        "empty": (empty, "empty"),
        "text": (text, "not a readable audio file"),
        "header": (header, "not a readable audio file"),
        "missing": (folder / "absent.wav", "no such file"),
    }


@pytest.mark.parametrize("case", ["corrupt", "empty", "text", "header", "missing"])
def test_decode_errors_name_the_file(tmp_path: Path, case: str) -> None:
    path, problem = _bad_files(tmp_path)[case]
    with pytest.raises(AudioFileError) as info:
        decode(path)
    assert str(path) in info.value.message and problem in info.value.message
    assert info.value.code == "E060"


def test_decode_refuses_overlong(tmp_path: Path) -> None:
    path = _stereo(tmp_path / "c.wav", 8000)
    with pytest.raises(AudioFileError, match="longer than the 1 s limit") as info:
        decode(path, max_seconds=1.0)
    assert str(path) in info.value.message
    assert decode(path, max_seconds=3.0).duration_s == pytest.approx(2.0, abs=0.01)


def test_silence_has_no_speech_regions(tmp_path: Path) -> None:
    silent = np.zeros(3 * 8000, np.float32)
    audio = decode(_write_wav(tmp_path / "s.wav", [silent, silent], 8000))
    assert speech_regions(audio, 0) == () and speech_regions(audio, 1) == ()


# --- packing ----------------------------------------------------------------------------------


def _regions(*spans: tuple[int, float, float]) -> list[tuple[int, SpeechRegion]]:
    return [(c, SpeechRegion(a, b)) for c, a, b in spans]


def _check_packing(regions: list[tuple[int, SpeechRegion]], packing: Packing) -> None:
    """Windows of at most 30 s; each region's speech packed once, in order, nowhere twice."""
    assert packing.speech_s == pytest.approx(sum(r.duration for _, r in regions), abs=1e-3)
    previous_end = 0.0
    for window in packing.windows:
        assert window.end - window.start <= 30.0 + 1e-9
        assert window.start == pytest.approx(previous_end)
        previous_end = window.end
        for a, b in zip(window.pieces, window.pieces[1:], strict=False):
            assert a.packed_end <= b.packed_start + 1e-9  # no packed audio shared
        for piece in window.pieces:
            assert (
                window.start - 1e-9 <= piece.packed_start <= piece.packed_end <= window.end + 1e-9
            )
    for channel, region in regions:
        parts = sorted(
            (p for p in packing.pieces() if p.channel == channel and region.start <= p.start
             and p.end <= region.end),
            key=lambda p: p.start,
        )  # fmt: skip
        assert parts and parts[0].start == region.start and parts[-1].end == region.end
        for a, b in itertools.pairwise(parts):
            assert a.end == b.start  # contiguous: every second once
    total = sum(p.end - p.start for p in packing.pieces())
    assert total == pytest.approx(packing.speech_s, abs=1e-3)


@pytest.mark.parametrize(
    ("spans", "windows"),
    [
        ([(0, 0.0, 10.0), (1, 11.0, 15.0)], 1),  # 14.3 s with the gap
        ([(0, 0.0, 75.0)], 3),  # a monologue: 30 + 30 + 15
        ([(i % 2, 3.0 * i, 3.0 * i + 2.0) for i in range(20)], 2),  # 40 s + gaps = 45.7 s
        ([(i % 2, 6.0 * i, 6.0 * i + 5.0) for i in range(7)], 2),  # 35 s, one region split
        ([(0, 0.0, 29.0), (1, 30.0, 31.0)], 2),  # 29 + 0.3 + 1 does not fit, too short to split
        ([], 0),
    ],
)
def test_pack_windows(spans: list[tuple[int, float, float]], windows: int) -> None:
    regions = _regions(*spans)
    packing = pack(regions)
    assert len(packing.windows) == windows
    _check_packing(regions, packing)
    speech = sum(r.duration for _, r in regions)
    assert math.ceil(speech / 30) <= windows <= math.ceil((speech + 0.3 * len(regions)) / 30) + 1


def _random_regions(
    rng: random.Random,
    start: float,
    count: int,
    lengths: list[tuple[float, float]],
    gaps: tuple[float, float],
) -> list[tuple[int, SpeechRegion]]:
    """Speech regions on two channels: up to `count` each, lengths drawn from one of `lengths`,
    silences between them drawn from `gaps`."""
    regions = []
    for channel in (0, 1):
        clock = rng.uniform(0, start)
        for _ in range(rng.randint(0, count)):
            length = rng.uniform(*rng.choice(lengths))
            regions.append((channel, SpeechRegion(round(clock, 3), round(clock + length, 3))))
            clock += length + rng.uniform(*gaps)
    return regions


def test_pack_random_region_sets() -> None:
    rng = random.Random(5)
    for _ in range(200):
        regions = _random_regions(rng, 3, 25, [(0.2, 3), (3, 15), (15, 70)], (0.2, 8))
        packing = pack(regions)
        _check_packing(regions, packing)
        speech = packing.speech_s
        assert len(packing.windows) >= math.ceil(speech / 30 - 1e-9)
        # Splitting keeps windows full: never more than one window's slack per region boundary.
        gaps = 0.3 * max(len(regions) - 1, 0)
        assert len(packing.windows) <= math.ceil((speech + gaps) / 30) * 2 + 1


def test_pack_pads_regions_with_their_own_audio_never_twice() -> None:
    rng = random.Random(7)
    for _ in range(200):
        regions = _random_regions(rng, 1, 20, [(0.2, 3), (3, 40)], (0.05, 3))
        packing = pack(regions, pad_s=0.25)
        _check_packing(regions, packing)
        for window in packing.windows:
            for a, b in itertools.pairwise(window.pieces):  # pads lie in the silence between
                assert a.packed_end + a.tail <= b.packed_start - b.lead + 1e-9
            for piece in window.pieces:
                assert window.start - 1e-9 <= piece.packed_start - piece.lead
                assert piece.packed_end + piece.tail <= window.end + 1e-9
        for channel in (0, 1):  # a track's audio, pads included, read once
            spans = sorted((p.start - p.lead, p.end + p.tail) for p in packing.pieces()
                           if p.channel == channel)  # fmt: skip
            assert all(a[1] <= b[0] + 1e-9 for a, b in itertools.pairwise(spans))
            assert all(a >= -1e-9 for a, _ in spans)
            assert all(0 <= p.lead <= 0.25 and 0 <= p.tail <= 0.25 for p in packing.pieces())
    # Far apart, a region gets its whole pad each side; a cut gets none.
    packing = pack(_regions((0, 1.0, 4.0), (0, 10.0, 50.0)), pad_s=0.2)
    first, second, third = packing.pieces()
    assert (first.lead, first.tail, second.lead, second.tail) == (0.2, 0.2, 0.2, 0.0)
    assert (third.lead, third.tail) == (0.0, 0.2)
    # Close together, half the silence each; no pad is the old packing.
    close = pack(_regions((0, 1.0, 4.0), (0, 4.3, 6.0)), pad_s=0.2)
    assert [(p.lead, p.tail) for p in close.pieces()] == [
        (0.2, pytest.approx(0.15)),
        (pytest.approx(0.15), 0.2),
    ]
    assert pack(_regions((0, 1.0, 4.0), (1, 5.0, 9.0))) == pack(
        _regions((0, 1.0, 4.0), (1, 5.0, 9.0)), pad_s=0.0
    )


def test_pack_cuts_inside_the_region_where_asked() -> None:
    asked: list[tuple[int, float, float]] = []

    def quiet(channel: int, lo: float, hi: float) -> float:
        asked.append((channel, lo, hi))
        return round((lo + hi) / 2, 3)

    regions = _regions((0, 0.0, 20.0), (1, 21.0, 60.0))
    packing = pack(regions, quiet_point=quiet)
    _check_packing(regions, packing)
    assert asked
    for channel, lo, hi in asked:
        region = next(r for c, r in regions if c == channel and r.start <= lo < r.end)
        assert region.start < lo < hi <= region.end
    cuts = {round((lo + hi) / 2, 3) for _, lo, hi in asked}
    pieces = [p for p in packing.pieces() if p.channel == 1]
    assert {p.end for p in pieces[:-1]} == cuts  # the pieces end where quiet_point said
    assert all(p.end - p.start > 0 for p in packing.pieces())


def test_locate_maps_packed_time_back() -> None:
    packing = pack(_regions((0, 1.0, 4.0), (1, 10.0, 12.0), (0, 40.0, 75.0)))
    for piece in packing.pieces():
        middle = (piece.packed_start + piece.packed_end) / 2
        assert packing.locate(middle) == piece
        assert piece.to_recording(middle) == pytest.approx((piece.start + piece.end) / 2, abs=1e-3)
        assert piece.to_recording(piece.packed_start) == piece.start
    first, second = packing.pieces()[:2]
    # In the gap between two pieces: the nearer one.
    assert packing.locate(first.packed_end + 0.05) == first
    assert packing.locate(second.packed_start - 0.05) == second
    # Past the end: the last piece, clamped to its end.
    last = packing.pieces()[-1]
    assert packing.locate(last.packed_end + 5) == last
    assert last.to_recording(last.packed_end + 5) == last.end
    assert Packing((), 0.0).locate(1.0) is None
    assert Piece(1, 10.0, 12.0, 3.0).to_recording(4.5) == 11.5


def _coded_call(codes: tuple[int, int], spans: list[tuple[int, float, float]]) -> CallAudio:
    """A 2-channel call whose speech regions hold a constant sample value: `codes[c]` on
    channel c, so packed audio says which call and channel each second came from."""
    length = int(max(b for _, _, b in spans) * ASR_RATE) + ASR_RATE
    channels = [np.zeros(length, np.int16), np.zeros(length, np.int16)]
    for channel, a, b in spans:
        channels[channel][int(a * ASR_RATE) : int(b * ASR_RATE)] = codes[channel]
    audio = Audio("coded.wav", ASR_RATE, tuple(channels), ASR_RATE)
    regions = [[SpeechRegion(a, b) for c, a, b in spans if c == ch] for ch in (0, 1)]
    return CallAudio(audio, regions)


class _CodeReader:
    """Stands in for Whisper: one word per second of packed speech, its text the sample value
    found there, so the test can check where each word was mapped back to. Windows listed in
    `lose` decode to nothing (speech lost); `decode_alone` reads a region by itself the same
    way, unless `deaf_alone`."""

    name, device, compute_type = "code-reader", "cpu", "none"

    def __init__(self, lose: tuple[int, ...] = (), deaf_alone: bool = False) -> None:
        self.windows: list[tuple[float, float]] = []
        self.lose = lose
        self.deaf_alone = deaf_alone
        self.alone: list[float] = []  # seconds of each region decoded alone

    @staticmethod
    def _read(audio: np.ndarray, start: float, end: float) -> list[Word]:
        words, t = [], start + 0.5
        while t < end:
            value = round(float(audio[int(t * ASR_RATE)]) * 32768)
            if value:
                words.append(Word(t - 0.2, t + 0.2, f" {value}", 1.0))
            t += 1.0
        return words

    def transcribe(
        self, audio: np.ndarray, windows: list[tuple[float, float]], *_: object
    ) -> list[Decoded]:
        decoded = []
        for start, end in windows:
            lost = len(self.windows) in self.lose
            self.windows.append((start, end))
            words = () if lost else tuple(self._read(audio, start, end))
            text = "".join(w.text for w in words)
            decoded.append(Decoded(words, text, -0.2, 0.01, 1.2) if words else NOTHING)
        return decoded

    def decode_alone(
        self, audio: np.ndarray, language: str, beam_size: int | None = None
    ) -> Decoded:
        self.alone.append(len(audio) / ASR_RATE)
        words = () if self.deaf_alone else tuple(self._read(audio, 0.0, len(audio) / ASR_RATE))
        return Decoded(words, "".join(w.text for w in words), -0.2, 0.01, 1.2)


def test_transcribe_calls_maps_words_back_to_call_and_channel() -> None:
    calls = [
        _coded_call((101, 102), [(0, 0.5, 9.0), (1, 9.5, 14.0), (0, 15.0, 40.0)]),
        _coded_call((201, 202), [(1, 1.0, 6.0), (0, 7.0, 12.5)]),
        _coded_call((301, 302), [(0, 0.0, 20.0), (1, 21.0, 33.0)]),
    ]
    reader = _CodeReader()
    runs = transcribe_calls(calls, reader, "en", Prompt("", ""), None, "calls")  # type: ignore[arg-type]
    assert [r.packed_calls for r in runs] == [3, 3, 3]
    for n, (call, run) in enumerate(zip(calls, runs, strict=True)):
        assert run.words, f"call {n} got no words"
        for word in run.words:
            assert word.text == f" {100 * (n + 1) + word.channel + 1}"  # its own call and channel
            region = [r for r in call.regions[word.channel] if r.start <= word.start <= r.end]
            assert region, f"{word} is outside channel {word.channel}'s speech"
        assert run.speech_s == pytest.approx(sum(r.duration for c in call.regions for r in c))
    speech = sum(r.speech_s for r in runs)
    alone = sum(math.ceil(r.speech_s / 30) for r in runs)
    assert len(reader.windows) == math.ceil(speech / 30) < alone  # the calls share windows
    assert sum(r.windows for r in runs) == pytest.approx(len(reader.windows), abs=0.01)
    for run in runs:  # windows charged in proportion to speech
        assert run.windows == pytest.approx(len(reader.windows) * run.speech_s / speech, abs=0.01)


def test_padded_regions_carry_their_own_onset_and_words_stay_inside() -> None:
    """With context, a region's window holds the sound just before it that VAD trimmed (here a
    code of its own), read from its own channel; the words still map into its region."""
    call = _coded_call((5, 6), [(0, 1.0, 3.0), (1, 3.5, 5.0), (0, 6.0, 9.0)])
    onset = call.audio.channels[0]
    onset[int(0.85 * ASR_RATE) : int(1.0 * ASR_RATE)] = 9
    for pad, heard_onset in ((0.0, False), (0.2, True)):
        laid, tracks = plan_windows([call], "channel", pad)
        packed = np.round(_packed_audio(tracks, laid.windows) * 32768)
        assert (9 in packed) == heard_onset
        assert set(np.unique(packed)) <= {0, 5, 6, 9}
        run = transcribe_calls([call], _CodeReader(), "en", Prompt("", ""), None, "channel", pad)[0]  # type: ignore[arg-type]
        assert {w.text for w in run.words} == {" 5", " 6"}
        for word in run.words:
            assert any(
                r.start <= word.start <= word.end <= r.end for r in call.regions[word.channel]
            )


_LOSSY_CALL = [(0, 0.5, 9.0), (1, 9.5, 14.0), (0, 15.0, 40.0), (1, 41.0, 52.0)]
_CODES_GATE = QualityGate(max_compression_ratio=100.0)  # the codes repeat by design


def test_lost_window_is_decoded_again_whole_once() -> None:
    """A packed window that decodes to nothing (the batched pipeline's greedy single pass
    collapsing) is caught by words against speech seconds; decoded again whole (one decode,
    not one per region) it gives every region's words back, and nothing is left suspect."""
    call = _coded_call((101, 102), _LOSSY_CALL)
    reference = transcribe_calls([call], _CodeReader(), "en", Prompt("", ""), None, "calls")[0]  # type: ignore[arg-type]
    reader = _CodeReader(lose=(1,))
    run = transcribe_calls([call], reader, "en", Prompt("", ""), _CODES_GATE, "calls")[0]  # type: ignore[arg-type]
    lost_window = reader.windows[1]
    assert len(reader.windows) == 2 and run.retried_regions > 1
    assert reader.alone == [pytest.approx(lost_window[1] - lost_window[0], abs=0.01)]
    assert run.suspects == ()
    assert len(run.words) >= len(reference.words) - run.retried_regions  # lost, then found
    assert {w.text for w in run.words} == {" 101", " 102"}
    unchecked = transcribe_calls(
        [call], _CodeReader(lose=(1,)), "en", Prompt("", ""), None, "calls"
    )[0]  # type: ignore[arg-type]
    assert len(unchecked.words) < len(run.words)  # without the gate the window stays lost


def test_speech_still_lost_becomes_suspect_with_its_reason() -> None:
    call = _coded_call((101, 102), _LOSSY_CALL)
    reader = _CodeReader(lose=(1,), deaf_alone=True)
    run = transcribe_calls([call], reader, "en", Prompt("", ""), _CODES_GATE, "calls")[0]  # type: ignore[arg-type]
    assert run.suspects and run.retried_regions == len(run.suspects)
    # the window decoded again whole, then each of its regions alone: no speech left untried
    assert len(reader.alone) == 1 + run.retried_regions
    lost = {(s.channel, s.start, s.end) for s in run.suspects}
    for suspect in run.suspects:
        assert suspect.reason.startswith("0 words in ")  # VAD heard speech, ASR nothing
        assert not [w for w in run.words if w.channel == suspect.channel
                    and suspect.start <= w.start <= suspect.end]  # fmt: skip
    assert all(any(s.start <= a and b <= s.end for s in run.suspects if s.channel == c)
               for c, a, b in lost)  # fmt: skip


def test_a_window_that_stops_early_is_decoded_again_whole() -> None:
    """A window heard at rate overall whose decode stopped before its last regions (Whisper's
    early end of text) is decoded again whole once, not each lost region alone."""

    class _EarlyStop(_CodeReader):
        def transcribe(self, audio: np.ndarray, windows: list[tuple[float, float]], *_: object) -> list[Decoded]:  # fmt: skip
            decoded = super().transcribe(audio, windows)
            out = []
            for (start, _end), d in zip(windows, decoded, strict=True):
                words = tuple(w for w in d.words if w.start < start + 20.0)
                out.append(dataclasses.replace(d, words=words, text="".join(w.text for w in words)))
            return out

    call = _coded_call((101, 102), [(0, 0.0, 10.0), (0, 11.0, 20.0), (1, 21.0, 24.0),
                                    (1, 25.0, 28.0)])  # fmt: skip
    reader = _EarlyStop()
    run = transcribe_calls([call], reader, "en", Prompt("", ""), _CODES_GATE, "calls")[0]  # type: ignore[arg-type]
    assert len(reader.windows) == 1 and len(reader.alone) == 1  # the window, once
    assert run.retried_regions == 2 and run.suspects == ()
    assert len([w for w in run.words if w.channel == 1]) >= 4  # the lost turns found


def test_a_doubt_over_the_whole_window_is_not_decoded_region_by_region() -> None:
    """A window heard at rate but with low confidence is decoded again whole once; when the
    second decode doubts it too, its regions keep their words and become suspects, without an
    encoder pass each for decoding them alone (they lost no speech)."""

    class _Doubtful(_CodeReader):
        def transcribe(self, *args: object) -> list[Decoded]:
            return [dataclasses.replace(d, avg_logprob=-1.5) for d in super().transcribe(*args)]  # type: ignore[arg-type]

        def decode_alone(
            self, audio: np.ndarray, language: str, beam_size: int | None = None
        ) -> Decoded:
            return dataclasses.replace(super().decode_alone(audio, language), avg_logprob=-1.5)

    call = _coded_call((101, 102), _LOSSY_CALL)
    reader = _Doubtful()
    run = transcribe_calls([call], reader, "en", Prompt("", ""), _CODES_GATE, "calls")[0]  # type: ignore[arg-type]
    assert len(reader.alone) == len(reader.windows)  # each window once, no region alone
    # every piece (a region cut at a window edge is two) retried, suspect, its words kept
    assert run.retried_regions == len(run.suspects) > sum(len(r) for r in call.regions)
    assert all("log-probability" in s.reason for s in run.suspects)
    assert {w.text for w in run.words} == {" 101", " 102"}


def test_quality_gate_reasons() -> None:
    gate = QualityGate()
    fine = Reading(10.0, 25, -0.4, 0.1, 1.5)
    assert window_problem(fine, gate, spaced=True) is None
    assert "compression" in (
        window_problem(dataclasses.replace(fine, compression_ratio=3.0), gate, True) or ""
    )
    assert "silence" in (
        window_problem(dataclasses.replace(fine, avg_logprob=-1.5, no_speech_prob=0.9), gate, True)
        or ""
    )
    assert "log-probability" in (
        window_problem(dataclasses.replace(fine, avg_logprob=-1.5), gate, True) or ""
    )
    assert (
        window_problem(dataclasses.replace(fine, units=3), gate, True)
        == "3 words in 10.0 s of speech"
    )
    # characters for Chinese: 25 in 10 s is enough, 10 is not
    assert window_problem(fine, gate, spaced=False) is None
    assert "characters" in (window_problem(dataclasses.replace(fine, units=10), gate, False) or "")
    # a short region is judged only when it decodes to nothing
    assert (
        region_problem(Reading(1.2, 0, -0.3, 0.1, 1.0), gate, True) == "no words in 1.2 s of speech"
    )
    assert region_problem(Reading(1.2, 1, -0.3, 0.1, 1.0), gate, True) is None
    assert region_problem(Reading(0.5, 0, -0.3, 0.1, 1.0), gate, True) is None
    assert compression_ratio("") == 1.0 and compression_ratio("ab " * 50) > 2.4


def test_a_loop_gives_way_to_any_decode_that_is_no_loop() -> None:
    """A region still poor after its re-decode keeps its first words, unless those are a loop:
    a loop is never speech, so a second decode with words and no loop replaces it."""
    gate = QualityGate()
    loop = (Reading(8.0, 60, -0.4, 0.1, 9.0), "repetition (compression ratio 9.0)")
    plain_poor = (Reading(8.0, 7, -1.3, 0.1, 1.1), "low confidence (average log-probability -1.3)")
    assert better(loop, plain_poor, gate)
    assert not better(plain_poor, (Reading(8.0, 9, -1.2, 0.1, 1.2), "low confidence"), gate)
    assert not better(loop, (Reading(8.0, 0, -1.2, 0.1, 1.0), "no words"), gate)


class _LoopingModel:
    """A WhisperModel that loops (when `loops`) unless told not to repeat three tokens."""

    def __init__(self, loops: bool = True) -> None:
        self.calls: list[int] = []
        self.loops = loops

    def transcribe(self, audio: np.ndarray, **kw: object) -> tuple[list[object], None]:
        no_repeat = int(kw["no_repeat_ngram_size"])  # type: ignore[call-overload]
        self.calls.append(no_repeat)
        text = "新," * 40 if no_repeat == 0 and self.loops else "退订很方便"
        words = [_FakeWord(0.0, 1.0, text, 0.5)]
        return [_FakeSegment(text, [1] * 20, -0.8, 0.1, words)], None


@dataclasses.dataclass
class _FakeWord:
    start: float
    end: float
    word: str
    probability: float


@dataclasses.dataclass
class _FakeSegment:
    text: str
    tokens: list[int]
    avg_logprob: float
    no_speech_prob: float
    words: list[_FakeWord]
    start: float = 0.0


def test_a_looping_decode_alone_is_decoded_again_without_repeats() -> None:
    transcriber = object.__new__(Transcriber)
    transcriber.options = AsrOptions()
    transcriber._model = model = _LoopingModel()  # type: ignore[assignment]
    decoded = transcriber.decode_alone(np.zeros(ASR_RATE * 3, np.float32), "zh")
    assert model.calls == [0, LOOP_BREAK] and decoded.text == "退订很方便"
    # a decode that does not loop is decoded once
    transcriber._model = model = _LoopingModel(loops=False)  # type: ignore[assignment]
    transcriber.decode_alone(np.zeros(ASR_RATE * 3, np.float32), "zh")
    assert model.calls == [0]


def test_prompt_copies_are_decoded_again_without_the_prompt() -> None:
    """A region whose words are a prompt clause verbatim is decoded again alone (no prompt):
    the prompt must never put words into a transcript that nobody said."""
    gate = QualityGate()
    clauses = prompt_clauses(
        "以下是中国电信业务的外呼电话录音。资费每月3元。取消请拨打10000。", gate, False
    )
    assert clauses == ("以下是中国电信业务的外呼电话录音", "资费每月3元", "取消请拨打10000")
    assert echo_problem("好的，取消请拨打10000。", clauses) == "prompt copied (取消请拨打10000)"
    assert echo_problem("好的，请拨打一万。", clauses) is None
    english = prompt_clauses("A Northwind sales call. It costs $2.99 a month. Bye.", gate, True)
    assert english == ("anorthwindsalescall", "itcosts299amonth")  # 2.99 is not a clause end

    class _Echo(_CodeReader):
        def transcribe(
            self, audio: np.ndarray, windows: list[tuple[float, float]], *_: object
        ) -> list[Decoded]:
            decoded = super().transcribe(audio, windows)
            return [dataclasses.replace(d, words=(*d.words, Word(d.words[-1].end, d.words[-1].end + 0.1, " It costs $2.99 a month.", 0.9)),
                                        text=d.text + " It costs $2.99 a month.") for d in decoded]  # fmt: skip

    call = _coded_call((101, 102), _LOSSY_CALL)
    reader = _Echo()
    prompt = Prompt("A Northwind sales call. It costs $2.99 a month.", "")
    run = transcribe_calls([call], reader, "en", prompt, _CODES_GATE)[0]  # type: ignore[arg-type]
    assert reader.alone and run.suspects == ()  # the copying regions were decoded again
    assert not [w for w in run.words if "costs" in w.text]  # and the copy is gone


def test_log_mel_puts_a_tone_in_its_band() -> None:
    t = np.arange(RATE) / RATE
    for freq in (300.0, 1000.0, 3000.0):
        bands = log_mel((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32))
        assert bands.shape == (1 + (RATE - N_FFT) // HOP, N_MELS)
        peak = int(np.argmax(bands.mean(axis=0)))
        weights = mel_filterbank()[:, peak]
        bins = np.flatnonzero(weights)
        low, high = bins[0] * RATE / N_FFT, bins[-1] * RATE / N_FFT
        assert low <= freq <= high, (freq, low, high)  # the loudest band covers the tone


def test_two_speakers_found_despite_an_outlier() -> None:
    rng = np.random.default_rng(1)
    a, b, odd = np.eye(8, dtype=np.float32)[:3]
    vectors = np.concatenate([a + 0.3 * rng.standard_normal((40, 8)),
                              b + 0.3 * rng.standard_normal((30, 8)), odd[None, :]])  # fmt: skip
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    labels = two_speakers(vectors, EmbeddingSettings())
    truth = np.array([0] * 40 + [1] * 30)
    wrong = int(np.sum(labels[:70] != truth))
    assert min(wrong, 70 - wrong) <= 2  # a and b split (a noisy vector may stray), not the outlier


def test_speaker_changes_cost_a_penalty() -> None:
    evidence = [2.0, 2.0, 2.0, -1.0, 2.0, 2.0, -2.0, -2.0, -2.0, -2.0]
    assert viterbi(evidence, 3.0) == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1]  # one weak step: no change
    assert viterbi(evidence, 0.0) == [0, 0, 0, 1, 0, 0, 1, 1, 1, 1]
    assert viterbi([-1.5, 0.5, 0.5], 3.0) == [1, 1, 1]  # weak evidence does not pay for a change
    assert viterbi([-2.0, 2.0, 2.0], 2.0) == [1, 0, 0]
    assert viterbi([-1.0], 2.0) == [1]


class _LoudnessEncoder:
    """A stand-in speaker encoder: a window's voice is its loudness (two voices, two levels),
    plus noise, so the split and the Viterbi pass run without the model."""

    def embed(self, windows: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(0)
        loud = (windows.mean(axis=(1, 2)) > -5.5).astype(np.float32)
        vectors = np.stack([loud, 1 - loud, np.full_like(loud, 2.0)], axis=1)
        vectors = vectors + 0.3 * rng.standard_normal(vectors.shape).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_diarize_alternating_voices_and_a_change_inside_a_region() -> None:
    t = np.arange(12 * RATE) / RATE
    level = np.where((t < 3) | ((t >= 5.5) & (t < 8.5)), 0.5, 0.005)
    samples = (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    regions = [SpeechRegion(0.0, 3.0), SpeechRegion(3.5, 5.0), SpeechRegion(5.5, 11.0)]
    turns = diarize(samples, regions, _LoudnessEncoder())  # type: ignore[arg-type]
    said = [(turn.speaker, turn.start, turn.end) for turn in turns]
    assert [s for s, _, _ in said] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"] or [
        s for s, _, _ in said
    ] == ["SPEAKER_01", "SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    assert abs(said[2][2] - 8.5) <= 0.5  # the change inside the last region, near its place
    assert said[0][1:] == (0.0, 3.0) and said[-1][2] == 11.0


def test_diarize_gives_both_speakers_the_stretch_around_a_change_inside_a_region() -> None:
    """An in-region change is an interruption: `overlap_s` each side of it goes to both."""
    t = np.arange(10 * RATE) / RATE
    samples = (np.where(t < 5, 0.5, 0.005) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    regions = [SpeechRegion(0.0, 10.0)]
    for overlap in (0.0, 0.5):
        settings = EmbeddingSettings(overlap_s=overlap)
        first, second = diarize(samples, regions, _LoudnessEncoder(), settings)  # type: ignore[arg-type]
        assert first.speaker != second.speaker and (first.start, second.end) == (0.0, 10.0)
        assert first.end - second.start == pytest.approx(2 * overlap, abs=1e-6)
        assert abs((first.end + second.start) / 2 - 5.0) <= 0.5


def test_pack_groups_never_share_a_window() -> None:
    """Per channel only (the default): each window holds one track's speech."""
    regions = _regions((0, 0.0, 5.0), (1, 1.0, 4.0), (0, 6.0, 9.0), (1, 5.0, 8.0), (0, 10.0, 12.0))
    packing = pack(regions, order=lambda tr: (tr[0], tr[1].start), group=lambda t: t)
    _check_packing(regions, packing)
    assert [{p.channel for p in w.pieces} for w in packing.windows] == [{0}, {1}]
    shared = pack(regions)
    assert len(shared.windows) == 1  # without groups, 19 s of speech share one window


def test_pack_order_keeps_calls_apart() -> None:
    """Packed call by call: a call's speech is never interleaved with another call's."""
    owner = {0: 0, 1: 0, 2: 1, 3: 1}
    regions = _regions((0, 0.0, 5.0), (2, 1.0, 4.0), (1, 6.0, 9.0), (3, 2.0, 8.0), (2, 10.0, 12.0))
    packing = pack(regions, order=lambda tr: (owner[tr[0]], tr[1].start, tr[0]))
    _check_packing(regions, packing)
    calls = [owner[p.channel] for p in packing.pieces()]
    assert calls == sorted(calls)
    starts = [p.start for p in packing.pieces() if owner[p.channel] == 1]
    assert starts == sorted(starts)


@pytest.mark.parametrize("sample", ["zh-s-001", "en-s-001"])
def test_channel_map_contradicted_by_content(ruleset: Ruleset, sample: str) -> None:
    """The words of a real call checked against the channel map: the agent on the configured
    channel passes; the channels the other way round are flagged."""
    call = load_call(ROOT / "samples" / "calls" / f"{sample}.json")
    segments = call.segments  # speakers are roles, as channel_segments labels them
    assert not channel_map_contradicted(ruleset, call, segments, ("agent", "customer"))
    swapped = tuple(
        dataclasses.replace(s, speaker="customer" if s.speaker == "agent" else "agent")
        for s in segments
    )
    assert channel_map_contradicted(ruleset, call, swapped, ("agent", "customer"))
    one_side = tuple(s for s in segments if s.speaker == "agent")
    assert not channel_map_contradicted(ruleset, call, one_side, ("agent", "customer"))


# --- audio signals ----------------------------------------------------------------------------

SPEC = SignalsFile(
    min_silence_s=1.0,
    min_overlap_s=0.3,
    interruption_s=0.8,
    fast_rate={"zh": 330, "en": 190},
    end_window_s=0.5,
)


def _activity() -> dict[str, list[SpeechRegion]]:
    regions = {
        "agent": [(0.5, 10.0), (12.5, 20.0), (21.0, 23.0), (25.0, 29.0)],
        "customer": [(9.5, 11.0), (19.0, 22.0), (28.9, 30.0)],
    }
    return {role: [SpeechRegion(a, b) for a, b in spans] for role, spans in regions.items()}


def test_signals_overlaps_and_interruptions() -> None:
    signals = audio_signals(_activity(), {}, 30.2, "en", SPEC)
    assert signals.overlaps == (
        Overlap(9.5, 10.0, "customer", "agent", False),  # 0.5 s: an overlap, not an interruption
        Overlap(19.0, 20.0, "customer", "agent", True),
        Overlap(21.0, 22.0, "agent", "customer", True),  # the agent started second
    )  # 28.9-29.0 is under min_overlap_s: a backchannel, not listed
    assert signals.roles["customer"].interruptions == 1
    assert signals.roles["agent"].interruptions == 1


def test_signals_silences_talk_and_end() -> None:
    signals = audio_signals(_activity(), {}, 30.2, "en", SPEC)
    assert signals.silences == ((11.0, 12.5), (23.0, 25.0))  # 0.5 s before speech is not counted
    assert signals.longest_silence_s == 2.0 and signals.longest_silence_at == 23.0
    assert signals.total_silence_s == 3.5
    agent, customer = signals.roles["agent"], signals.roles["customer"]
    assert agent.talk_s == 23.0 and customer.talk_s == 5.6
    assert agent.talk_share == round(23.0 / 28.6, 3) and customer.talk_share == round(5.6 / 28.6, 3)
    assert (agent.turns, customer.turns) == (4, 3)
    assert signals.first_agent_word_s == 0.5
    assert signals.talking_at_end == ("customer",)
    assert signals.duration_s == 30.2


def test_signals_talking_at_end_window() -> None:
    signals = audio_signals(_activity(), {}, 29.4, "en", SPEC)
    assert signals.talking_at_end == ("agent", "customer")  # both spoke in the last 0.5 s
    nobody = audio_signals(_activity(), {}, 40.0, "en", SPEC)
    assert nobody.talking_at_end == ()


def test_signals_speech_rate() -> None:
    activity = _activity()
    en = audio_signals(
        activity, {"agent": " ".join(["word"] * 92), "customer": "one two three " * 3 + "four"},
        30.2, "en", SPEC,
    )  # fmt: skip
    assert en.roles["agent"].rate_unit == "words/min"
    assert en.roles["agent"].speech_rate == pytest.approx(240.0)  # 92 words in 23 s
    assert en.roles["agent"].too_fast  # over 190
    assert en.roles["customer"].speech_rate == pytest.approx(round(10 / (5.6 / 60), 1))
    assert not en.roles["customer"].too_fast
    zh = audio_signals(activity, {"agent": "好" * 100 + " OK 123"}, 30.2, "zh", SPEC)
    assert zh.roles["agent"].rate_unit == "chars/min"
    assert zh.roles["agent"].speech_rate == pytest.approx(round(100 / (23 / 60), 1))  # Han only
    assert not zh.roles["agent"].too_fast  # 260.9 < 330
    fast = audio_signals(activity, {"agent": "好" * 140}, 30.2, "zh", SPEC)
    assert fast.roles["agent"].too_fast
    assert zh.roles["customer"].speech_rate is None  # said nothing
    short = {"agent": [SpeechRegion(0.0, 4.0)], "customer": [SpeechRegion(5.0, 9.0)]}
    quick = audio_signals(short, {"agent": "word " * 50}, 10.0, "en", SPEC)
    assert quick.roles["agent"].speech_rate is None  # under 5 s of talk: no rate
    assert quick.roles["agent"].talk_s == 4.0
    # A region whose words are suspect is out of the rate: the 60 trusted words over the
    # 23 s of talk less the 7.5 s of the doubted region.
    doubted = audio_signals(activity, {"agent": " ".join(["word"] * 60)}, 30.2, "en", SPEC,
                            {"agent": [SpeechRegion(12.5, 20.0)]})  # fmt: skip
    assert doubted.roles["agent"].talk_s == en.roles["agent"].talk_s  # talk time unchanged
    assert doubted.roles["agent"].speech_rate == pytest.approx(round(60 / (15.5 / 60), 1))


def test_mono_suspects_leave_every_speakers_rate() -> None:
    """A mono call's suspect is a stretch of time, not a channel: it is untrusted for whoever
    spoke in it, and each speaker loses only their own seconds inside it from the rate."""
    asr = AsrInfo("m", "en", 1.0, 30.0, "cpu", "int8", 1,
                  suspects=(Suspect(0, 12.5, 20.0, "0 words in 7.5 s of speech"),))  # fmt: skip
    stereo = Listener._untrusted(asr, ("agent", "customer"), ("agent", "customer"))
    assert stereo == {"agent": [SpeechRegion(12.5, 20.0)]}  # channel 0 is the agent's
    mono = Listener._untrusted(asr, None, ("SPEAKER_00", "SPEAKER_01"))
    assert set(mono) == {"SPEAKER_00", "SPEAKER_01"}
    activity = {"SPEAKER_00": _activity()["agent"], "SPEAKER_01": _activity()["customer"]}
    words = {"SPEAKER_00": " ".join(["word"] * 60), "SPEAKER_01": "one two three " * 3 + "four"}
    signals = audio_signals(activity, words, 30.2, "en", SPEC, mono)
    assert signals.roles["SPEAKER_00"].speech_rate == pytest.approx(round(60 / (15.5 / 60), 1))
    # The customer spoke 1 s of their 5.6 s inside it: 4.6 trusted seconds are too few for a rate.
    assert audio_signals(activity, words, 30.2, "en", SPEC).roles["SPEAKER_01"].speech_rate
    assert signals.roles["SPEAKER_01"].speech_rate is None
    assert Listener._untrusted(None, None, ("SPEAKER_00",)) == {}


def test_signals_without_agent_or_speech() -> None:
    signals = audio_signals({"SPEAKER_00": [SpeechRegion(1.0, 2.0)]}, {}, 3.0, "en", SPEC)
    assert signals.first_agent_word_s is None and signals.overlaps == ()
    empty = audio_signals({"agent": [], "customer": []}, {}, 3.0, "en", SPEC)
    assert empty.silences == () and empty.longest_silence_s == 0.0
    assert empty.longest_silence_at is None and empty.talking_at_end == ()
    assert empty.roles["agent"].talk_s == 0.0 and empty.roles["agent"].talk_share == 0.0


# --- CDR and hang-up mapping -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"hangup_by": "Agent"}, "agent"),
        ({"hangup_by": "customer"}, "customer"),
        ({"sip_hangup_disposition": "send_bye"}, "agent"),  # outbound is the default
        ({"sip_hangup_disposition": "recv_bye", "direction": "outbound"}, "customer"),
        ({"sip_hangup_disposition": "send_bye", "direction": "inbound"}, "customer"),
        ({"sip_hangup_disposition": "recv_bye", "direction": "inbound"}, "agent"),
        ({"sip_hangup_disposition": "send_cancel"}, "agent"),
        ({"DisconnectReason": "AGENT_DISCONNECT"}, "agent"),
        ({"DisconnectReason": "customer_disconnect"}, "customer"),
        ({"DisconnectReason": "TELECOM_PROBLEM"}, None),
        ({"callRelDirection": "1"}, "agent"),
        ({"callRelDirection": "2"}, "customer"),
        ({"HangupRole": "0"}, "agent"),
        ({"HangupRole": "1"}, "customer"),
        ({"HangupRole": "2"}, None),
        ({"hangup_by": "", "HangupRole": " 1 "}, "customer"),
        ({}, None),
    ],
)
def test_hangup_mapping(row: dict[str, str], expected: str | None) -> None:
    assert hangup_from(row) == expected


@pytest.mark.parametrize(
    ("row", "valid"),
    [
        ({"hangup_by": "nobody"}, "agent, customer"),
        ({"sip_hangup_disposition": "bye"}, "send_bye"),
        ({"sip_hangup_disposition": "send_bye", "direction": "sideways"}, "outbound, inbound"),
        ({"DisconnectReason": "HUNG_UP"}, "AGENT_DISCONNECT, CUSTOMER_DISCONNECT"),
        ({"callRelDirection": "3"}, "valid are 1, 2"),
        ({"HangupRole": "9"}, "valid are 0, 1, 2"),
    ],
)
def test_hangup_bad_values_list_the_valid_ones(row: dict[str, str], valid: str) -> None:
    with pytest.raises(HangupValueError, match=valid):
        hangup_from(row)


def _csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_cdr_rows_and_bad_rows(tmp_path: Path) -> None:
    cdr = read_cdr(_csv(tmp_path / "calls.csv", (
        "call_id,agent_id,started_at,duration_s,recording,sip_hangup_disposition,direction\n"
        "ok,A1,2026-11-02T10:00:00+08:00,61.5,ok.wav,recv_bye,outbound\n"
        "bad-time,A1,yesterday,61.5,,,\n"
        "naive,A1,2026-11-02T10:00:00,1,,,\n"
        "bad-duration,A1,2026-11-02T10:00:00+08:00,long,,,\n"
        "bad-hangup,A1,2026-11-02T10:00:00+08:00,1,,hung_up,\n"
        "extra,A1,2026-11-02T10:00:00+08:00,1,,,,surplus\n"
        " spaced ,A1,2026-11-02T10:00:00+08:00,1,,,,surplus\n"
        ",A1,,,,,\n"
        "short,A2\n"
    )))  # fmt: skip
    assert cdr.file_error is None
    assert set(cdr.rows) == {"ok", "short"}
    (ok,) = cdr.rows["ok"]
    assert ok.hangup_by == "customer" and ok.duration_s == 61.5 and ok.recording == "ok.wav"
    assert ok.started_at is not None and ok.started_at.utcoffset() is not None
    assert ok.fields["agent_id"] == "A1" and "direction" not in ok.fields
    assert cdr.rows["short"][0].fields == {"call_id": "short", "agent_id": "A2"}
    assert cdr.by_recording() == {"ok.wav": "ok"}
    assert set(cdr.errors) == {
        "bad-time", "naive", "bad-duration", "bad-hangup", "extra", "spaced",
    }  # fmt: skip
    assert "started_at 'yesterday' is not an ISO 8601 time" in cdr.errors["bad-time"][0]
    assert "time zone" in cdr.errors["naive"][0]
    assert "duration_s 'long' is not a number" in cdr.errors["bad-duration"][0]
    assert "valid are send_bye" in cdr.errors["bad-hangup"][0]
    assert "more cells than the header" in cdr.errors["extra"][0]
    assert all(e.startswith("line ") for problems in cdr.errors.values() for e in problems)


def test_read_cdr_file_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("call_id,agent_id\nc1,Jos\xe9\n".encode("latin-1"))
    assert "not UTF-8" in (read_cdr(latin).file_error or "")
    no_id = _csv(tmp_path / "no-id.csv", "id,agent_id\nc1,A1\n")
    assert "no call_id column" in (read_cdr(no_id).file_error or "")
    empty = _csv(tmp_path / "empty.csv", "")
    assert read_cdr(empty).file_error
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfcall_id,agent_id\nc1,A1\n")
    assert read_cdr(bom).rows["c1"][0].fields["agent_id"] == "A1"
    assert "cannot read" in (read_cdr(tmp_path / "absent.csv").file_error or "")


def test_cdr_hangup_wins_over_audio_and_disagreement_is_kept(engine: Judge) -> None:
    call = dataclasses.replace(load_call(SAMPLE), talking_at_end=("customer",))
    verdict = engine.judge(call)  # the record says the customer hung up; the audio disagrees
    hangup = verdict.agent_hung_up_first
    assert hangup.source == "metadata" and hangup.value is False
    assert any(d.startswith("audio: ") for d in hangup.disagreements)
    by_audio = engine.judge(dataclasses.replace(call, hangup_by=None)).agent_hung_up_first
    assert by_audio.source == "audio" and by_audio.value is True
    assert not any(d.startswith("audio") for d in by_audio.disagreements)
    unsure = dataclasses.replace(call, hangup_by=None, talking_at_end=("agent", "customer"))
    assert engine.judge(unsure).agent_hung_up_first.source == "transcript"
    agent_last = dataclasses.replace(call, hangup_by=None, talking_at_end=("agent",))
    result = engine.judge(agent_last).agent_hung_up_first
    assert result.source == "audio" and result.value is False


# --- batch discovery and metadata ------------------------------------------------------------


def _metadata(**changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    for key in ("segments", "hangup_by", "duration_s"):
        data.pop(key)
    return data | changes


def test_discover_recordings_sidecars_and_legs(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("a.wav", "c.leg2.wav", "c.leg10.wav", "c.leg1.mp3", "notes.txt"):
        (folder / name).write_bytes(b"x")
    (folder / "a.json").write_text(json.dumps(_metadata(call_id="a")), encoding="utf-8")
    (folder / "b.json").write_text("{}", encoding="utf-8")  # a transcript call file
    sources = discover(folder)
    assert [s.call_id if isinstance(s, RecordingCall) else s.name for s in sources] == [
        "a", "b.json", "c",
    ]  # fmt: skip
    a, b, c = sources
    assert isinstance(a, RecordingCall) and a.sidecar == folder / "a.json"
    assert a.legs == (folder / "a.wav",) and a.source == str(folder / "a.wav")
    assert b == folder / "b.json"
    assert isinstance(c, RecordingCall) and c.sidecar is None
    assert [p.name for p in c.legs] == ["c.leg1.mp3", "c.leg2.wav", "c.leg10.wav"]


def test_discover_by_cdr_recording_and_start_order(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("rec-a.wav", "rec-b.wav", "x.wav"):
        (folder / name).write_bytes(b"x")
    _csv(folder / "calls.csv", (
        "call_id,agent_id,team,campaign,customer_number,started_at,recording,HangupRole\n"
        "c7,A9,T,ringback-plus,2125550000,2026-11-02T10:05:00-05:00,rec-a.wav,1\n"
        "c7,A9,T,ringback-plus,2125550000,2026-11-02T10:00:00-05:00,rec-b.wav,0\n"
    ))  # fmt: skip
    sources = discover(folder)
    assert [s.call_id for s in sources if isinstance(s, RecordingCall)] == ["c7", "x"]
    c7 = sources[0]
    assert isinstance(c7, RecordingCall)
    assert [p.name for p in c7.legs] == ["rec-b.wav", "rec-a.wav"]  # by started_at, not lines
    assert [r.recording for r in c7.cdr_rows] == ["rec-b.wav", "rec-a.wav"]
    call, has_segments = call_metadata(c7, 95.5, {"ringback-plus": "en"})
    assert not has_segments and call.segments == () and call.language == "en"
    assert call.started_at.isoformat() == "2026-11-02T10:00:00-05:00"  # the first leg
    assert call.hangup_by == "customer"  # the last leg's end is the call's end
    assert call.duration_s == 95.5 and call.agent_id == "A9"
    x = sources[1]
    assert isinstance(x, RecordingCall) and x.cdr_rows == () and x.cdr_path is not None


def test_call_metadata_sidecar_over_cdr_and_missing_fields(tmp_path: Path) -> None:
    leg = tmp_path / "c1.wav"
    leg.write_bytes(b"x")
    sidecar = tmp_path / "c1.json"
    sidecar.write_text(json.dumps(_metadata(call_id="c1", agent_id="S999")), encoding="utf-8")
    cdr = read_cdr(_csv(tmp_path / "calls.csv", "call_id,agent_id,hangup_by\nc1,A1,agent\n"))
    recording = RecordingCall("c1", (leg,), sidecar, cdr.rows["c1"], (), cdr.path)
    call, _ = call_metadata(recording, 12.0, {})
    assert call.agent_id == "S999" and call.hangup_by == "agent" and call.language == "en"

    partial = tmp_path / "c2.json"
    partial.write_text(json.dumps({"call_id": "c2", "campaign": "ringback-plus"}), "utf-8")
    missing = RecordingCall("c2", (leg,), partial, (), (), None)
    with pytest.raises(CallFileError) as info:
        call_metadata(missing, 12.0, {"ringback-plus": "en"})
    assert "agent_id" in info.value.message and str(partial) in info.value.message

    broken = RecordingCall("c3", (leg,), None, (), ("not UTF-8 text",), str(tmp_path / "c.csv"))
    with pytest.raises(CallFileError, match="not UTF-8 text"):
        call_metadata(broken, 12.0, {})


# --- speaker turns ----------------------------------------------------------------------------


def _word(start: float, end: float, text: str, channel: int = 0) -> ChannelWord:
    return ChannelWord(channel, start, end, text, 0.9)


def test_annotation_to_turns() -> None:
    core = pytest.importorskip("pyannote.core")
    annotation = core.Annotation()
    annotation[core.Segment(3.0, 5.5)] = "SPEAKER_01"
    annotation[core.Segment(0.25, 3.2)] = "SPEAKER_00"
    annotation[core.Segment(6.0, 7.0), "second"] = "SPEAKER_00"
    expected = (
        SpeakerTurn("SPEAKER_00", 0.25, 3.2),
        SpeakerTurn("SPEAKER_01", 3.0, 5.5),
        SpeakerTurn("SPEAKER_00", 6.0, 7.0),
    )
    assert annotation_to_turns(annotation) == expected

    @dataclasses.dataclass
    class Output:  # pyannote.audio 4 returns an object holding the annotation
        speaker_diarization: object

    assert annotation_to_turns(Output(annotation)) == expected
    activity = speaker_activity(expected)
    assert activity["SPEAKER_00"] == [SpeechRegion(0.25, 3.2), SpeechRegion(6.0, 7.0)]


def test_speaker_tracks_one_speaker_per_track() -> None:
    turns = [
        SpeakerTurn("B", 4.5, 9.0),
        SpeakerTurn("A", 0.0, 5.0),  # B's first 0.5 s overlap A, which began first
        SpeakerTurn("A", 6.0, 7.0),  # inside B's turn: decoded there already
        SpeakerTurn("A", 8.5, 12.0),  # from where B's ends
    ]
    speakers, tracks = speaker_tracks(turns)
    assert speakers == ("A", "B")
    assert tracks == (
        (SpeechRegion(0.0, 5.0), SpeechRegion(9.0, 12.0)),
        (SpeechRegion(5.0, 9.0),),
    )
    assert speaker_tracks([]) == ((), ())
    # a track's words make one segment per turn, as a channel's make one per region
    words = [_word(1.0, 1.5, " hello", 0), _word(5.5, 6.0, " yes", 1), _word(9.5, 10.0, " ok", 0)]
    segments = channel_segments(words, tracks, speakers)
    assert [(s.speaker, s.text) for s in segments] == [("A", "hello"), ("B", "yes"), ("A", "ok")]


def test_speaker_channels_silence_the_other_speaker() -> None:
    """A mono call as the stereo recording it would have been: a channel per speaker, each
    the mixed samples with the other speaker's turns silenced (pauses kept)."""
    mixed = np.arange(1, 13 * 100 + 1, dtype=np.int16)  # 13 s at 100 Hz, never 0
    audio = Audio("mono.wav", 100, (mixed,), 8000)
    turns = [SpeakerTurn("B", 4.5, 9.0), SpeakerTurn("A", 0.0, 5.0), SpeakerTurn("A", 9.5, 12.0)]
    speakers, apart = speaker_channels(audio, turns)
    assert speakers == ("A", "B") and len(apart.channels) == 2
    a, b = apart.channels
    assert (a[:500] == mixed[:500]).all() and not a[500:900].any()  # B's from where A's ends
    assert (a[900:] == mixed[900:]).all()  # the pause at 9-9.5 s and after the last turn kept
    assert not b[:500].any() and not b[950:1200].any()
    assert (b[500:950] == mixed[500:950]).all() and (b[1200:] == mixed[1200:]).all()
    assert (apart.sample_rate, apart.source_rate, apart.path) == (100, 8000, "mono.wav")


def test_channel_segments_one_per_region() -> None:
    regions = [
        [SpeechRegion(0.0, 3.0), SpeechRegion(6.0, 8.0)],
        [SpeechRegion(3.2, 5.0)],
    ]
    words = [
        _word(0.2, 0.6, "您好", 0),
        _word(0.7, 1.2, "先生", 0),
        _word(3.3, 3.9, " yes", 1),
        _word(6.1, 6.4, "再见", 0),
        _word(4.0, 4.4, " ghost", 0),  # channel 0 but in no channel-0 region
    ]
    segments = channel_segments(words, regions, ("agent", "customer"))
    assert [(s.start, s.end, s.speaker, s.text) for s in segments] == [
        (0.2, 1.2, "agent", "您好先生"),
        (3.3, 3.9, "customer", "yes"),
        (6.1, 6.4, "agent", "再见"),
    ]


# --- models -----------------------------------------------------------------------------------


def test_locate_asr(tmp_path: Path) -> None:
    config = load_models_config()
    default = locate_asr(None, config)
    assert default.name == config.file.asr.default and default.hub_id
    not_a_model = tmp_path / "folder"
    not_a_model.mkdir()
    with pytest.raises(ModelNotFoundError, match=r"model\.bin") as info:
        locate_asr(str(not_a_model), config)
    assert info.value.code == "E070"
    with pytest.raises(ModelNotFoundError, match=r"Choose one of: .*tiny"):
        locate_asr("no-such-model", config)
    assert locate_asr("org/some-ct2-model", config).hub_id == "org/some-ct2-model"


def test_packing_is_each_languages_own_unless_the_options_set_it(ruleset: Ruleset) -> None:
    config = load_models_config()
    asr = config.file.asr
    # models.yaml: English heard across both channels with context and a beam of 5
    # (docs/asr.md), any other language one channel per window, greedily
    english = LanguagePacking(mode="channels", pad_s=0.2, beam_size=5)
    assert AsrOptions().packing_for(asr, "en") == english
    assert AsrOptions().packing_for(asr, "zh") == LanguagePacking(mode="channel", pad_s=0.0)
    chosen = AsrOptions(packing="calls", region_pad_s=0.0, beam_size=1)
    assert chosen.packing_for(asr, "en") == LanguagePacking(mode="calls", pad_s=0.0)
    # a stored call is heard again when its language's packing changes
    before = Listener(ruleset, AsrOptions(model="tiny"), config).asr_fingerprint()
    zh = asr.model_copy(update={"packing": {**asr.packing, "zh": LanguagePacking(pad_s=0.1)}})
    changed = dataclasses.replace(config, file=config.file.model_copy(update={"asr": zh}))
    assert Listener(ruleset, AsrOptions(model="tiny"), changed).asr_fingerprint() != before
    # and when its beam changes
    beam = asr.model_copy(update={"packing": {**asr.packing, "zh": LanguagePacking(beam_size=5)}})
    wider = dataclasses.replace(config, file=config.file.model_copy(update={"asr": beam}))
    assert Listener(ruleset, AsrOptions(model="tiny"), wider).asr_fingerprint() != before


def test_ruleset_channels_and_signals(ruleset: Ruleset) -> None:
    assert ruleset.roles.channels.agent_channel in ("left", "right")
    assert ruleset.signals.interruption_s >= ruleset.signals.min_overlap_s


def _blas_threads() -> int:
    return min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


class _ThreadRecordingModel:
    """A WhisperModel (and batched pipeline) that notes numpy's BLAS threads when called and
    while its segments are drawn (features at the call, decoding as they are drawn)."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def transcribe(self, audio: np.ndarray, **kw: object) -> tuple[object, None]:
        self.threads.append(_blas_threads())

        def segments() -> Iterator[_FakeSegment]:
            self.threads.append(_blas_threads())
            yield _FakeSegment("好的", [1, 2], -0.2, 0.1, [_FakeWord(0.0, 0.5, "好的", 0.9)])

        return segments(), None


def test_whisper_features_are_computed_on_one_blas_thread() -> None:
    """A multi-threaded OpenBLAS rounds the log-mel product differently on some CPUs (an AMD
    EPYC heard other words in a Dask worker, whose nanny sets OMP_NUM_THREADS=1, than in the
    main process): every decode runs with numpy's BLAS on one thread, and restores it after."""
    transcriber = object.__new__(Transcriber)
    transcriber.options = AsrOptions()
    transcriber._model = model = _ThreadRecordingModel()  # type: ignore[assignment]
    transcriber._pipeline = pipeline = _ThreadRecordingModel()  # type: ignore[assignment]
    with threadpool_limits(limits=2, user_api="blas"):
        transcriber.decode_alone(np.zeros(ASR_RATE, np.float32), "zh")
        transcriber.transcribe(np.zeros(ASR_RATE, np.float32), [(0.0, 1.0)], "zh", None, None)
        assert _blas_threads() == 2  # restored
    assert model.threads == [1, 1] and pipeline.threads == [1, 1]
