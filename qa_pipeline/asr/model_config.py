"""Locate models from `models/models.yaml`: a local path, a configured local copy, or a hub
download when the hub is reachable. Offline, a missing model is a ModelNotFoundError that says
how to provide it. Settings are data; nothing here loads a model."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from qa_pipeline.errors import ModelNotFoundError, RuleFileError
from qa_pipeline.ruleset.bundled import bundled_dir
from qa_pipeline.ruleset.yaml_text import YamlProblem, parse_yaml

CT2_FILES = ("model.bin", "config.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubModel(_Strict):
    hub_id: str


class AsrConfig(_Strict):
    default: str
    dir: str
    models: dict[str, HubModel]
    prompts: dict[str, str]


class DiarizationConfig(_Strict):
    pipeline: str
    dir: str


class UnderstandingConfig(_Strict):
    """The understanding stage: a sentence encoder and the heads trained on it."""

    encoder: str  # an encoder kind (qa_pipeline.understanding.encoders.KINDS)
    threads: int = 1
    heads: str  # folder of <language>.npz / .json, relative to models.yaml
    pipeline: str  # the spaCy pipeline config, relative to models.yaml


class ModelsFile(_Strict):
    asr: AsrConfig
    diarization: DiarizationConfig
    understanding: UnderstandingConfig | None = None


@dataclass(frozen=True)
class ModelsConfig:
    path: Path
    file: ModelsFile

    @property
    def asr_dir(self) -> Path:
        return self.path.parent / self.file.asr.dir

    @property
    def diarization_dir(self) -> Path:
        return self.path.parent / self.file.diarization.dir

    def relative(self, path: str) -> Path:
        return self.path.parent / path


def default_config() -> Path:
    """`models/models.yaml` of a source checkout, else the copy installed with the package."""
    return bundled_dir("models", "models.yaml") / "models.yaml"


def load_models_config(path: Path | None = None) -> ModelsConfig:
    path = path or default_config()
    try:
        data: Any = parse_yaml(path.read_text(encoding="utf-8"))
        return ModelsConfig(path, ModelsFile.model_validate(data))
    except OSError as exc:
        raise RuleFileError(str(path), [f"cannot read: {exc.strerror}"]) from exc
    except YamlProblem as exc:
        raise RuleFileError(str(path), [str(exc)]) from exc
    except ValidationError as exc:
        problems = [".".join(map(str, e["loc"])) + f": {e['msg']}" for e in exc.errors()]
        raise RuleFileError(str(path), problems) from exc


def is_ct2_dir(path: Path) -> bool:
    return path.is_dir() and all((path / name).is_file() for name in CT2_FILES)


@dataclass(frozen=True)
class ModelLocation:
    name: str
    path: Path | None  # a ready CTranslate2 folder, or None when it must be downloaded
    hub_id: str | None


def locate_asr(name_or_path: str | None, config: ModelsConfig) -> ModelLocation:
    """Where an ASR model is (or would be downloaded from); never touches the network."""
    name = name_or_path or config.file.asr.default
    given = Path(name).expanduser()
    if is_ct2_dir(given):
        return ModelLocation(name, given, None)
    if given.is_absolute() or name.startswith((".", "~")) or given.exists():
        raise ModelNotFoundError(
            name,
            "the folder is not a CTranslate2 Whisper model (needs " + ", ".join(CT2_FILES) + ")",
            "Convert it with ct2-transformers-converter or point to another folder",
        )
    local = config.asr_dir / name
    entry = config.file.asr.models.get(name)
    hub_id = entry.hub_id if entry else (name if "/" in name else None)
    if hub_id is None:
        from faster_whisper.utils import available_models  # names faster-whisper knows

        if name not in available_models():
            known = sorted({*config.file.asr.models, *available_models()})
            raise ModelNotFoundError(
                name, "unknown model name", "Choose one of: " + ", ".join(known) + " or a path"
            )
        hub_id = name
    return ModelLocation(name, local if is_ct2_dir(local) else None, hub_id)


def fetch(location: ModelLocation, config: ModelsConfig) -> Path:
    """A ready model folder: the local copy, else a hub download into the models folder."""
    if location.path is not None:
        return location.path
    assert location.hub_id is not None
    target = config.asr_dir / location.name
    how = (
        f"Offline, copy a CTranslate2 Whisper folder to {target}, or pass --asr-model "
        f"/path/to/folder; online, run `qa-pipeline models download {location.name}`"
    )
    from faster_whisper.utils import download_model
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        with warnings.catch_warnings():  # huggingface_hub's deprecation notes are not ours
            warnings.simplefilter("ignore")
            folder = download_model(location.hub_id, output_dir=str(target))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError, ValueError) as exc:
        raise ModelNotFoundError(
            location.name, f"not on disk and the download failed ({exc.__class__.__name__})", how
        ) from exc
    return Path(folder)


@dataclass(frozen=True)
class ModelStatus:
    name: str
    hub_id: str
    path: Path | None  # the local copy, when there is one
    default: bool


def model_statuses(config: ModelsConfig) -> list[ModelStatus]:
    """Every configured ASR model and whether a local copy is ready."""
    asr = config.file.asr
    return [
        ModelStatus(
            name,
            entry.hub_id,
            config.asr_dir / name if is_ct2_dir(config.asr_dir / name) else None,
            name == asr.default,
        )
        for name, entry in asr.models.items()
    ]
