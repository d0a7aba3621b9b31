"""Hooks named by text, `package.module:function`: what a nightly chunk reports its steps to
(progress, tracing, fault drills). Only the name travels to a Dask worker, which imports the
function itself, so a hook needs to be importable there, not picklable."""

from __future__ import annotations

import importlib
from typing import cast

from qa_pipeline.batch.run import Hook
from qa_pipeline.errors import OptionsError


def load_hook(name: str) -> Hook:
    """The `(step, artifact)` function `name` points to."""
    module_name, _, attribute = name.partition(":")
    if not module_name or not attribute:
        raise OptionsError(f"hook {name!r}: expected package.module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise OptionsError(f"hook {name!r}: cannot import {module_name} ({exc})") from exc
    hook = getattr(module, attribute, None)
    if not callable(hook):
        raise OptionsError(f"hook {name!r}: {module_name} has no function {attribute}")
    return cast("Hook", hook)
