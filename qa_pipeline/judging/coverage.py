"""Every pattern of the rule files on its own, read the way the engine reads it: whether its
examples hold (the pattern tests and `qa-pipeline rules check`), and whether it matches anything
in a folder of calls (a pattern that never does is a guess, not a rule).

A lexicon pattern reads sentences in the language pack's normalized view, with the lexicon's
negation; a forbidden-phrase pattern reads the clauses of agent speech with the rule's negation
window; an exemption (`unless`, `unless_trial`) reads a sentence's clauses joined, as the check
reads a clause with its neighbours; a hallucination pattern reads a segment's surface view.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from qa_pipeline.checks.forbidden import clause_views, matches
from qa_pipeline.errors import QAPipelineError
from qa_pipeline.ingest.batch import transcript_files
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.model import Call
from qa_pipeline.judging.judge import Judge
from qa_pipeline.languages import get as get_language
from qa_pipeline.ruleset.loader import LanguagePack, Ruleset
from qa_pipeline.ruleset.schema import examples_of
from qa_pipeline.text.lexicon import compile_patterns
from qa_pipeline.text.normalize import surface

Reads = Literal["sentence", "clause", "context", "segment"]
Views = Mapping[Reads, list[str]]


@dataclass(frozen=True)
class RulePattern:
    file: str  # within the rules folder: languages/zh.yaml
    key: str  # lexicons.holder_yes.patterns.3
    pattern: str  # as compiled: campaign facts filled in
    reads: Reads
    test: Callable[[str], object]  # one view -> a match or nothing
    pack: LanguagePack | None  # None: cleanup.yaml, read in every language's calls

    @property
    def language(self) -> str | None:
        return self.pack.language if self.pack else None

    @property
    def examples(self) -> tuple[str, ...]:
        return examples_of(self.pattern)[0]

    @property
    def counterexamples(self) -> tuple[str, ...]:
        return examples_of(self.pattern)[1]

    def matches(self, text: str) -> bool:
        """Whether an example (one sentence or more) matches, read as the engine reads it."""
        return any(self.test(view) for view in text_views(text, self.pack, self.reads))

    def problems(self) -> list[str]:
        """Examples it misses and counterexamples it matches."""
        where = f"{self.file} {self.key} {self.pattern!r}"
        return [
            f"{where}: does not match its example {e!r}"
            for e in self.examples
            if not self.matches(e)
        ] + [
            f"{where}: matches {e!r}, which it must not"
            for e in self.counterexamples
            if self.matches(e)
        ]


def text_views(text: str, pack: LanguagePack | None, reads: Reads) -> list[str]:
    """What a kind of pattern reads in `text` (one sentence or more of one speaker)."""
    if reads == "segment" or pack is None:
        return [surface(text)]
    sentences = pack.lang.split_sentences(text)
    if reads == "sentence":
        return [pack.view(s) for s in sentences]
    clauses = [clause_views(s, pack) for s in sentences]
    if reads == "clause":
        return [c for views in clauses for c in views]
    return [",".join(views) for views in clauses]


def _lexicon_patterns(pack: LanguagePack) -> Iterator[RulePattern]:
    file = f"languages/{pack.language}.yaml"
    for name, patterns in pack.lexicon_patterns.items():
        lexicon = pack.lexicons[name]
        for index, pattern in enumerate(patterns):
            one = dataclasses.replace(
                lexicon, pattern=compile_patterns([pattern], pack.word_boundaries)
            )
            key = f"lexicons.{name}.patterns.{index}"
            yield RulePattern(file, key, pattern, "sentence", one.find, pack)


def _forbidden_patterns(pack: LanguagePack) -> Iterator[RulePattern]:
    file = f"forbidden/{pack.language}.yaml"
    for number, rule in enumerate(pack.forbidden):
        spec = rule.spec
        for index, pattern in enumerate(spec.patterns):
            one = dataclasses.replace(
                rule, pattern=compile_patterns([pattern], pack.word_boundaries)
            )
            key = f"rules.{number}.patterns.{index}"
            test = partial(matches, one)
            yield RulePattern(file, key, pattern, "clause", test, pack)
        for field in ("unless", "unless_trial"):
            for index, pattern in enumerate(getattr(spec, field)):
                compiled = compile_patterns([pattern], pack.word_boundaries)
                key = f"rules.{number}.{field}.{index}"
                yield RulePattern(file, key, pattern, "context", compiled.search, pack)


def rule_patterns(ruleset: Ruleset) -> tuple[RulePattern, ...]:
    """Every pattern of the rule files, in file order."""
    found = [
        RulePattern(
            "cleanup.yaml",
            f"hallucinations.patterns.{index}",
            pattern,
            "segment",
            compile_patterns([pattern], False).search,
            None,
        )
        for index, pattern in enumerate(ruleset.cleanup.hallucinations.patterns)
    ]
    for _, pack in sorted(ruleset.languages.items()):
        found += [*_lexicon_patterns(pack), *_forbidden_patterns(pack)]
    return tuple(found)


def call_views(judge: Judge, call: Call) -> Views:
    """What each kind of pattern reads in a call, after cleanup and role assignment as judged:
    every sentence, the agent's clauses, and the raw segments (hallucinations are dropped by
    cleanup, so they are read before it)."""
    ctx = judge.context(call)
    lang = get_language(call.language)
    agent = [clause_views(s.text, ctx.pack) for t in ctx.agent_turns() for s in t.sentences]
    return {
        "sentence": [s.norm for t in ctx.turns for s in t.sentences],
        "clause": [c for views in agent for c in views],
        "context": [",".join(views) for views in agent],
        "segment": [surface(lang.canonical_script(s.text)) for s in call.segments],
    }


@dataclass(frozen=True)
class Coverage:
    calls: int  # judged
    unreadable: tuple[str, ...]  # call files that could not be judged, with why
    unmatched: tuple[RulePattern, ...]  # patterns that match nothing in any call


def coverage(
    ruleset: Ruleset, patterns: Iterable[RulePattern], folders: Iterable[Path]
) -> Coverage:
    """The patterns that match nothing in the transcript call files of `folders`. A call file
    that cannot be read or judged is listed, not fatal."""
    judge = Judge(ruleset)
    remaining = list(patterns)
    calls = 0
    unreadable: list[str] = []
    for path in (p for folder in folders for p in transcript_files(folder)):
        try:
            call = load_call(path)
            views = call_views(judge, call)
        except QAPipelineError as exc:
            unreadable.append(f"{path}: {exc}")
            continue
        calls += 1
        remaining = [
            p
            for p in remaining
            if p.language not in (None, call.language)
            or not any(p.test(view) for view in views[p.reads])
        ]
    return Coverage(calls, tuple(unreadable), tuple(remaining))


def report(patterns: Iterable[RulePattern], found: Coverage | None) -> list[str]:
    """One line a rule file: its patterns, how many carry examples and, given calls, how many
    match something in them."""
    by_file: dict[str, list[RulePattern]] = {}
    for pattern in patterns:
        by_file.setdefault(pattern.file, []).append(pattern)
    unmatched = {(p.file, p.key) for p in found.unmatched} if found else set()
    lines = []
    for file, group in by_file.items():
        examples = sum(bool(p.examples) for p in group)
        line = f"  {file:20} {len(group):5} patterns {examples:5} with examples"
        if found is not None:
            matched = sum((p.file, p.key) not in unmatched for p in group)
            line += f" {matched:5} match in {found.calls} calls"
        lines.append(line)
    return lines
