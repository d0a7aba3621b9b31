"""Check types under versioned names (spaCy-style), so rule files name what they use.

Each kind of check has its own signature (a Protocol below) and its own decorator. A check
declares the lexicons it reads, so the rules loader can tell a language pack that lacks one
before any call is judged. `params` is validated against the check's own pydantic model when the
rules load (with the loaded criteria's item names as validation context), never per call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from qa_pipeline.errors import UnknownCheckTypeError
from qa_pipeline.verdict.model import (
    Evidence,
    ForbiddenFinding,
    HangupResult,
    Item,
    OutcomeResult,
)

if TYPE_CHECKING:
    from qa_pipeline.checks.context import CallContext

Kind = Literal["item", "outcome", "hangup", "forbidden", "section"]
SectionFound = tuple[bool, tuple[Evidence, ...]]


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemCheck(Protocol):
    def __call__(self, ctx: CallContext, params: Any) -> Item: ...


class OutcomeCheck(Protocol):
    def __call__(self, ctx: CallContext, params: Any) -> OutcomeResult: ...


class HangupCheck(Protocol):
    def __call__(self, ctx: CallContext, params: Any) -> HangupResult: ...


class ForbiddenCheck(Protocol):
    def __call__(self, ctx: CallContext, params: Any) -> tuple[ForbiddenFinding, ...]: ...


class SectionCheck(Protocol):
    def __call__(
        self, ctx: CallContext, params: Any, items: Mapping[str, Item]
    ) -> SectionFound: ...


AnyCheck = ItemCheck | OutcomeCheck | HangupCheck | ForbiddenCheck | SectionCheck
F = TypeVar("F")


@dataclass(frozen=True)
class CheckType:
    name: str
    kind: Kind
    func: AnyCheck
    params_model: type[BaseModel]
    doc: str
    # Lexicons this check reads whatever its parameters (acts_present reads the ones named in
    # its params too; the loader adds those).
    requires_lexicons: frozenset[str]


REGISTRY: dict[str, CheckType] = {}


def _register(
    name: str, kind: Kind, params: type[BaseModel], lexicons: Collection[str]
) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        if name in REGISTRY:
            raise ValueError(f"check type {name!r} registered twice")
        paragraph = (getattr(func, "__doc__", None) or "").strip().split("\n\n")[0]
        doc = " ".join(line.strip() for line in paragraph.splitlines())
        REGISTRY[name] = CheckType(name, kind, func, params, doc, frozenset(lexicons))  # type: ignore[arg-type]
        return func

    return decorator


def item_check(
    name: str, params: type[BaseModel] = NoParams, lexicons: Collection[str] = ()
) -> Callable[[ItemCheck], ItemCheck]:
    return _register(name, "item", params, lexicons)


def outcome_check(
    name: str, params: type[BaseModel] = NoParams, lexicons: Collection[str] = ()
) -> Callable[[OutcomeCheck], OutcomeCheck]:
    return _register(name, "outcome", params, lexicons)


def hangup_check(
    name: str, params: type[BaseModel] = NoParams, lexicons: Collection[str] = ()
) -> Callable[[HangupCheck], HangupCheck]:
    return _register(name, "hangup", params, lexicons)


def forbidden_check(
    name: str, params: type[BaseModel] = NoParams, lexicons: Collection[str] = ()
) -> Callable[[ForbiddenCheck], ForbiddenCheck]:
    return _register(name, "forbidden", params, lexicons)


def section_check(
    name: str, params: type[BaseModel] = NoParams, lexicons: Collection[str] = ()
) -> Callable[[SectionCheck], SectionCheck]:
    return _register(name, "section", params, lexicons)


def get(name: str) -> CheckType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownCheckTypeError(name, REGISTRY) from None


def registered() -> Mapping[str, CheckType]:
    """Every check type, with the built-in ones registered (importing the package does that)."""
    import qa_pipeline.checks  # noqa: F401  (registers the built-in types)

    return REGISTRY
