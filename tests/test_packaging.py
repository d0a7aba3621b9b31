"""Packaging: the wheel carries rules/ and models/ and works with no checkout around; the lock
file pins every declared dependency and never torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from qa_pipeline.cli import main
from qa_pipeline.judging.judge import load_rules
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DATA = {"qa_pipeline._rules": "rules", "qa_pipeline._models": "models"}


def test_package_list_is_the_packages_on_disk() -> None:
    """pyproject.toml lists the packages (so rules/ and models/ can be mapped in): a package
    added on disk and not listed would be missing from the wheel."""
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "qa_pipeline").rglob("__init__.py")
    }
    assert set(setuptools["packages"]) == on_disk | set(DATA)
    assert setuptools["package-dir"] == DATA


def _locked() -> dict[str, str]:
    """Package -> pinned version, for the pins whose markers hold on this interpreter."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements-dev.lock").read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum():
            requirement = Requirement(line.rstrip(" \\"))
            if requirement.marker is None or requirement.marker.evaluate():
                (pin,) = requirement.specifier
                pins[canonicalize_name(requirement.name)] = pin.version
    return pins


def test_lock_pins_every_declared_dependency() -> None:
    project = PYPROJECT["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"], *extras["dev"]]
    declared += [r for extra in ("parquet", "postgres", "charts") for r in extras[extra]]
    pins = _locked()
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name == "qa-pipeline":  # dev's own extras, listed above
            continue
        assert name in pins, f"{name} is declared but not in requirements-dev.lock: make lock"
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} vs {text}"
    assert "torch" not in pins, "torch is no dependency: the diarization extra brings it"


def _run(command: list[str], cwd: Path) -> str:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow  # builds a wheel and a venv
def test_installed_wheel_judges_without_a_checkout(tmp_path: Path) -> None:
    """The wheel, installed into a fresh venv that sees this environment's packages but not
    the checkout, finds its bundled rules and models and judges the samples exactly as the
    checkout does."""
    source = _mkdir(tmp_path / "source")  # what the wheel is built from, nothing else
    for name in ("pyproject.toml", "README.md", "models/models.yaml", "models/README.md"):
        _mkdir((source / name).parent)
        shutil.copy(ROOT / name, source / name)
    for name in ("qa_pipeline", "rules", "models/understanding"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    python = sys.executable
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), "."], source)
    (wheel,) = tmp_path.glob("qa_pipeline-*.whl")
    venv = tmp_path / "venv"
    _run([python, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    _run([*pip, "--python", str(venv / "bin" / "python"), "install", "--no-deps", str(wheel)],
         tmp_path)  # fmt: skip
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import site; print(site.getsitepackages()[0])"], tmp_path).strip())  # fmt: skip
    # This environment's packages after the venv's own, which holds qa_pipeline from the wheel.
    (site / "dev_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    elsewhere = _mkdir(tmp_path / "elsewhere")
    where = _run([str(venv / "bin" / "python"), "-c", (
        "import json, qa_pipeline; from qa_pipeline.ruleset import default_rules_dir; "
        "from qa_pipeline.asr.model_config import default_config; "
        "print(json.dumps([qa_pipeline.__file__, str(default_rules_dir()), str(default_config())]))"
    )], elsewhere)  # fmt: skip
    assert all(Path(path).is_relative_to(site) for path in json.loads(where)), where

    cli = str(venv / "bin" / "qa-pipeline")
    version = load_rules(ROOT / "rules").version
    assert f"rules {version}: 7 campaigns" in _run([cli, "rules", "check"], elsewhere)
    _run([cli, "run", str(ROOT / "samples" / "calls"), "--out", "out", "-q"], elsewhere)
    db = f"sqlite:///{tmp_path / 'qa.db'}"
    main(["run", str(ROOT / "samples" / "calls"), "--out", str(tmp_path / "checkout"), "-q", "--db", db])  # fmt: skip
    installed = (elsewhere / "out" / "results.jsonl").read_text(encoding="utf-8")
    assert installed == (tmp_path / "checkout" / "results.jsonl").read_text(encoding="utf-8")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
