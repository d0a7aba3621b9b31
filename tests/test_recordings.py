"""The recordings path end to end on synthesised calls with exact truth, heard by a
random-weight Whisper: the words are noise, so only timings, channels, counts and structure are
checked. The model is built and the audio synthesised once per session."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select, text

from qa_pipeline.asr.whisper import AsrOptions
from qa_pipeline.audio.decode import decode
from qa_pipeline.audio.vad import speech_regions
from qa_pipeline.batch.run import judge_paths, judging_version, rejudge
from qa_pipeline.cli import main
from qa_pipeline.diarize.turns import SpeakerTurn
from qa_pipeline.hearing.listener import Heard, Listener, join_legs
from qa_pipeline.ingest.batch import discover
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.model import Call
from qa_pipeline.ingest.recordings import RecordingCall
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from testing import audio_synth as synth
from testing.audio_synth import SynthCall, SynthOptions
from testing.random_model import build_random_whisper
from tests.conftest import ROOT, changed_rules, require_tool

CALLS = ROOT / "samples" / "calls"
TOLERANCE_S = 0.3
pytestmark = pytest.mark.slow  # end to end: synthesis, a Whisper model, decoding


def _sample(name: str) -> Call:
    return load_call(CALLS / f"{name}.json")


def _write_sidecar(path: Path, name: str, **changes: Any) -> Path:
    """The sample call's metadata without its transcript, hang-up and duration."""
    data = json.loads((CALLS / f"{name}.json").read_text(encoding="utf-8"))
    for key in ("segments", "hangup_by", "duration_s"):
        data.pop(key)
    path.write_text(json.dumps(data | changes, ensure_ascii=False), encoding="utf-8")
    return path


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["call_id"]: r for r in rows}


