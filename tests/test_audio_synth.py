"""Synthesised stereo calls: the audio must match the truth the synthesiser reports."""

from __future__ import annotations

import subprocess
import tracemalloc
import wave
from dataclasses import replace
from pathlib import Path

import pytest

from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.model import Call, Role, Segment
from testing import audio_synth as synth
from testing.audio_synth import SynthCall, SynthOptions, TimedTurn
from tests.conftest import ROOT, require_tool

CALLS = {"en": ROOT / "samples/calls/en-s-002.json", "zh": ROOT / "samples/calls/zh-s-006.json"}
SPEECH_DBFS = -35.0  # a turn's channel during the turn is louder than this
QUIET_DBFS = -80.0  # a channel nobody speaks on (digital silence reads as -inf)


@pytest.fixture(autouse=True)
def _espeak() -> None:
    require_tool(synth.espeak_available(), "espeak-ng")


def _call(language: str) -> Call:
    return load_call(CALLS[language])


def _level(path: Path, channel: int, start: float, end: float) -> float:
    samples, rate = synth.read_wav(path)
    return synth.frame_dbfs(samples[:, channel], rate, start, end)


def _other(turn: TimedTurn) -> int:
    return 1 - turn.channel_index


@pytest.mark.parametrize("rate", [8000, 16000])
def test_stereo_file_at_the_rate_and_duration(tmp_path: Path, rate: int) -> None:
    result = synth.synthesize_call(_call("en"), tmp_path / "c.wav", SynthOptions(sample_rate=rate))
    with wave.open(str(result.path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, rate)
        assert w.getnframes() / rate == pytest.approx(result.duration_s, abs=1 / rate)
    assert result.sample_rate == rate
    assert result.turns[-1].end == pytest.approx(result.duration_s - 0.5, abs=1 / rate)
    assert all(a.end <= b.start for a, b in zip(result.turns, result.turns[1:], strict=False))


@pytest.mark.parametrize("language", ["en", "zh"])
@pytest.mark.parametrize("agent_channel", ["left", "right"])
def test_each_side_speaks_on_its_own_channel(
    tmp_path: Path, language: str, agent_channel: synth.Channel
) -> None:
    call = _call(language)
    result = synth.synthesize_call(
        call, tmp_path / "c.wav", SynthOptions(agent_channel=agent_channel)
    )
    spoken = [s for s in call.segments if s.text.strip()]
    assert [t.role for t in result.turns] == [s.speaker for s in spoken]
    assert [t.text for t in result.turns] == [s.text for s in spoken]
    assert result.turns_of("agent")[0].channel == agent_channel
    assert not result.overlaps and not result.silences and result.speaking_at_end is None
    for turn in result.turns:
        assert _level(result.path, turn.channel_index, turn.start, turn.end) > SPEECH_DBFS
        assert _level(result.path, _other(turn), turn.start, turn.end) < QUIET_DBFS
        # The truth boundaries are the audible edges: quiet just before, speech just after.
        assert _level(result.path, turn.channel_index, turn.start - 0.1, turn.start) < QUIET_DBFS
        assert _level(result.path, turn.channel_index, turn.start, turn.start + 0.03) > -50


def test_truth_is_measured_not_copied(tmp_path: Path) -> None:
    call = _call("zh")
    result = synth.synthesize_call(call, tmp_path / "c.wav")
    nominal = [(s.start, s.end) for s in call.segments]
    assert [(t.start, t.end) for t in result.turns] != nominal
    gaps = [b.start - a.end for a, b in zip(result.turns, result.turns[1:], strict=False)]
    assert gaps == pytest.approx([0.4] * len(gaps), abs=1 / 8000)


@pytest.mark.parametrize("interrupter", ["customer", "agent"])
def test_overlap_has_both_channels_active(tmp_path: Path, interrupter: Role) -> None:
    result = synth.synthesize_call(
        _call("en"), tmp_path / "c.wav", overlap_s=1.0, interrupter=interrupter
    )
    (overlap,) = result.overlaps
    assert overlap.interrupter == interrupter and overlap.interrupted != interrupter
    assert overlap.end - overlap.start == pytest.approx(1.0, abs=1 / 8000)
    for channel in (0, 1):
        assert _level(result.path, channel, overlap.start, overlap.end) > SPEECH_DBFS


def test_overlap_at_a_chosen_turn(tmp_path: Path) -> None:
    call = _call("en")
    result = synth.synthesize_call(call, tmp_path / "c.wav", overlap_s=0.5, overlap_turn=3)
    (overlap,) = result.overlaps
    interrupting = next(t for t in result.turns if t.segment_index == 3)
    assert overlap.start == interrupting.start
    # Two agent turns in a row: the second cannot interrupt the first.
    twice = replace(call, segments=(call.segments[0], replace(call.segments[2], speaker="agent")))
    with pytest.raises(ValueError, match="follows its own side"):
        synth.synthesize_call(twice, tmp_path / "d.wav", overlap_s=0.5, overlap_turn=1)


def test_long_silence_is_quiet_on_both_channels(tmp_path: Path) -> None:
    result = synth.synthesize_call(_call("en"), tmp_path / "c.wav", long_silence=(2, 4.0))
    (silence,) = result.silences
    assert silence.duration == pytest.approx(4.0, abs=1 / 8000)
    assert silence.start == result.turns[2].end
    for channel in (0, 1):
        assert _level(result.path, channel, silence.start, silence.end) < QUIET_DBFS


def test_agent_cuts_off_the_customer(tmp_path: Path) -> None:
    call = _call("en")
    result = synth.synthesize_call(call, tmp_path / "c.wav", agent_cuts_off=True)
    last = result.turns[-1]
    assert last.role == "customer" and last.truncated
    assert last.end == pytest.approx(result.duration_s)
    assert result.ends_with_customer_talking
    assert result.dropped_segments == len(call.segments) - 1 - last.segment_index
    end = result.duration_s
    assert _level(result.path, last.channel_index, end - 0.2, end) > SPEECH_DBFS
    assert _level(result.path, _other(last), end - 0.2, end) < QUIET_DBFS


def test_scenarios_combine(tmp_path: Path) -> None:
    result = synth.synthesize_call(
        _call("zh"),
        tmp_path / "c.wav",
        SynthOptions(sample_rate=16000, seed=3),
        overlap_s=0.8,
        long_silence=(0, 2.5),
        agent_cuts_off=True,
    )
    assert len(result.overlaps) == 1 and result.overlaps[0].interrupter == "customer"
    assert [round(s.duration, 3) for s in result.silences] == [2.5]
    assert result.ends_with_customer_talking


def test_deterministic(tmp_path: Path) -> None:
    options = SynthOptions(noise_dbfs=-60, seed=7)
    first = synth.synthesize_call(_call("zh"), tmp_path / "a.wav", options, overlap_s=0.6)
    second = synth.synthesize_call(_call("zh"), tmp_path / "b.wav", options, overlap_s=0.6)
    assert first.path.read_bytes() == second.path.read_bytes()
    assert replace(first, path=second.path) == second


def test_noise_floor_keeps_the_truth(tmp_path: Path) -> None:
    result = synth.synthesize_call(_call("en"), tmp_path / "c.wav", SynthOptions(noise_dbfs=-55))
    turn = result.turns[0]
    assert -58 < _level(result.path, _other(turn), turn.start, turn.end) < -52
    assert _level(result.path, turn.channel_index, turn.start, turn.end) > SPEECH_DBFS


def test_needs_role_labels(tmp_path: Path) -> None:
    call = _call("en")
    anonymous = replace(call, segments=(Segment(0.0, 1.0, "SPEAKER_00", "Hello."),))
    with pytest.raises(ValueError, match="role labels"):
        synth.synthesize_call(anonymous, tmp_path / "c.wav")


def _peak_bytes(path: Path, seconds: float) -> tuple[SynthCall, int]:
    tracemalloc.start()
    try:
        result = synth.write_long_recording(path, seconds, sample_rate=16000)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_long_recording_is_streamed(tmp_path: Path) -> None:
    _, short_peak = _peak_bytes(tmp_path / "short.wav", 10)
    result, peak = _peak_bytes(tmp_path / "long.wav", 120)
    size = result.path.stat().st_size
    assert size == 44 + 120 * 16000 * 4
    assert result.duration_s == 120
    # Memory is a few utterances (~3 MB), whatever the length: 12x the audio, same peak.
    assert peak < size / 2, f"peak {peak} bytes for a {size}-byte file"
    assert peak < short_peak + 500_000, f"peak {peak} bytes at 120 s, {short_peak} at 10 s"
    assert len(result.turns) > 20 and result.turns[-1].end <= 120
    assert {t.channel for t in result.turns} == {"left", "right"}
    assert result.silences  # some pauses are over a second
    for turn in result.turns[-3:]:
        assert _level(result.path, turn.channel_index, turn.start, turn.end) > SPEECH_DBFS
        assert _level(result.path, _other(turn), turn.start, turn.end) < QUIET_DBFS


@pytest.fixture(scope="module")
def short_call(tmp_path_factory: pytest.TempPathFactory) -> SynthCall:
    require_tool(synth.espeak_available(), "espeak-ng")
    return synth.synthesize_call(_call("zh"), tmp_path_factory.mktemp("enc") / "c.wav")


def test_encode_what_ffmpeg_can_write(short_call: SynthCall) -> None:
    require_tool(synth.ffmpeg_available(), "ffmpeg")
    formats = synth.encodable_formats()
    assert {"mp3", "m4a", "ogg"} <= set(formats)
    for fmt in formats:
        out = synth.encode(short_call.path, fmt)
        assert out.suffix == f".{fmt}"
        back = out.with_name(f"{fmt}-decoded.wav")
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(out), str(back)], check=True)
        with wave.open(str(back), "rb") as w:
            assert w.getnchannels() == 2
            # Encoder padding (mp3, aac) adds a few tens of milliseconds at most.
            assert w.getnframes() / w.getframerate() == pytest.approx(
                short_call.duration_s, abs=0.15
            )
        # The channels stay apart: no stereo coupling leaks one side into the other.
        for turn in short_call.turns[:2]:
            middle = (turn.start + 0.1, turn.end - 0.1)
            assert _level(back, turn.channel_index, *middle) > SPEECH_DBFS, fmt
            assert _level(back, _other(turn), *middle) < -70, fmt


def test_encode_refuses_what_it_cannot_write(short_call: SynthCall) -> None:
    require_tool(synth.ffmpeg_available(), "ffmpeg")
    with pytest.raises(synth.UnsupportedFormatError, match="unknown format"):
        synth.encode(short_call.path, "wma")
    if "amr" not in synth.encodable_formats():
        with pytest.raises(synth.UnsupportedFormatError, match="libopencore_amrnb"):
            synth.encode(short_call.path, "amr")


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("It's $9.99 per month, $1.99 a month", "It's 9 dollars 99 per month, 1 dollar 99 a month"),
        ("Text STOP to 12121, or call 611.", "Text STOP to 1 2 1 2 1, or call 6 1 1."),
        ("employee number 4427", "employee number 4 4 2 7"),
        ("$300, $5.00, 1,000 people, 30-day, November 7th", "300 dollars, 5 dollars, 1,000 people, 30-day, November 7th"),
    ],
)  # fmt: skip
def test_english_numbers_are_spoken_as_an_agent_says_them(written: str, said: str) -> None:
    assert synth.english_script(written) == said
