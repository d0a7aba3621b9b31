"""faster-whisper adapter: the only module that loads Whisper models or calls `transcribe`.

The batched pipeline runs over windows we packed ourselves (`clip_timestamps`), so each encoder
window is 30 s of speech; word timestamps map words back through the packing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa_pipeline.asr.model_config import ModelsConfig, fetch, load_models_config, locate_asr
from qa_pipeline.errors import ModelNotFoundError


@dataclass(frozen=True)
class AsrOptions:
    """How to load and run the model; `extra` passes further `transcribe` keywords through
    (benchmarks fix the decode length with it)."""

    model: str | None = None  # a name from models/models.yaml, a hub id or a local folder
    device: str = "auto"  # auto: cuda when a GPU is visible, else cpu
    compute_type: str = "auto"  # auto: float16 on cuda, int8 on cpu
    batch_size: int = 8
    beam_size: int = 1
    cpu_threads: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


def pick_device(device: str, compute_type: str) -> tuple[str, str]:
    import ctranslate2

    if device == "auto":
        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class Transcriber:
    """A loaded model; load once per process (`shared`): loading is the slow, retryable part."""

    def __init__(self, options: AsrOptions, config: ModelsConfig | None = None) -> None:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        config = config or load_models_config()
        location = locate_asr(options.model, config)
        folder: Path = fetch(location, config)
        self.name = location.name
        self.options = options
        self.device, self.compute_type = pick_device(options.device, options.compute_type)
        try:
            model = WhisperModel(
                str(folder),
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=options.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelNotFoundError(
                self.name, f"cannot load {folder} ({exc})", "Check the folder is a whole model"
            ) from exc
        self._pipeline = BatchedInferencePipeline(model)

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        windows: Sequence[tuple[float, float]],
        language: str | None,
        prompt: str | None,
        hotwords: str | None,
    ) -> list[Word]:
        """Words of `audio` (16 kHz), one encoder window per `(start, end)` in seconds."""
        if not windows:
            return []
        keywords: dict[str, Any] = {
            "language": language,
            "clip_timestamps": [{"start": s, "end": e} for s, e in windows],
            "batch_size": self.options.batch_size,
            "beam_size": self.options.beam_size,
            "word_timestamps": True,
            "without_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
            "initial_prompt": prompt,
            "hotwords": hotwords,
        } | dict(self.options.extra)
        segments, _ = self._pipeline.transcribe(audio, **keywords)
        return [
            Word(float(w.start), float(w.end), w.word, float(w.probability))
            for segment in segments
            for w in segment.words or ()
        ]


# Models a process keeps loaded, newest last: a Dask worker judges chunk after chunk, and each
# chunk's Listener finds the model its predecessor loaded. Two at most, so a process that
# switches models (a benchmark, a re-hearing) holds no more than the old and the new one.
_KEPT = 2
_LOADED: OrderedDict[str, Transcriber] = OrderedDict()
_LOADS = 0
_LOCK = threading.Lock()


def _key(options: AsrOptions, config: ModelsConfig) -> str:
    # repr, not hash: `extra` is a dict; the config file path stands for its contents
    return f"{options!r}|{config.path}"


def shared(options: AsrOptions, config: ModelsConfig | None = None) -> Transcriber:
    """The model `options` name, loaded once per process and then reused."""
    global _LOADS
    config = config or load_models_config()
    key = _key(options, config)
    with _LOCK:  # a worker with several threads loads a model once, not once per thread
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        transcriber = Transcriber(options, config)
        _LOADS += 1
        _LOADED[key] = transcriber
        while len(_LOADED) > _KEPT:
            _LOADED.popitem(last=False)
        return transcriber


def models_loaded() -> int:
    """How many times this process has loaded a model through `shared` (benchmarks and tests
    read it on each Dask worker: one load per worker and model, however many chunks)."""
    return _LOADS
