"""Diarization error rate of two-speaker turns against a synthesised call's truth, on a 10 ms
grid: (missed + false alarm + confusion) / reference speech, under the better of the two ways
to name the hypothesis' speakers. No collar unless asked; overlapped truth counts both."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa_pipeline.diarize.turns import SpeakerTurn
from testing.audio_synth import SynthCall

STEP_S = 0.01


def _grid(spans: Sequence[tuple[float, float]], length: int) -> np.ndarray:
    active = np.zeros(length, bool)
    for start, end in spans:
        active[round(start / STEP_S) : round(end / STEP_S)] = True
    return active


def diarization_error(
    truth: SynthCall, turns: Sequence[SpeakerTurn], collar_s: float = 0.0
) -> float:
    length = round(truth.duration_s / STEP_S) + 1
    ref = [_grid([(t.start, t.end) for t in truth.turns if t.role == role], length)
           for role in ("agent", "customer")]  # fmt: skip
    labels = sorted({t.speaker for t in turns})[:2]
    hyp = [_grid([(t.start, t.end) for t in turns if t.speaker == label], length)
           for label in labels]  # fmt: skip
    while len(hyp) < 2:
        hyp.append(np.zeros(length, bool))
    scored = np.ones(length, bool)
    if collar_s:
        for t in truth.turns:
            for edge in (t.start, t.end):
                scored[
                    max(0, round((edge - collar_s) / STEP_S)) : round((edge + collar_s) / STEP_S)
                ] = False
    n_ref = ref[0].astype(int) + ref[1]
    n_hyp = hyp[0].astype(int) + hyp[1]
    best = None
    for a, b in ((0, 1), (1, 0)):
        correct = (ref[0] & hyp[a]).astype(int) + (ref[1] & hyp[b])
        error = np.maximum(n_ref, n_hyp) - correct
        total = float(error[scored].sum())
        best = total if best is None else min(best, total)
    return (best or 0.0) / max(1.0, float(n_ref[scored].sum()))
