"""Offline diarization of a mono call into two speakers with the bundled speaker encoder: no
torch, no model hub. pyannote.audio (diarize/pyannote.py) stays the choice where it runs; both
are selected in models.yaml (`diarization.kind`) behind the same interface.

Speech regions (Silero VAD) are cut into 0.8 s encoder windows every 0.2 s (a region shorter
than a window is one window, padded: a short backchannel gets a voice of its own). The windows'
d-vectors are split in two by spherical k-means started from the two least alike, each 0.1 s
step of speech takes the speaker of the windows covering it (their mean similarity), and a
speaker change shorter than `min_turn_s` inside a region is smoothed away. Roles are decided
later, from content, as for any diarization.
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


@dataclass(frozen=True)
class EmbeddingSettings:
    iterations: int = 12
    min_turn_s: float = 1.0  # a shorter change of speaker inside a region is smoothed away
    region_weight: float = 1.0  # of a region's mean voice against the voice at each step
    restarts: int = 8  # random starting pairs besides the least alike one
    sample: int = 1500  # windows compared pairwise to pick the two starting centroids


DEFAULT_SETTINGS = EmbeddingSettings()


@dataclass(frozen=True, slots=True)
class _Window:
    region: int
    start: float  # seconds, in the recording
    end: float


def _windows(
    samples: npt.NDArray[np.float32], regions: Sequence[SpeechRegion]
) -> tuple[list[_Window], npt.NDArray[np.float32]]:
    """Encoder windows over every region, and their mel features (n, FRAMES, N_MELS)."""
    found: list[_Window] = []
    feats: list[npt.NDArray[np.float32]] = []
    for n, region in enumerate(regions):
        mel = log_mel(samples[round(region.start * RATE) : round(region.end * RATE)])
        if len(mel) < FRAMES:  # short: one padded window, as the encoder's own recipe does
            mel = np.concatenate([mel, np.zeros((FRAMES - len(mel), mel.shape[1]), mel.dtype)])
        starts = list(range(0, len(mel) - FRAMES + 1, STRIDE))
        if starts[-1] != len(mel) - FRAMES:
            starts.append(len(mel) - FRAMES)  # the region's end is covered too
        for first in starts:
            begin = region.start + first * FRAME_S
            found.append(_Window(n, begin, min(region.end, begin + FRAMES * FRAME_S)))
            feats.append(mel[first : first + FRAMES])
    return found, np.stack(feats) if feats else np.zeros((0, FRAMES, 40), np.float32)


def _kmeans(
    vectors: npt.NDArray[np.float32], centroids: npt.NDArray[np.float32], iterations: int
) -> tuple[npt.NDArray[np.float32], float]:
    """Spherical k-means from `centroids`; the centroids and how well they fit (the mean
    similarity of each vector to its own)."""
    centroids = centroids.copy()
    for _ in range(iterations):
        labels = np.argmax(vectors @ centroids.T, axis=1)
        for k in range(len(centroids)):
            members = vectors[labels == k]
            if len(members):
                mean = members.mean(axis=0)
                centroids[k] = mean / (np.linalg.norm(mean) + 1e-12)
    return centroids, float(np.max(vectors @ centroids.T, axis=1).mean())


def two_speakers(
    vectors: npt.NDArray[np.float32], settings: EmbeddingSettings
) -> npt.NDArray[np.float32]:
    """Two unit centroids of unit `vectors`: spherical k-means from the least alike pair and
    from seeded random pairs, the best fit kept (one outlying window must not make a
    speaker)."""
    rng = np.random.default_rng(0)
    pick = vectors
    if len(vectors) > settings.sample:
        pick = vectors[rng.choice(len(vectors), settings.sample, replace=False)]
    similarity = pick @ pick.T
    a, b = np.unravel_index(int(np.argmin(similarity)), similarity.shape)
    starts = [np.stack([pick[a], pick[b]])]
    starts += [pick[rng.choice(len(pick), 2, replace=False)] for _ in range(settings.restarts)]
    fits = [_kmeans(vectors, start, settings.iterations) for start in starts]
    return max(fits, key=lambda fit: fit[1])[0]


def smooth_labels(labels: list[int], shortest: int) -> list[int]:
    """Runs shorter than `shortest` steps take the label of the run before them (or after,
    at the start)."""
    runs: list[list[int]] = []  # [label, length]
    for label in labels:
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    changed = True
    while changed and len(runs) > 1:
        changed = False
        for n, (_, length) in enumerate(runs):
            if length < shortest:
                neighbour = runs[n - 1] if n > 0 else runs[n + 1]
                neighbour[1] += length
                del runs[n]
                changed = True
                break
        merged: list[list[int]] = []
        for run in runs:
            if merged and merged[-1][0] == run[0]:
                merged[-1][1] += run[1]
            else:
                merged.append(run)
        runs = merged
    return [label for label, length in runs for _ in range(length)]


def diarize(
    samples: npt.NDArray[np.float32],
    regions: Sequence[SpeechRegion],
    encoder: SpeakerEncoder,
    settings: EmbeddingSettings = DEFAULT_SETTINGS,
) -> tuple[SpeakerTurn, ...]:
    """Two speakers' turns over `regions` of 16 kHz mono `samples`."""
    windows, feats = _windows(samples, regions)
    if not windows:
        return ()
    vectors = encoder.embed(feats)
    by_region: dict[int, list[int]] = {}
    for n, window in enumerate(windows):
        by_region.setdefault(window.region, []).append(n)
    centroids = two_speakers(vectors, settings)
    scores = vectors @ centroids.T  # (windows, 2)
    turns: list[SpeakerTurn] = []
    shortest = max(1, round(settings.min_turn_s / STEP_S))
    for r, members in by_region.items():
        region = regions[r]
        steps = max(1, round(region.duration / STEP_S))
        # A region is mostly one speaker's turn: its mean voice weighs in at every step, so
        # only a clear change of voice inside it splits it.
        whole = scores[members].mean(axis=0) * settings.region_weight
        labels = []
        for k in range(steps):
            t = region.start + (k + 0.5) * region.duration / steps
            covering = [n for n in members if windows[n].start <= t <= windows[n].end]
            near = covering or [min(members, key=lambda n: abs(windows[n].start - t))]
            labels.append(int(np.argmax(scores[near].mean(axis=0) + whole)))
        labels = smooth_labels(labels, shortest)
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
