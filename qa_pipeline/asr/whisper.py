"""faster-whisper adapter: the only module that loads Whisper models or calls `transcribe`.

The batched pipeline runs over windows we packed ourselves (`clip_timestamps`), so each encoder
window is 30 s of speech; word timestamps map words back through the packing. It decodes each
window once, at one temperature, with the language's beam (models.yaml; greedy unless set); a
window that lost speech is decoded again whole, and a region still poor by itself, with the
sequential `WhisperModel.transcribe` (`decode_alone`): the same beam, timestamps on (so an early
stop does not drop the rest), no prompt, and a loop decoded once more without repeats.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qa_pipeline.asr.blas import one_blas_thread
from qa_pipeline.asr.model_config import (
    AsrConfig,
    LanguagePacking,
    ModelsConfig,
    fetch,
    load_models_config,
    locate_asr,
)
from qa_pipeline.asr.packing import PackingMode
from qa_pipeline.asr.quality import QualityGate, compression_ratio
from qa_pipeline.audio.decode import ASR_RATE
from qa_pipeline.errors import ModelNotFoundError


@dataclass(frozen=True)
class AsrOptions:
    """How to load and run the model; `extra` passes further `transcribe` keywords through
    (benchmarks fix the decode length with it)."""

    model: str | None = None  # a name from models/models.yaml, a hub id or a local folder
    device: str = "auto"  # auto: cuda when a GPU is visible, else cpu
    compute_type: str = "auto"  # auto: float16 on cuda, int8 on cpu
    batch_size: int = 8
    beam_size: int | None = None  # None: each language's own (models.yaml `asr.packing`)
    cpu_threads: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    # A window or region that lost speech is decoded again alone, and marked asr_suspect when
    # still poor; None decodes once and checks nothing (random-weight test models).
    quality: QualityGate | None = field(default_factory=QualityGate)
    # What may share a window (asr/packing.py) and the seconds of its own audio each speech
    # region carries before and after it there (`pack`); None: each language's own, models.yaml
    # `asr.packing`. A value here holds for every language.
    packing: PackingMode | None = None
    region_pad_s: float | None = None

    def packing_for(self, config: AsrConfig, language: str) -> LanguagePacking:
        """The packing and beam a language's calls are heard with: these options' where set,
        else the language's own."""
        own = config.packing_for(language)
        return LanguagePacking(
            mode=own.mode if self.packing is None else self.packing,
            pad_s=own.pad_s if self.region_pad_s is None else self.region_pad_s,
            beam_size=own.beam_size if self.beam_size is None else self.beam_size,
        )

    def beam(self, beam_size: int | None) -> int:
        """The beam of one decode: the caller's (the language's), else these options', else 1."""
        return beam_size or self.beam_size or 1


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded window (or region alone): its words and Whisper's own figures."""

    words: tuple[Word, ...]
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float


# A window the batched pipeline returned nothing for: no words, and figures that fail it.
NOTHING = Decoded((), "", 0.0, 1.0, 1.0)
# Greedy only: a temperature ladder samples above 0, and sampled words differ from run to run
# (a CTranslate2 seed did not fix it), so a re-run or a Dask retry of a batch would hear the same
# audio differently; sampling also made more, not truer, Mandarin (docs/asr.md).
FALLBACK_TEMPERATURES = (0.0,)
MAX_NEW_TOKENS = 224  # with the 4-token start, within Whisper's 448 positions
LOOP_RATIO = 2.4  # Whisper's own: text that compresses more than this is a loop
# A looping decode alone is decoded again with no 3-token sequence said twice: deterministic,
# and it cut Mandarin loops ("新,新,新,...") to text with a third of the errors (docs/asr.md);
# a real repeat ("没关系没关系", "好的好的") is two tokens each side, so it stays.
LOOP_BREAK = 3


