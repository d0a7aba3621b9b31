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
call's mean evidence per step, so close and distant voices are treated alike). Both voices are
then re-estimated from the windows that path gives each speaker with clear evidence, and the
scoring and the path redone (`refine` rounds): a mixed chunk, or agent chunks k-means gave to a
customer who says little, stop bending the small speaker's centroid. A change inside a speech
region is an interruption: `overlap_s` either side of it is given to both speakers.
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
    # Rounds of re-estimating both voices from the windows the Viterbi path gives each speaker
    # with at least `confident` evidence: a chunk mixing both voices, or a few of the agent's
    # chunks taken by a customer who says little, no longer bends that customer's centroid.
    refine: int = 2
    confident: float = 0.2
    # Seconds each side of a speaker change inside a speech region given to both speakers: such a
    # change is an interruption, where both talk (the first speaker is cut off, not silent).
    overlap_s: float = 0.5


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
    return assign(windows, encoder.embed(feats), regions, settings)


def assign(
    windows: Sequence[_Window],
    vectors: Floats,
    regions: Sequence[SpeechRegion],
    settings: EmbeddingSettings = DEFAULT_SETTINGS,
) -> tuple[SpeakerTurn, ...]:
    """Two speakers' turns from the encoder's d-vector of every window."""
    chunk = _chunks(windows, regions, settings.chunk_s)
    means, within = _within(vectors, chunk, settings.shrink)
    values, axes = np.linalg.eigh(within)
    whiten = axes / np.sqrt(values)
    sizes = np.bincount(chunk).astype(np.float32)
    centre = (means * sizes[:, None]).sum(axis=0) / sizes.sum()
    speaker = two_speakers(((means - centre) @ whiten).astype(np.float32), settings, sizes)[chunk]
    path = _Path(windows, regions)
    if speaker.min() == speaker.max():
        return path.turns(np.ones(len(vectors), np.float32), settings)[0]  # one voice only
    mine = [speaker == 0, speaker == 1]
    for _ in range(settings.refine + 1):
        evidence = _evidence(vectors, within, vectors[mine[0]].mean(0), vectors[mine[1]].mean(0))
        turns, label = path.turns(evidence, settings)
        sure = [(label == 0) & (evidence >= settings.confident),
                (label == 1) & (-evidence >= settings.confident)]  # fmt: skip
        if min(int(s.sum()) for s in sure) < 2:
            break
        mine = sure
    return turns


def _within(vectors: Floats, chunk: npt.NDArray[np.intp], shrink: float) -> tuple[Floats, Floats]:
    """The chunk means, and the scatter of windows around their chunk's mean (what varies inside
    one voice), shrunk towards its mean variance."""
    means = np.stack([vectors[chunk == n].mean(axis=0) for n in range(int(chunk.max()) + 1)])
    spread = vectors - means[chunk]
    within = spread.T @ spread / len(spread)
    within += (shrink * np.trace(within) / len(within) + 1e-6) * np.eye(len(within))
    return means, within


def _evidence(vectors: Floats, within: Floats, a: Floats, b: Floats) -> Floats:
    """Each window's score along the discriminant of voices `a` (> 0) and `b` (< 0), in units
    of this call's mean evidence (so close and distant voices are treated alike)."""
    direction = np.linalg.solve(within, a - b)
    evidence = vectors @ direction - (a + b) @ direction / 2
    return (evidence / (float(np.mean(np.abs(evidence))) + 1e-9)).astype(np.float32)


class _Path:
    """The 0.1 s steps of every speech region and the windows covering each."""

    def __init__(self, windows: Sequence[_Window], regions: Sequence[SpeechRegion]) -> None:
        members: dict[int, list[int]] = {}
        for n, window in enumerate(windows):
            members.setdefault(window.region, []).append(n)
        self._regions = [(regions[r], self._covers(windows, m, regions[r]))
                         for r, m in members.items()]  # fmt: skip
        self._count = len(windows)

    @staticmethod
    def _covers(windows: Sequence[_Window], members: Sequence[int], region: SpeechRegion
                ) -> list[list[int]]:  # fmt: skip
        steps = max(1, round(region.duration / STEP_S))
        covers = []
        for k in range(steps):
            t = region.start + (k + 0.5) * region.duration / steps
            covering = [n for n in members if windows[n].start <= t <= windows[n].end]
            covers.append(covering or [min(members, key=lambda n: abs(windows[n].start - t))])
        return covers

    def turns(self, evidence: Floats, settings: EmbeddingSettings
              ) -> tuple[tuple[SpeakerTurn, ...], npt.NDArray[np.intp]]:  # fmt: skip
        """The Viterbi path's turns, and each window's label on it (-1 where it straddles a
        change)."""
        turns: list[SpeakerTurn] = []
        label = np.full(self._count, -2, np.intp)  # -2: not yet seen
        for region, covers in self._regions:
            steps = len(covers)
            path = viterbi([float(evidence[near].mean()) for near in covers],
                           settings.switch_penalty)  # fmt: skip
            for near, k in zip(covers, path, strict=True):
                label[near] = np.where(np.isin(label[near], (-2, k)), k, -1)
            start = 0
            for k in range(1, steps + 1):
                if k == steps or path[k] != path[start]:
                    a = region.start + start * region.duration / steps
                    b = region.start + k * region.duration / steps
                    if start > 0:  # both talk around a change inside a region
                        a = max(region.start, a - settings.overlap_s)
                    if k < steps:
                        b = min(region.end, b + settings.overlap_s)
                    turns.append(SpeakerTurn(LABELS[path[start]], round(a, 3), round(b, 3)))
                    start = k
        return tuple(turns), label


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
