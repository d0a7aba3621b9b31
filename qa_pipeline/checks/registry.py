"""Check types under versioned names (spaCy-style), so rule files name what they use.

A check is a pure function `(CallContext, params) -> result`; `params` is validated against the
check's own pydantic model when the rules load, never per call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from qa_pipeline.errors import UnknownCheckTypeError

Kind = Literal["item", "outcome", "hangup", "forbidden", "section"]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CheckType:
    name: str
    kind: Kind
    func: Callable[..., Any]
    params_model: type[BaseModel]
    doc: str


REGISTRY: dict[str, CheckType] = {}


def register(
    name: str, kind: Kind, params: type[BaseModel] = NoParams
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        if name in REGISTRY:
            raise ValueError(f"check type {name!r} registered twice")
        paragraph = (func.__doc__ or "").strip().split("\n\n")[0]
        doc = " ".join(line.strip() for line in paragraph.splitlines())
        REGISTRY[name] = CheckType(name, kind, func, params, doc)
        return func

    return decorator


def get(name: str) -> CheckType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownCheckTypeError(name, REGISTRY) from None