def _words(segment: Any) -> tuple[Word, ...]:
    return tuple(
        Word(float(w.start), float(w.end), w.word, float(w.probability))
        for w in segment.words or ()
    )


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
        self._model = model
        self._pipeline = BatchedInferencePipeline(model)

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        windows: Sequence[tuple[float, float]],
        language: str | None,
        prompt: str | None,
        hotwords: str | None,
        beam_size: int | None = None,
    ) -> list[Decoded]:
        """Each `(start, end)` window of `audio` (16 kHz, seconds) decoded: one `Decoded` per
        window, in order (NOTHING for a window that decoded to no text)."""
        if not windows:
            return []
        keywords: dict[str, Any] = {
            "language": language,
            "clip_timestamps": [{"start": s, "end": e} for s, e in windows],
            "batch_size": self.options.batch_size,
            "beam_size": self.options.beam(beam_size),
            "word_timestamps": True,
            "without_timestamps": True,
            "vad_filter": False,
            "condition_on_previous_text": False,
            "initial_prompt": prompt,
            "hotwords": hotwords,
        } | dict(self.options.extra)
        with one_blas_thread():  # the same features in every process (asr/blas.py)
            segments, _ = self._pipeline.transcribe(audio, **keywords)
            drawn = list(segments)  # decoding happens here, as the segments are drawn
        found: list[list[Any]] = [[] for _ in windows]
        starts = [s for s, _ in windows]
        for segment in drawn:  # a segment starts inside its window (at it, untimestamped)
            found[max(0, bisect.bisect_right(starts, segment.start + 0.01) - 1)].append(segment)
        return [_joined(parts) if parts else NOTHING for parts in found]

    def decode_alone(
        self, audio: npt.NDArray[np.float32], language: str | None, beam_size: int | None = None
    ) -> Decoded:
        """A stretch of speech (a region, or one packed window) decoded by itself,
        sequentially, greedily and with timestamps: no prompt to copy, and a decode that stops
        early seeks on from its last timestamp instead of dropping the rest. A decode that
        loops is decoded once more with no three tokens repeated (`LOOP_BREAK`), kept when it
        loops less: what Whisper's temperature ladder does by sampling, without the dice."""
        decoded = self._alone(audio, language, beam_size, 0)
        if decoded.compression_ratio <= LOOP_RATIO:
            return decoded
        again = self._alone(audio, language, beam_size, LOOP_BREAK)
        return again if again.compression_ratio < decoded.compression_ratio else decoded

    def _alone(
        self,
        audio: npt.NDArray[np.float32],
        language: str | None,
        beam_size: int | None,
        no_repeat: int,
    ) -> Decoded:
        seconds = len(audio) / ASR_RATE
        with one_blas_thread():  # the same features in every process (asr/blas.py)
            segments, _ = self._model.transcribe(
                audio,
                language=language,
                # far above any speech rate (Chinese ~12 tokens/s), so only a loop hits it
                max_new_tokens=min(MAX_NEW_TOKENS, int(20 * seconds) + 20),
                beam_size=self.options.beam(beam_size),
                temperature=FALLBACK_TEMPERATURES,
                compression_ratio_threshold=LOOP_RATIO,
                log_prob_threshold=-1.0,
                no_speech_threshold=None,  # VAD heard speech here: never skip it as silence
                condition_on_previous_text=False,
                word_timestamps=True,
                vad_filter=False,
                no_repeat_ngram_size=no_repeat,
            )
            parts = list(segments)  # decoding happens here, as the segments are drawn
        return _joined(parts) if parts else NOTHING


def _joined(segments: Sequence[Any]) -> Decoded:
    """Segments of one window as one decode: their words, and figures weighted by tokens."""
    weights = [max(1, len(s.tokens)) for s in segments]
    total = sum(weights)
    text = "".join(s.text for s in segments)
    return Decoded(
        tuple(w for s in segments for w in _words(s)),
        text,
        sum(s.avg_logprob * n for s, n in zip(segments, weights, strict=True)) / total,
        sum(s.no_speech_prob * n for s, n in zip(segments, weights, strict=True)) / total,
        compression_ratio(text),
    )


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
