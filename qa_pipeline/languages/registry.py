"""The language registry: code -> the Language that handles it."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from qa_pipeline.errors import UnsupportedLanguageError
from qa_pipeline.languages.base import Language

_LANGUAGES: dict[str, Language] = {}


def register(code: str) -> Callable[[type[Language]], type[Language]]:
    """Register a Language class under `code` (one instance serves every call)."""

    def decorator(cls: type[Language]) -> type[Language]:
        if code in _LANGUAGES:
            raise ValueError(f"language {code!r} registered twice")
        _LANGUAGES[code] = cls(code)
        return cls

    return decorator


def get(code: str) -> Language:
    try:
        return _LANGUAGES[code]
    except KeyError:
        raise UnsupportedLanguageError(code, _LANGUAGES) from None


def registered() -> Mapping[str, Language]:
    return _LANGUAGES
