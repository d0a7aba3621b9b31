"""The random-weight Whisper model runs through the real faster-whisper code paths."""

from __future__ import annotations

import json
import math
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES

from testing.random_model import (
    SHAPES,
    WHISPER_LANGUAGES,
    build_random_whisper,
    build_tokenizer,
    fixed_decode_options,
)

SR = 16000


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_random_whisper(tmp_path_factory.mktemp("whisper") / "test-tiny", "test-tiny")


@pytest.fixture(scope="session")
def tiny_model(tiny_dir: Path) -> Any:
    return WhisperModel(str(tiny_dir), device="cpu", compute_type="int8")


def _tone_with_noise(seconds: float, seed: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * noise).astype(np.float32)


def _write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SR)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def test_layout_matches_whisper(tiny_dir: Path) -> None:
    files = {p.name for p in tiny_dir.iterdir()}
    assert {
        "model.bin",
        "config.json",
        "vocabulary.json",
        "tokenizer.json",
        "preprocessor_config.json",
    } <= files
    assert sum(p.stat().st_size for p in tiny_dir.iterdir()) < 7_000_000

    vocab = json.loads((tiny_dir / "vocabulary.json").read_text(encoding="utf-8"))
    assert len(vocab) == SHAPES["test-tiny"].vocab_size == 51865  # multilingual Whisper size
    # Same ids as OpenAI's multilingual tokenizer.
    assert vocab[220] == "Ġ"
    assert vocab[50257:50260] == ["<|endoftext|>", "<|startoftranscript|>", "<|en|>"]
    assert vocab[50260] == "<|zh|>"
    assert vocab[50358:50364] == [
        "<|translate|>",
        "<|transcribe|>",
        "<|startoflm|>",
        "<|startofprev|>",
        "<|nocaptions|>",
        "<|notimestamps|>",
    ]
    assert vocab[50364] == "<|0.00|>" and vocab[-1] == "<|30.00|>"

    config = json.loads((tiny_dir / "config.json").read_text(encoding="utf-8"))
    assert config["lang_ids"] == list(range(50259, 50358))
    assert config["suppress_ids_begin"] == [220, 50257]
    assert config["alignment_heads"] == [[1, 0], [1, 1]]
    assert {50258, 50358, 50359, 50360, 50361, 50362} <= set(config["suppress_ids"])
    assert 220 not in config["suppress_ids"]  # " -" is its own token, as in GPT-2

    pre = json.loads((tiny_dir / "preprocessor_config.json").read_text(encoding="utf-8"))
    assert pre["feature_size"] == 80 and pre["sampling_rate"] == SR


def test_language_tokens_are_faster_whispers() -> None:
    assert len(WHISPER_LANGUAGES) == 100 and WHISPER_LANGUAGES[:2] == ("en", "zh")
    assert set(WHISPER_LANGUAGES) == set(_LANGUAGE_CODES)
    large_v3 = build_tokenizer(SHAPES["large-v3-turbo"].num_languages)
    assert large_v3.get_vocab_size() == SHAPES["large-v3-turbo"].vocab_size == 51866
    assert large_v3.token_to_id("<|yue|>") == 50358
    assert large_v3.token_to_id("<|0.00|>") == large_v3.token_to_id("<|notimestamps|>") + 1


def test_tokenizer_round_trips_mixed_text() -> None:
    tok = build_tokenizer()
    text = "您好，这里是客服 hello, this call may be recorded."
    assert tok.decode(tok.encode(text, add_special_tokens=False).ids) == text


def test_model_loads_as_multilingual(tiny_model: Any) -> None:
    ct2 = tiny_model.model
    assert ct2.is_multilingual and ct2.num_languages == 99 and ct2.n_mels == 80


def test_transcribe_zh_with_word_timestamps(tiny_model: Any, tmp_path: Path) -> None:
    wav = _write_wav(tmp_path / "tone.wav", _tone_with_noise(5.0))
    segments, info = tiny_model.transcribe(
        str(wav),
        language="zh",
        word_timestamps=True,
        vad_filter=False,
        beam_size=1,
        temperature=0.0,
        max_new_tokens=60,
    )
    segments = list(segments)
    assert info.language == "zh"  # kept, not replaced by "en" as for English-only models
    assert segments
    for seg in segments:
        assert math.isfinite(seg.start) and math.isfinite(seg.end) and seg.start <= seg.end
        for word in seg.words:
            assert math.isfinite(word.start) and math.isfinite(word.end)
    assert any(seg.words for seg in segments)


def test_batched_pipeline(tiny_model: Any) -> None:
    pipeline = BatchedInferencePipeline(tiny_model)
    segments, info = pipeline.transcribe(
        _tone_with_noise(5.0),
        language="en",
        batch_size=4,
        vad_filter=False,
        word_timestamps=True,
        max_new_tokens=40,
    )
    segments = list(segments)
    assert info.language == "en" and segments
    assert all(math.isfinite(s.start) and math.isfinite(s.end) for s in segments)
    assert any(s.words for s in segments)


@pytest.mark.parametrize("n_tokens", [1, 2, 7, 32])
def test_fixed_decode_length(tiny_dir: Path, tiny_model: Any, n_tokens: int) -> None:
    options = fixed_decode_options(tiny_dir, n_tokens)
    audio = _tone_with_noise(60.0)
    segments, _ = tiny_model.transcribe(audio, language="zh", vad_filter=False, **options)
    assert [len(s.tokens) for s in segments] == [n_tokens, n_tokens]  # one per 30 s window

    pipeline = BatchedInferencePipeline(tiny_model)
    clips = [{"start": 0.0, "end": 30.0}, {"start": 30.0, "end": 60.0}]
    segments, _ = pipeline.transcribe(
        audio, language="en", vad_filter=False, batch_size=2, clip_timestamps=clips, **options
    )
    assert [len(s.tokens) for s in segments] == [n_tokens, n_tokens]


def test_fixed_decode_length_bounds(tiny_dir: Path) -> None:
    assert fixed_decode_options(tiny_dir, 224)["max_new_tokens"] == 444  # 4 + 444 = 448 positions
    for bad in (0, 225):
        with pytest.raises(ValueError):
            fixed_decode_options(tiny_dir, bad)


def test_build_is_deterministic(tiny_dir: Path, tmp_path: Path) -> None:
    again = build_random_whisper(tmp_path / "again", "test-tiny")
    for name in ("model.bin", "tokenizer.json", "config.json", "vocabulary.json"):
        assert (again / name).read_bytes() == (tiny_dir / name).read_bytes(), name
    other = build_random_whisper(tmp_path / "other", "test-tiny", seed=1)
    assert (other / "model.bin").read_bytes() != (tiny_dir / "model.bin").read_bytes()
