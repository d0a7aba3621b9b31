"""Offline diarization of a mono call into two speakers with the bundled speaker encoder: no
torch, no model hub. pyannote.audio (diarize/pyannote.py) stays the choice where it runs; both
are selected in models.yaml (`diarization.kind`) behind the same interface.

Speech regions (Silero VAD) are cut into 0.8 s encoder windows every 0.2 s (a region shorter
than a window is one window, its frames repeated to fill it). Each region is cut into equal
chunks of at most `chunk_s`: a chunk's mean d-vector is far less noisy than one window's, and a
chunk stays short enough that a region holding both speakers (an interruption) cannot pull a
centroid its way. Windows of one chunk are one speaker, so their scatter around the chunk's mean
is what varies within a voice (what is said); the chunk means are whitened by that scatter
(shrunk towards its mean variance) before weighted k-means splits them in two, which keeps close
voices apart and a speaker who says little from being outvoted by a split of the other one.
Every window is then scored along the discriminant of the two sides (the same whitening), each
0.1 s step of speech takes the mean score of the windows covering it, and a Viterbi pass inside
each region switches speaker only where the evidence outweighs `switch_penalty` (in units of the
call's mean evidence per step, so close and distant voices are treated alike).
Roles are decided later, from content, as for any diarization.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from qa_pipeline.audio.decode import Audio
from qa_pipeline.audio.vad import SpeechRegion, VadSettings, speech_regions
from qa_pipeline.diarize.speaker_encoder import FRAME_S, FRAMES, RATE, SpeakerEncoder, log_mel
from qa_pipeline.diarize.turns import SpeakerTurn

STRIDE = 20  # frames between window starts (0.2 s)
STEP_S = 0.1  # resolution of the speaker timeline
LABELS = ("SPEAKER_00", "SPEAKER_01")

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EmbeddingSettings:
    iterations: int = 30  # k-means rounds per start
    restarts: int = 20  # seeded random starting pairs; the tightest split is kept
    chunk_s: float = 4.0  # longest piece of a region clustered as one voice
    shrink: float = 0.3  # of the within-chunk scatter towards its mean variance (regularises)
    # Evidence (mean evidence per 0.1 s step is 1) a speaker change inside a region must win;
    # 16 is about 1.6 s of typical evidence. Chosen on bench/mono_diarization.py's calls 1-6:
    # lower lets close male voices flip back and forth, higher holds off real changes.
    switch_penalty: float = 16.0


DEFAULT_SETTINGS = EmbeddingSettings()


@dataclass(frozen=True, slots=True)
class _Window:
    region: int
    start: float  # seconds, in the recording
    end: float


def _windows(samples: Floats, regions: Sequence[SpeechRegion]) -> tuple[list[_Window], Floats]:
    """Encoder windows over every region, and their mel features (n, FRAMES, N_MELS)."""
    found: list[_Window] = []
    feats: list[Floats] = []
    for n, region in enumerate(regions):
        mel = log_mel(samples[round(region.start * RATE) : round(region.end * RATE)])
        if len(mel) < FRAMES:  # short: its own frames repeated (closer to the voice than padding)
            mel = np.concatenate([mel] * (FRAMES // len(mel) + 1))[:FRAMES]
        starts = list(range(0, len(mel) - FRAMES + 1, STRIDE))
        if starts[-1] != len(mel) - FRAMES:
            starts.append(len(mel) - FRAMES)  # the region's end is covered too
        for first in starts:
            begin = region.start + first * FRAME_S
            found.append(_Window(n, begin, min(region.end, begin + FRAMES * FRAME_S)))
            feats.append(mel[first : first + FRAMES])
    return found, np.stack(feats) if feats else np.zeros((0, FRAMES, 40), np.float32)


def _kmeans(
    vectors: Floats, weights: Floats, centroids: Floats, iterations: int
) -> tuple[npt.NDArray[np.intp], float]:
    """Weighted k-means from `centroids`: the labels and the weighted squared error."""
    centroids = centroids.copy()
    labels = np.zeros(len(vectors), np.intp)
    for _ in range(iterations):
        distance = ((vectors[:, None, :] - centroids[None]) ** 2).sum(-1)
        labels = np.argmin(distance, axis=1)
        for k in range(len(centroids)):
            mine = labels == k
            if mine.any():
                centroids[k] = (vectors[mine] * weights[mine, None]).sum(0) / weights[mine].sum()
    error = float((weights * ((vectors - centroids[labels]) ** 2).sum(-1)).sum())
    return labels, error


def two_speakers(
    vectors: Floats, settings: EmbeddingSettings, weights: Floats | None = None
) -> npt.NDArray[np.intp]:
    """A 0/1 label per vector: weighted k-means from seeded random pairs (drawn by
    weight), the split with the least squared error kept (one outlying vector must not make a
    speaker)."""
    if len(vectors) < 2:
        return np.zeros(len(vectors), np.intp)
    if weights is None:
        weights = np.ones(len(vectors), np.float32)
    rng = np.random.default_rng(0)
    p = weights.astype(np.float64) / float(weights.sum())
    fits = [
        _kmeans(vectors, weights, vectors[rng.choice(len(vectors), 2, replace=False, p=p)],
                settings.iterations)
        for _ in range(settings.restarts)
    ]  # fmt: skip
    return min(fits, key=lambda fit: fit[1])[0]


def viterbi(evidence: Sequence[float], penalty: float) -> list[int]:
    """0/1 per step: label 0 where `evidence` > 0 and 1 where < 0, paying `penalty` per
    change of label (the path of least total cost)."""
    cost = [-evidence[0], evidence[0]]
    back: list[tuple[int, int]] = [(0, 1)]
    for e in evidence[1:]:
        came = tuple(k if cost[k] <= cost[1 - k] + penalty else 1 - k for k in (0, 1))
        cost = [cost[came[0]] + (penalty if came[0] else 0) - e,
                cost[came[1]] + (penalty if not came[1] else 0) + e]  # fmt: skip
        back.append((came[0], came[1]))
    labels = [0 if cost[0] <= cost[1] else 1]
    for came in reversed(back[1:]):
        labels.append(came[labels[-1]])
    return labels[::-1]


def _chunks(windows: Sequence[_Window], regions: Sequence[SpeechRegion], chunk_s: float
            ) -> npt.NDArray[np.intp]:  # fmt: skip
    """Each window's chunk: its region cut into equal pieces of at most `chunk_s`, a window
    going to the piece holding its middle."""
    keys = []
    for window in windows:
        region = regions[window.region]
        pieces = max(1, int(np.ceil(region.duration / chunk_s)))
        middle = (window.start + window.end) / 2 - region.start
        keys.append((window.region, min(pieces - 1, int(middle / region.duration * pieces))))
    index = {key: n for n, key in enumerate(sorted(set(keys)))}
    return np.array([index[key] for key in keys], np.intp)


def diarize(
    samples: Floats,
    regions: Sequence[SpeechRegion],
    encoder: SpeakerEncoder,
    settings: EmbeddingSettings = DEFAULT_SETTINGS,
) -> tuple[SpeakerTurn, ...]:
    """Two speakers' turns over `regions` of 16 kHz mono `samples`."""
    windows, feats = _windows(samples, regions)
    if not windows:
        return ()
    vectors = encoder.embed(feats)
    chunk = _chunks(windows, regions, settings.chunk_s)
    count = int(chunk.max()) + 1
    sizes = np.bincount(chunk, minlength=count).astype(np.float32)
    means = np.stack([vectors[chunk == n].mean(axis=0) for n in range(count)])
    spread = vectors - means[chunk]
    within = spread.T @ spread / len(spread)
    within += (settings.shrink * np.trace(within) / len(within) + 1e-6) * np.eye(len(within))
    values, axes = np.linalg.eigh(within)
    whiten = axes / np.sqrt(values)
    centre = (means * sizes[:, None]).sum(axis=0) / sizes.sum()
    speaker = two_speakers(((means - centre) @ whiten).astype(np.float32), settings, sizes)[chunk]
    if speaker.min() == speaker.max():
        evidence = np.ones(len(vectors))  # one voice only
    else:
        a, b = vectors[speaker == 0].mean(axis=0), vectors[speaker == 1].mean(axis=0)
        direction = np.linalg.solve(within, a - b)
        evidence = vectors @ direction - (a + b) @ direction / 2
        evidence /= float(np.mean(np.abs(evidence))) + 1e-9  # in units of this call's evidence
    by_region: dict[int, list[int]] = {}
    for n, window in enumerate(windows):
        by_region.setdefault(window.region, []).append(n)
    turns: list[SpeakerTurn] = []
    for r, members in by_region.items():
        region = regions[r]
        steps = max(1, round(region.duration / STEP_S))
        scores = []
        for k in range(steps):
            t = region.start + (k + 0.5) * region.duration / steps
            covering = [n for n in members if windows[n].start <= t <= windows[n].end]
            near = covering or [min(members, key=lambda n: abs(windows[n].start - t))]
            scores.append(float(evidence[near].mean()))
        labels = viterbi(scores, settings.switch_penalty)
        start = 0
        for k in range(1, steps + 1):
            if k == steps or labels[k] != labels[start]:
                a = region.start + start * region.duration / steps
                b = region.start + k * region.duration / steps
                turns.append(SpeakerTurn(LABELS[labels[start]], round(a, 3), round(b, 3)))
                start = k
    return tuple(turns)


class EmbeddingDiarizer:
    """The offline diarizer: the speaker encoder loaded once, called per mono recording."""

    def __init__(self, folder: Path, vad: VadSettings | None = None) -> None:
        self._encoder = SpeakerEncoder(folder)
        self._vad = vad or VadSettings()

    def __call__(self, audio: Audio) -> tuple[SpeakerTurn, ...]:
        if audio.sample_rate != RATE:
            raise ValueError(f"audio must be decoded at {RATE} Hz")
        regions = speech_regions(audio, 0, self._vad)
        return diarize(audio.floats(0), regions, self._encoder)
