"""The data folders that ship with the package: `rules/` and `models/`.

In a source checkout they are the top-level folders beside `qa_pipeline/`, where people edit
them; an installed wheel carries copies inside the package (`qa_pipeline/_rules`,
`qa_pipeline/_models`, mapped in pyproject.toml), found with importlib.resources.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def bundled_dir(name: str, marker: str) -> Path:
    """The folder `name` ("rules", "models"): the checkout's when it holds `marker`, else the
    installed copy (a wheel installs as plain files, so it is a real folder)."""
    checkout = _CHECKOUT / name
    if (checkout / marker).is_file():
        return checkout
    return Path(str(files("qa_pipeline").joinpath(f"_{name}")))
