"""Languages as registered, versioned objects: how a language splits sentences, reads numbers,
finds money, dates and durations, words prices and cancel methods, counts speech, and how ASR
garbles it. Code dispatches through `get(code)`; what a language's dialogue acts and forbidden
phrases sound like is data (`rules/languages/<code>.yaml`, `rules/forbidden/<code>.yaml`).

Importing this package registers the built-in languages; a new one registers itself with
`@register` from anywhere (a plugin, a test folder)."""

from qa_pipeline.languages import english, mandarin  # noqa: F401  (register built-ins)
from qa_pipeline.languages.base import AsrNoise, Language
from qa_pipeline.languages.registry import get, register, registered

__all__ = ["AsrNoise", "Language", "get", "register", "registered"]
