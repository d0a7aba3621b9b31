"""The understanding stage as a spaCy pipeline per language (the only module that imports
spaCy): a `Language` whose `qa_read_v1` component reads each sentence Doc into
`doc._.reading`, configured by models/understanding/pipeline.cfg.

A Doc is one sentence's normalized view, with `doc._.side` (agent or customer) and
`doc._.context` (the other party's turn before it). The rules' lexicons are not spaCy matchers:
they are regular expressions over the normalized view with negation scope, and keep running in
the rules stage (docs/understanding.md says why, with figures)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import load_config, load_model_from_config, registry

from qa_pipeline.errors import ModelNotFoundError
from qa_pipeline.ruleset.loader import LanguagePack
from qa_pipeline.understanding.batch_read import StackedHeads
from qa_pipeline.understanding.encoders import (
    CachedEncoder,
    EncodingStore,
    SentenceEncoder,
    load_encoder,
)
from qa_pipeline.understanding.features import (
    LexiconHits,
    featurize,
    lexicon_reader,
    screened_reader,
)
from qa_pipeline.understanding.heads import HeadSet, load
from qa_pipeline.understanding.reading import Reading

for _name, _default in (("side", ""), ("context", ""), ("reading", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def sentence_encoder(kind: str, threads: int) -> CachedEncoder:
    return _shared_encoder(kind, threads)


registry.misc.register("qa_pipeline.sentence_encoder.v1", func=sentence_encoder)


@cache
def _shared_encoder(kind: str, threads: int) -> CachedEncoder:
    """One encoder, and one cache, for every language's pipeline in the process."""
    encoder: SentenceEncoder = load_encoder(kind, threads)
    return CachedEncoder(encoder)


class ReadComponent:
    """Reads sentence Docs in batches: features, then every head of the Doc's side. `pipe`
    reads a batch in one pass (batch_read.py); with `reference` set it reads it as features.py
    and heads.py define the model, row by row (the path training takes), for tests to compare."""

    def __init__(self, heads: HeadSet, encoder: CachedEncoder, reference: bool = False) -> None:
        if (heads.spec.encoder, heads.spec.dim) != (encoder.name, encoder.dim):
            # Heads read one encoder's space; another encoder's vectors would be misread silently.
            raise ModelNotFoundError(
                f"understanding/{heads.language}",
                f"the heads were trained on encoder {heads.spec.encoder!r} ({heads.spec.dim}-d), "
                f"models.yaml selects {encoder.name!r} ({encoder.dim}-d)",
                "Retrain them with `qa-pipeline train`, or point understanding.heads at heads "
                "trained on this encoder",
            )
        self.heads = heads
        self.reference = reference
        self.stacked = StackedHeads(heads)
        self.encoder = encoder
        self.lexicons: LexiconHits = lambda view: frozenset()
        self.screened: LexiconHits = lambda view: frozenset()

    def bind(self, pack: LanguagePack, store: EncodingStore | None) -> None:
        """The rules' lexicons, both lookups from the one pack (the lexicons that hit a view:
        every one run, as training reads, or those the pack's screen lets through), and where
        encodings persist, if anywhere."""
        self.lexicons = lexicon_reader(pack)
        self.screened = screened_reader(pack)
        self.encoder.store = store
        self.stacked.forget()  # what it remembers was read with the lexicons bound before

    def forget(self) -> None:
        """Empty the memo of what each text adds (benchmarks time texts not seen before)."""
        self.stacked.forget()

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(
        self, docs: Iterable[Doc], batch_size: int = 256, hits: LexiconHits | None = None
    ) -> Iterator[Doc]:
        """`hits`: this batch's lexicon lookup (the judge passes the rules stage's own hits of
        each sentence, so a lexicon runs once per sentence for rules and model together)."""
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._read(batch, hits or self.screened)
                batch = []
        if batch:
            yield from self._read(batch, hits or self.screened)

    def _read(self, docs: Sequence[Doc], hits: LexiconHits) -> list[Doc]:
        items = [(doc.text, doc._.side, doc._.context) for doc in docs]
        for doc, reading in zip(docs, self._batch(items, hits), strict=True):
            doc._.reading = reading
        return list(docs)

    def read(
        self, items: Sequence[tuple[str, str, str]], hits: LexiconHits | None = None
    ) -> list[Reading]:
        """(view, side, context view) of each sentence -> its reading, in `pipe`'s batches,
        without Docs (`read_docs` when the reader is the pipeline's only component)."""
        size = 256  # pipe's batch_size: the same batches, the same products
        found: list[Reading] = []
        for start in range(0, len(items), size):
            found += self._batch(items[start : start + size], hits or self.screened)
        return found

    def _batch(self, items: Sequence[tuple[str, str, str]], hits: LexiconHits) -> list[Reading]:
        pairs = [(view, context) for view, _, context in items]
        sides = [side for _, side, _ in items]
        if self.reference:
            # as the model is defined: features row by row, head by head, every lexicon of the
            # pack run on every view
            features = featurize(pairs, self.heads.spec, self.encoder, self.lexicons)
            return [Reading(tasks) for tasks in self.heads.read(features, sides)]
        return [Reading(read) for read in self.stacked.read(pairs, sides, self.encoder, hits)]


@Language.factory(
    "qa_read_v1", default_config={"heads_dir": "", "language": "", "reference": False}
)
def make_reader(
    nlp: Language,
    name: str,
    heads_dir: str,
    language: str,
    encoder: CachedEncoder,
    reference: bool,
) -> ReadComponent:
    return ReadComponent(load(Path(heads_dir), language or nlp.lang or "xx"), encoder, reference)


def build(config: Path, language: str, heads_dir: Path) -> Language:
    """The language's pipeline; spaCy's own tokenizer for it, the multi-language one else."""
    overrides = {
        "nlp.lang": language,
        "components.qa_read.heads_dir": str(heads_dir),
        "components.qa_read.language": language,
    }
    try:
        return load_model_from_config(load_config(config, overrides=overrides), auto_fill=True)
    except ImportError:  # no spaCy language class for this code (a toy or rare language)
        fallback = load_config(config, overrides={**overrides, "nlp.lang": "xx"})
        return load_model_from_config(fallback, auto_fill=True)


def read_docs(
    nlp: Language, items: Sequence[tuple[str, str, str]], hits: LexiconHits | None = None
) -> list[Reading]:
    """(view, side, context view) of each sentence -> its reading. `hits`: the lexicon lookup
    for these sentences (ReadComponent.pipe). While the reader is the pipeline's only
    component it reads the views with no Docs made (spaCy's tokenizer was a third of warm
    rejudging, the Docs and their attributes a tenth once it was bypassed); with others, each
    view is tokenized into a Doc and piped."""
    if nlp.pipe_names == ["qa_read"]:
        return reader_of(nlp).read(items, hits)
    docs = []
    for view, side, context in items:
        doc = nlp.make_doc(view)
        doc._.side, doc._.context = side, context
        docs.append(doc)
    config = {"qa_read": {"hits": hits}} if hits is not None else None
    return [doc._.reading for doc in nlp.pipe(docs, component_cfg=config)]


def reader_of(nlp: Language) -> ReadComponent:
    component = nlp.get_pipe("qa_read")
    assert isinstance(component, ReadComponent)
    return component