def _near(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE_S


# --- session fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_whisper(tmp_path_factory.mktemp("whisper") / "test-tiny", "test-tiny")


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool(synth.espeak_available(), "espeak-ng")
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def scenario(audio_dir: Path) -> SynthCall:
    """The first six turns of en-s-002 (8 kHz, agent left): the customer interrupts the agent
    for 1 s, 3 s of silence follow, and the agent cuts the customer off mid-sentence."""
    call = _sample("en-s-002")
    call = dataclasses.replace(call, segments=call.segments[:6])
    return synth.synthesize_call(
        call, audio_dir / "scenario.wav", overlap_s=1.0, overlap_turn=3,
        long_silence=(3, 3.0), agent_cuts_off=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def clean_zh(audio_dir: Path) -> SynthCall:
    """zh-s-006 as it is, at 16 kHz: no overlap, no long silence."""
    return synth.synthesize_call(
        _sample("zh-s-006"), audio_dir / "zh-s-006.wav", SynthOptions(sample_rate=16000)
    )


@pytest.fixture(scope="session")
def clean_en(audio_dir: Path) -> SynthCall:
    return synth.synthesize_call(_sample("en-s-002"), audio_dir / "en-s-002.wav")


def _random_weights(model_dir: Path) -> AsrOptions:
    """Random weights hear noise: every window would fail the quality gate, so it is off
    (test_real_hearing.py checks it with real weights). Calls share windows, speech laid end to
    end (no context), whatever the language's own packing."""
    return AsrOptions(model=str(model_dir), quality=None, packing="calls", region_pad_s=0.0)


@pytest.fixture(scope="session")
def listener(ruleset: Ruleset, model_dir: Path) -> Listener:
    return Listener(ruleset, _random_weights(model_dir))


def _recording(folder: Path, wav: Path, call_id: str, sample: str, **changes: Any) -> RecordingCall:
    sidecar = _write_sidecar(folder / f"{call_id}.json", sample, call_id=call_id, **changes)
    return RecordingCall(call_id, (wav,), sidecar, (), (), None)


@pytest.fixture(scope="session")
def scenario_call(scenario: SynthCall, tmp_path_factory: pytest.TempPathFactory) -> RecordingCall:
    return _recording(tmp_path_factory.mktemp("side"), scenario.path, "scenario", "en-s-002")


@pytest.fixture(scope="session")
def heard(listener: Listener, scenario_call: RecordingCall) -> Heard:
    return listener.hear(scenario_call)


@pytest.fixture(scope="session")
def scenario_row(
    ruleset: Ruleset,
    listener: Listener,
    scenario_call: RecordingCall,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("out") / "results.jsonl"
    judge_paths([scenario_call], out, ruleset, listener=listener)
    return _rows(out)["scenario"]


# --- decoding and voice activity on speech -----------------------------------------------------


def test_vad_regions_match_the_truth(clean_zh: SynthCall) -> None:
    audio = decode(clean_zh.path)
    assert audio.source_rate == 16000 and len(audio.channels) == 2
    assert audio.duration_s == pytest.approx(clean_zh.duration_s, abs=0.01)
    regions = [speech_regions(audio, c) for c in (0, 1)]
    for turn in clean_zh.turns:
        own = [
            r for r in regions[turn.channel_index]
            if r.end > turn.start - TOLERANCE_S and r.start < turn.end + TOLERANCE_S
        ]  # fmt: skip
        assert own, f"no speech found for {turn}"
        assert _near(own[0].start, turn.start) and _near(own[-1].end, turn.end), (turn, own)
        other = regions[1 - turn.channel_index]
        inner = (turn.start + TOLERANCE_S, turn.end - TOLERANCE_S)
        assert not [r for r in other if r.start < inner[1] and r.end > inner[0]]
    for channel in (0, 1):  # nothing found where nobody speaks
        turns = [t for t in clean_zh.turns if t.channel_index == channel]
        for region in regions[channel]:
            assert any(
                t.start - TOLERANCE_S <= region.start and region.end <= t.end + TOLERANCE_S
                for t in turns
            ), region


@pytest.mark.parametrize("fmt", ["mp3", "m4a", "ogg"])
def test_compressed_speech_keeps_its_regions(clean_zh: SynthCall, fmt: str) -> None:
    require_tool(synth.ffmpeg_available(), "ffmpeg")
    encoded = synth.encode(clean_zh.path, fmt, clean_zh.path.with_name(f"zh.{fmt}"))
    audio = decode(encoded)
    assert len(audio.channels) == 2
    assert audio.duration_s == pytest.approx(clean_zh.duration_s, abs=0.15)
    first = speech_regions(audio, 0)[0]
    assert _near(first.start, clean_zh.turns[0].start)


# --- hearing a stereo call ----------------------------------------------------------------------


def test_channels_split_by_role(heard: Heard, scenario: SynthCall) -> None:
    assert heard.call.talking_at_end == ("customer",)
    assert {s.speaker for s in heard.call.segments} <= {"agent", "customer"}
    assert heard.call.segments == tuple(sorted(heard.call.segments, key=lambda s: (s.start, s.end)))
    roles = heard.audio.roles
    for role in ("agent", "customer"):
        truth = sum(t.duration for t in scenario.turns_of(role))
        assert roles[role].talk_s == pytest.approx(truth, abs=1.5), role
    for segment in heard.call.segments:  # every word sits on its speaker's channel
        turns = scenario.turns_of(segment.speaker)  # type: ignore[arg-type]
        assert any(t.start - 0.5 <= segment.start and segment.end <= t.end + 0.5 for t in turns), (
            segment
        )
    assert heard.audio.first_agent_word_s == pytest.approx(scenario.turns[0].start, abs=0.3)
    assert heard.recordings == (str(scenario.path),)
    assert heard.call.duration_s == pytest.approx(scenario.duration_s, abs=0.01)
    assert heard.call.source == str(scenario.path)


def test_overlap_found_as_interruption(heard: Heard, scenario: SynthCall) -> None:
    (truth,) = scenario.overlaps
    found = [
        o for o in heard.audio.overlaps if _near(o.start, truth.start) and _near(o.end, truth.end)
    ]
    assert len(found) == 1, heard.audio.overlaps
    (overlap,) = found
    assert (overlap.by, overlap.over) == (truth.interrupter, truth.interrupted)
    assert overlap.interruption  # 1 s is over interruption_s
    assert heard.audio.roles[truth.interrupter].interruptions >= 1


def test_long_silence_measured(heard: Heard, scenario: SynthCall) -> None:
    (truth,) = scenario.silences
    matches = [
        s for s in heard.audio.silences if _near(s[0], truth.start) and _near(s[1], truth.end)
    ]
    assert len(matches) == 1, heard.audio.silences
    assert heard.audio.longest_silence_s == pytest.approx(truth.duration, abs=TOLERANCE_S)
    assert heard.audio.longest_silence_at == pytest.approx(truth.start, abs=TOLERANCE_S)


def test_asr_windows_follow_speech(heard: Heard) -> None:
    asr = heard.asr
    assert asr is not None and asr.language == "en" and asr.device == "cpu"
    speech = asr.speech_s
    assert speech > 10
    assert math.ceil(speech / 30) <= asr.encoder_windows <= speech / 30 + 1 + 0.5


def test_results_row(scenario_row: dict[str, Any]) -> None:
    row = scenario_row
    assert row["status"] == "ok", row["error"]
    assert set(row) >= {"transcript", "asr", "audio", "recordings"}
    assert row["transcript"] and all(
        set(line) == {"start", "end", "role", "text", "asr_suspect"} for line in row["transcript"]
    )
    assert {line["role"] for line in row["transcript"]} <= {"agent", "customer"}
    assert row["asr"]["encoder_windows"] >= 1 and row["asr"]["model"]
    audio = row["audio"]
    assert set(audio["roles"]) == {"agent", "customer"}
    assert audio["talking_at_end"] == ["customer"]
    assert audio["overlaps"] and {"by", "over", "interruption"} <= set(audio["overlaps"][0])
    hangup = row["agent_hung_up_first"]
    assert hangup["source"] == "audio" and hangup["value"] is True  # no hang-up in a CDR


def test_agent_channel_right_swaps_roles(
    ruleset: Ruleset,
    model_dir: Path,
    heard: Heard,
    scenario: SynthCall,
    scenario_call: RecordingCall,
) -> None:
    channels = ruleset.roles.channels.model_copy(update={"agent_channel": "right"})
    swapped = dataclasses.replace(
        ruleset, roles=ruleset.roles.model_copy(update={"channels": channels})
    )
    right = Listener(swapped, _random_weights(model_dir)).hear(scenario_call)
    other = {"agent": "customer", "customer": "agent"}
    assert right.call.talking_at_end == ("agent",)
    assert [(s.start, s.end, other[s.speaker], s.text) for s in heard.call.segments] == [
        (s.start, s.end, s.speaker, s.text) for s in right.call.segments
    ]
    for role in ("agent", "customer"):  # the same channel measured under the other role
        now, before = right.audio.roles[role], heard.audio.roles[other[role]]
        assert (now.talk_s, now.turns, now.interruptions) == (
            before.talk_s, before.turns, before.interruptions,
        )  # fmt: skip
    right_first = scenario.turns_of("customer")[0]  # the first speech on the right channel
    assert right.audio.first_agent_word_s == pytest.approx(right_first.start, abs=TOLERANCE_S)
    assert [(o.by, o.over) for o in right.audio.overlaps] == [
        (other[o.by], other[o.over]) for o in heard.audio.overlaps
    ]


def test_agent_channel_right_file(
    ruleset: Ruleset, listener: Listener, model_dir: Path, audio_dir: Path
) -> None:
    """A file recorded with the agent on the right, heard with that setting."""
    call = _sample("zh-s-006")
    call = dataclasses.replace(call, segments=call.segments[:3])
    made = synth.synthesize_call(call, audio_dir / "right.wav", SynthOptions(agent_channel="right"))
    channels = ruleset.roles.channels.model_copy(update={"agent_channel": "right"})
    swapped = dataclasses.replace(
        ruleset, roles=ruleset.roles.model_copy(update={"channels": channels})
    )
    recording = _recording(audio_dir, made.path, "right", "zh-s-006")
    heard = Listener(swapped, _random_weights(model_dir)).hear(recording)
    assert heard.audio.first_agent_word_s == pytest.approx(made.turns[0].start, abs=0.3)
    for role in ("agent", "customer"):
        truth = sum(t.duration for t in made.turns_of(role))
        assert heard.audio.roles[role].talk_s == pytest.approx(truth, abs=1.0)
        assert heard.audio.roles[role].rate_unit == "chars/min"


# --- CDR, sidecars and metadata -----------------------------------------------------------------


def test_cdr_hangup_wins_over_audio(
    ruleset: Ruleset, listener: Listener, scenario: SynthCall, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "cdr-call.wav").write_bytes(scenario.path.read_bytes())
    (folder / "calls.csv").write_text(
        "call_id,agent_id,team,campaign,customer_number,started_at,sip_hangup_disposition\n"
        "cdr-call,S108,E1,ringback-plus,2125550246,2026-11-09T17:32:10-05:00,recv_bye\n",
        encoding="utf-8",
    )
    summary = judge_paths(discover(folder), tmp_path / "out.jsonl", ruleset, listener=listener)
    row = _rows(summary.results_path)["cdr-call"]  # metadata from the CDR only, no sidecar
    assert row["status"] == "ok", row["error"]
    assert row["agent_id"] == "S108" and row["language"] == "en"
    hangup = row["agent_hung_up_first"]
    assert hangup["source"] == "metadata" and hangup["value"] is False  # customer hung up
    assert any(d.startswith("audio: ") for d in hangup["disagreements"])
    assert row["audio"]["talking_at_end"] == ["customer"]


def test_sidecar_segments_skip_asr(
    ruleset: Ruleset, listener: Listener, scenario: SynthCall, tmp_path: Path
) -> None:
    segments = [
        {"start": t.start, "end": t.end, "speaker": t.role, "text": t.text} for t in scenario.turns
    ]
    recording = _recording(
        tmp_path, scenario.path, "given", "en-s-002", segments=segments, duration_s=60.0
    )
    heard = listener.hear(recording)
    assert heard.asr is None and heard.review_flags == ()
    assert [s.text for s in heard.call.segments] == [t.text for t in scenario.turns]
    assert heard.audio.talking_at_end == ("customer",)  # measured from the audio all the same
    assert len(heard.audio.overlaps) >= 1 and heard.audio.roles["agent"].talk_s > 5
    summary = judge_paths([recording], tmp_path / "r.jsonl", ruleset, listener=listener)
    row = _rows(summary.results_path)["given"]
    assert row["status"] == "ok" and row["asr"] is None and row["audio"]["roles"]


def test_missing_metadata_fails_naming_the_field(
    ruleset: Ruleset, listener: Listener, scenario: SynthCall, tmp_path: Path
) -> None:
    sidecar = tmp_path / "nometa.json"
    sidecar.write_text(json.dumps({"call_id": "nometa", "campaign": "ringback-plus"}), "utf-8")
    recording = RecordingCall("nometa", (scenario.path,), sidecar, (), (), None)
    summary = judge_paths([recording], tmp_path / "r.jsonl", ruleset, listener=listener)
    row = _rows(summary.results_path)["nometa"]
    assert row["status"] == "failed"
    assert "agent_id" in row["error"] and "started_at" in row["error"]
    assert str(sidecar) in row["error"]


def _write_pcm(path: Path, frames: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_silent_recording_fails(ruleset: Ruleset, listener: Listener, tmp_path: Path) -> None:
    wav = _write_pcm(tmp_path / "quiet.wav", np.zeros((5 * 8000, 2), np.float32), 8000)
    recording = _recording(tmp_path, wav, "quiet", "en-s-002")
    summary = judge_paths([recording], tmp_path / "r.jsonl", ruleset, listener=listener)
    row = _rows(summary.results_path)["quiet"]
    assert row["status"] == "failed" and "silent" in row["error"] and "quiet.wav" in row["error"]


def test_legs_join_in_order(
    ruleset: Ruleset, listener: Listener, scenario: SynthCall, clean_en: SynthCall, tmp_path: Path
) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "two.leg1.wav").write_bytes(scenario.path.read_bytes())
    (folder / "two.leg2.wav").write_bytes(clean_en.path.read_bytes())
    _write_sidecar(folder / "two.json", "en-s-002", call_id="two")
    (source,) = discover(folder)
    assert isinstance(source, RecordingCall) and len(source.legs) == 2
    heard = listener.hear(source)
    total = scenario.duration_s + clean_en.duration_s
    assert heard.call.duration_s == pytest.approx(total, abs=0.01)
    assert heard.recordings == tuple(str(p) for p in source.legs)
    # The second leg's first turn lands after the first leg, at its own offset.
    joined = join_legs([decode(leg) for leg in source.legs])
    agent = speech_regions(joined, 0)
    second = next(r for r in agent if r.start > scenario.duration_s)
    assert _near(second.start, scenario.duration_s + clean_en.turns[0].start)
    assert heard.audio.first_agent_word_s == pytest.approx(scenario.turns[0].start, abs=0.3)
    assert heard.audio.talking_at_end == ()  # leg 2 ends 0.5 s after its last word


# --- mono ---------------------------------------------------------------------------------------


def test_mono_without_pyannote_fails_alone(
    ruleset: Ruleset,
    listener: Listener,
    scenario: SynthCall,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)  # as if the extra were missing
    samples, rate = synth.read_wav(scenario.path)
    mono_wav = _write_pcm(tmp_path / "mono.wav", samples.sum(axis=1, keepdims=True), rate)
    mono = _recording(tmp_path, mono_wav, "mono", "en-s-002")
    segments = [
        {"start": t.start, "end": t.end, "speaker": t.role, "text": t.text} for t in scenario.turns
    ]
    given = _recording(tmp_path, scenario.path, "given", "en-s-002", segments=segments)
    # --diarization names a pyannote pipeline (the offline default is test_real_hearing's)
    fresh = Listener(ruleset, listener.asr_options, diarization="pyannote/x")  # none cached
    summary = judge_paths([mono, given], tmp_path / "r.jsonl", ruleset, listener=fresh)
    rows = _rows(summary.results_path)
    assert rows["mono"]["status"] == "failed"
    assert "[diarization]" in rows["mono"]["error"] and "pyannote.audio" in rows["mono"]["error"]
    assert rows["given"]["status"] == "ok"


EDGE_S = 0.2  # how far a region's edge may lie outside its turn


def test_mono_call_heard_speaker_by_speaker(
    ruleset: Ruleset,
    model_dir: Path,
    clean_en: SynthCall,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A diarized mono call is decoded as its stereo version's channels are: each speaker's
    turns are a track of their own, so every word comes back on its speaker's track, and the
    call's segments are one per turn (up to the VAD's 0.1 s padding and a frame: a word heard
    in a region's context maps onto the region's edge, measured 0.152 s past its turn)."""
    samples, rate = synth.read_wav(clean_en.path)
    wav = _write_pcm(tmp_path / "mono.wav", samples.sum(axis=1, keepdims=True), rate)
    labels = {"agent": "SPEAKER_00", "customer": "SPEAKER_01"}
    truth = tuple(SpeakerTurn(labels[t.role], t.start, t.end) for t in clean_en.turns)
    runs: list[Any] = []
    fresh = Listener(ruleset, AsrOptions(model=str(model_dir), quality=None),
                     hook=lambda step, found: runs.append(found) if step == "asr" else None)  # fmt: skip
    monkeypatch.setattr(fresh, "diarizer", lambda: lambda audio: truth)  # the true turns
    heard = fresh.hear(_recording(tmp_path, wav, "mono", "en-s-002"))
    words = runs[0][0].words
    assert {w.channel for w in words} == {0, 1}
    for word in words:
        middle = (word.start + word.end) / 2
        speaker = sorted(labels.values())[word.channel]
        assert any(t.speaker == speaker and t.start - EDGE_S <= middle <= t.end + EDGE_S
                   for t in truth), word  # fmt: skip
    for segment in heard.call.segments:
        assert any(t.start - EDGE_S <= segment.start and segment.end <= t.end + EDGE_S
                   for t in truth), segment  # fmt: skip


def test_calls_of_a_batch_share_windows(
    ruleset: Ruleset, listener: Listener, clean_en: SynthCall, tmp_path: Path
) -> None:
    """Three English calls heard in one batch share windows: together they take fewer than
    heard one by one, each is charged by its speech, and each keeps its own words."""
    calls = [
        _recording(tmp_path, clean_en.path, f"en-{n}", "en-s-002", agent_id=f"A{n}")
        for n in range(3)
    ]
    alone = listener.hear(calls[0]).asr
    assert alone is not None and alone.packed_calls == 1
    judge_paths(calls, tmp_path / "results.jsonl", ruleset, listener=listener)
    rows = _rows(tmp_path / "results.jsonl")
    assert [rows[c.call_id]["status"] for c in calls] == ["ok"] * 3
    asr = [rows[c.call_id]["asr"] for c in calls]
    assert {a["packed_calls"] for a in asr} == {3}
    speech = sum(a["speech_s"] for a in asr)
    shared = sum(a["encoder_windows"] for a in asr)
    assert shared == pytest.approx(round(shared), abs=0.01)  # whole windows in all
    assert math.ceil(speech / 30) <= round(shared) < 3 * alone.encoder_windows
    for a in asr:
        assert a["encoder_windows"] == pytest.approx(shared * a["speech_s"] / speech, abs=0.01)
        assert a["speech_s"] == pytest.approx(alone.speech_s, abs=0.01)
    for call in calls:  # each call's transcript lies within its own recording
        transcript = rows[call.call_id]["transcript"]
        assert transcript and transcript[-1]["end"] <= clean_en.duration_s + 0.05


def test_rejudge_keeps_the_audio_evidence(
    ruleset: Ruleset, listener: Listener, scenario_call: RecordingCall, tmp_path: Path
) -> None:
    """Re-judging a stored recording call under new rules still knows the customer was
    talking when the recording ended (it is stored with the transcript)."""
    store = Store(connect(f"sqlite:///{tmp_path / 'qa.db'}"))
    judge_paths([scenario_call], tmp_path / "results.jsonl", ruleset, store=store,
                listener=listener)  # fmt: skip
    first = _rows(tmp_path / "results.jsonl")["scenario"]["agent_hung_up_first"]
    assert (first["value"], first["source"]) == (True, "audio")
    changed = changed_rules(tmp_path / "rules")
    assert rejudge(changed, store).judged == 1
    again = store.stored_result(_stored_digest(store), judging_version(changed))
    assert again is not None
    assert again.verdict is not None
    hangup = again.verdict.agent_hung_up_first
    assert (hangup.value, hangup.source) == (True, "audio")


def _stored_digest(store: Store) -> str:
    with store.engine.connect() as connection:
        return connection.execute(text("select content_hash from transcripts")).scalar_one()


def test_bad_cdr_row_beside_a_sidecar_is_said(
    ruleset: Ruleset, listener: Listener, clean_en: SynthCall, tmp_path: Path
) -> None:
    """A bad CDR row does not fail a call whose sidecar gives the metadata, but the row says so
    (a review flag and the problem); where the sidecar lacks a field, the error names both."""
    (tmp_path / "full.wav").write_bytes(clean_en.path.read_bytes())
    (tmp_path / "thin.wav").write_bytes(clean_en.path.read_bytes())
    _write_sidecar(tmp_path / "full.json", "en-s-002", call_id="full")
    _write_sidecar(tmp_path / "thin.json", "en-s-002", call_id="thin", agent_id=None)
    (tmp_path / "calls.csv").write_text(
        "call_id,agent_id,started_at,duration_s,hangup_by\n"
        "full,A1,2026-11-02T10:00:00+08:00,long,agent\n"
        "thin,A1,2026-11-02T10:00:00+08:00,12,nobody\n",
        encoding="utf-8",
    )
    judge_paths(discover(tmp_path), tmp_path / "out" / "results.jsonl", ruleset,
                listener=listener)  # fmt: skip
    rows = _rows(tmp_path / "out" / "results.jsonl")
    full, thin = rows["full"], rows["thin"]
    assert full["status"] == "ok", full["error"]
    assert "cdr_row_invalid" in full["review_flags"]
    assert any("calls.csv" in w and "duration_s 'long'" in w for w in full["input_warnings"])
    assert full["agent_hung_up_first"]["source"] != "cdr"  # the bad row decides nothing
    assert thin["status"] == "failed"
    assert "agent_id" in thin["error"] and "calls.csv" in thin["error"]


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_batch(clean_en: SynthCall, clean_zh: SynthCall, tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    folder.mkdir()
    for made, name in ((clean_en, "en-s-002"), (clean_zh, "zh-s-006")):
        (folder / f"{name}.wav").write_bytes(made.path.read_bytes())
        _write_sidecar(folder / f"{name}.json", name)
    (folder / "corrupt.wav").write_bytes(np.random.default_rng(1).bytes(40_000))
    samples, rate = synth.read_wav(clean_en.path)
    _write_pcm(folder / "mono.wav", samples.sum(axis=1, keepdims=True), rate)
    _write_sidecar(folder / "mono.json", "en-s-002", call_id="mono")
    return folder


def test_cli_run_recordings(
    cli_batch: Path, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    # random weights fail every quality check, so they are decoded once
    # --diarization picks pyannote.audio (blocked here) for the mono call, which must fail
    args = ["run", str(cli_batch), "--out", str(tmp_path / "out"), "--db", db, "-q",
            "--asr-model", str(model_dir), "--asr-decode-once",
            "--diarization", "pyannote/speaker-diarization-community-1"]  # fmt: skip
    assert main(args) == 0
    results = tmp_path / "out" / "results.jsonl"
    rows = _rows(results)
    assert set(rows) == {"en-s-002", "zh-s-006", "corrupt", "mono"}
    assert rows["corrupt"]["status"] == "failed"
    assert "corrupt.wav" in rows["corrupt"]["error"]
    assert "not a readable audio file" in rows["corrupt"]["error"]
    assert rows["mono"]["status"] == "failed" and "diarization" in rows["mono"]["error"]
    sample = _sample("en-s-002")  # a failed row keeps its sidecar's fields
    assert (rows["mono"]["campaign"], rows["mono"]["agent_id"], rows["mono"]["team"]) == (
        sample.campaign, sample.agent_id, sample.team)  # fmt: skip
    assert rows["corrupt"]["campaign"] is None  # no sidecar: nothing to keep
    for call_id in ("en-s-002", "zh-s-006"):
        row = rows[call_id]
        assert row["status"] == "ok", row["error"]
        speech = row["asr"]["speech_s"]
        assert math.ceil(speech / 30) <= row["asr"]["encoder_windows"] <= speech / 30 + 1.5
        assert row["audio"]["talking_at_end"] == []  # the recordings end in silence
    assert rows["zh-s-006"]["asr"]["language"] == "zh"

    engine = create_engine(db)

    def counts() -> tuple[int, ...]:
        with engine.connect() as connection:
            return tuple(
                connection.execute(select(func.count()).select_from(text(table))).scalar_one()
                for table in ("recordings", "verdicts", "calls")
            )

    first = counts()
    assert first[0] == 2  # one row per leg of each heard call
    assert main(args) == 0
    assert counts() == first  # stored verdicts reused: nothing duplicated
    again = _rows(results)
    assert again == rows


def test_cli_models(
    model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = tmp_path / "models.yaml"
    config.write_text((ROOT / "models" / "models.yaml").read_text(encoding="utf-8"), "utf-8")
    assert main(["models", "list", "--models-config", str(config)]) == 0
    listed = capsys.readouterr().out
    for name in ("large-v3-turbo", "large-v3", "small", "tiny"):
        assert name in listed
    assert "* large-v3-turbo" in listed and "not on disk" in listed

    assert main(["models", "check", str(model_dir)]) == 0
    assert "loads on cpu/int8" in capsys.readouterr().out

    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert main(["models", "check", "tiny", "--models-config", str(config)]) != 0
    error = capsys.readouterr().err
    assert "E070" in error and "'tiny'" in error
    assert "--asr-model" in error and "models download tiny" in error
    assert not (tmp_path / "asr" / "tiny" / "model.bin").exists()
