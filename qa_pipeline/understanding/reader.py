"""The understanding stage for the judge: one spaCy pipeline per language, built on first use,
reading every sentence of a call. Languages without trained heads are left to the rules.
spaCy is imported only when a pipeline is built (the command line starts without it)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from qa_pipeline.asr.model_config import ModelsConfig, UnderstandingConfig
from qa_pipeline.errors import ModelNotFoundError
from qa_pipeline.ruleset.loader import Ruleset
from qa_pipeline.understanding.call_heads import CallHeads, load_call_heads
from qa_pipeline.understanding.encoders import EncodingStore
from qa_pipeline.understanding.features import LexiconHits
from qa_pipeline.understanding.reading import Reading

Item = tuple[str, str, str]  # a sentence's view, its side, the other party's turn before it


class Reader:
    def __init__(self, models: ModelsConfig, config: UnderstandingConfig, ruleset: Ruleset) -> None:
        self.models = models
        self.config = config
        self.ruleset = ruleset
        self.store: EncodingStore | None = None
        self._pipelines: dict[str, Any] = {}  # language -> its spaCy Language, or None
        self._call_heads: CallHeads | None = None

    @classmethod
    def configured(cls, models: ModelsConfig, ruleset: Ruleset) -> Reader | None:
        """The reader models.yaml configures, when the rules say how to use it."""
        if models.file.understanding is None or ruleset.understanding is None:
            return None
        return cls(models, models.file.understanding, ruleset)

    def bind_store(self, store: EncodingStore | None) -> None:
        from qa_pipeline.understanding.pipeline import reader_of

        self.store = store
        for nlp in self._pipelines.values():
            if nlp is not None:
                reader_of(nlp).encoder.store = store

    def pipeline(self, language: str) -> Any:
        if language not in self._pipelines:
            self._pipelines[language] = self._build(language)
        return self._pipelines[language]

    def _build(self, language: str) -> Any:
        from qa_pipeline.understanding.pipeline import build, reader_of

        heads = self.models.relative(self.config.heads)
        if not (heads / f"{language}.npz").is_file():
            return None  # no heads for this language: the rules judge alone
        nlp = build(self.models.relative(self.config.pipeline), language, heads)
        pack = self.ruleset.languages.get(language)
        if pack is None:
            raise ModelNotFoundError(f"understanding/{language}", "no language pack", "")
        reader_of(nlp).bind(pack, self.store)
        return nlp

    def without_call_heads(self) -> Reader:
        """This reader with no call head: how the call heads' own training data is read (the
        rules and the sentence heads, never an earlier call head's verdict)."""
        other = Reader(self.models, self.config, self.ruleset)
        other._pipelines = self._pipelines  # the same sentence pipelines, built once
        other._call_heads = CallHeads.none()
        return other

    @property
    def call_heads(self) -> CallHeads:
        """The heads that read a whole call (calls.json beside the sentence heads), if any."""
        if self._call_heads is None:
            self._call_heads = load_call_heads(self.models.relative(self.config.heads))
        return self._call_heads

    @property
    def version(self) -> str:
        """What decides readings: the encoder, every language's heads and the call heads."""
        from qa_pipeline.understanding.pipeline import reader_of

        digests = []
        for language in sorted(self.ruleset.languages):
            nlp = self.pipeline(language)
            if nlp is not None:
                digests.append(f"{language}:{reader_of(nlp).heads.digest}")
        text = f"{self.config.encoder}|" + ",".join(digests) + f"|calls:{self.call_heads.digest}"
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def read(
        self, language: str, items: Sequence[Item], hits: LexiconHits | None = None
    ) -> list[Reading] | None:
        """Each item's reading; `hits` looks up the rules' lexicons that match a view (the
        judge's sentences' own hits), the language pack's lexicons when None."""
        from qa_pipeline.understanding.pipeline import read_docs

        nlp = self.pipeline(language)
        return read_docs(nlp, items, hits) if nlp is not None else None
