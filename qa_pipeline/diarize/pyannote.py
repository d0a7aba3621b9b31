"""pyannote.audio adapter (the optional `diarization` extra): the only module that imports it.

Telemetry is switched off before import. When pyannote.audio is missing or cannot load (its
wheels need CUDA libraries on some machines), mono calls fail with a clear reason naming the
extra; they never get a made-up split.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from qa_pipeline.audio.decode import Audio
from qa_pipeline.diarize.turns import SpeakerTurn
from qa_pipeline.errors import DiarizationUnavailableError, ModelNotFoundError


def annotation_to_turns(annotation: Any) -> tuple[SpeakerTurn, ...]:
    """Turns from a `pyannote.core.Annotation` (or a pyannote 4 output holding one)."""
    annotation = getattr(annotation, "speaker_diarization", annotation)
    turns = [
        SpeakerTurn(str(label), round(float(seg.start), 3), round(float(seg.end), 3))
        for seg, _track, label in annotation.itertracks(yield_label=True)
    ]
    return tuple(sorted(turns, key=lambda t: (t.start, t.end)))


class Diarizer:
    def __init__(self, source: str, local_dir: Path | None = None) -> None:
        os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
        try:
            from pyannote.audio import Pipeline
        except Exception as exc:  # ImportError, or OSError from CUDA-linked wheels
            raise DiarizationUnavailableError(
                f"pyannote.audio cannot be imported ({exc.__class__.__name__}: {exc})"
            ) from exc
        candidates = [Path(source).expanduser()]
        if local_dir is not None:
            candidates.append(local_dir / source.replace("/", "--"))
        folder = next((c for c in candidates if (c / "config.yaml").is_file()), None)
        try:
            self._pipeline = Pipeline.from_pretrained(str(folder) if folder else source)
        except Exception as exc:  # hub errors differ across huggingface_hub versions
            raise ModelNotFoundError(
                source,
                f"cannot load the diarization pipeline ({exc.__class__.__name__})",
                "Give a local pipeline folder with config.yaml via --diarization PATH",
            ) from exc
        if self._pipeline is None:
            raise ModelNotFoundError(source, "the hub refused the pipeline", "Accept its terms")

    def __call__(self, audio: Audio) -> tuple[SpeakerTurn, ...]:
        import torch

        waveform = torch.from_numpy(audio.floats(0)).unsqueeze(0)
        output = self._pipeline({"waveform": waveform, "sample_rate": audio.sample_rate})
        return annotation_to_turns(output)
