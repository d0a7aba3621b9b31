"""Read `rules/` into a `Ruleset`: validated, compiled once, versioned by content hash.

A broken campaign or language pack disables only the calls that need it (they fail with the
file's errors); a broken criteria file stops the run, since nothing can be judged without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ValidationError

from qa_pipeline.errors import QAPipelineError, RuleFileError, RulesetError
from qa_pipeline.languages import Language
from qa_pipeline.languages import get as get_language
from qa_pipeline.languages import registered as registered_languages
from qa_pipeline.ruleset.bundled import bundled_dir
from qa_pipeline.ruleset.facts import CampaignFacts
from qa_pipeline.ruleset.schema import (
    CampaignFile,
    CheckSpec,
    CleanupFile,
    CriteriaFile,
    ForbiddenFile,
    ForbiddenRule,
    LanguageFile,
    RolesFile,
    SignalsFile,
    TasksFile,
    UnderstandingFile,
)
from qa_pipeline.ruleset.yaml_text import YamlProblem, parse_yaml
from qa_pipeline.text.asr_terms import TermCanonicalizer, TermList
from qa_pipeline.text.backtracking import LIMIT_S, catastrophic
from qa_pipeline.text.lexicon import (
    AnyPattern,
    Lexicon,
    LexiconScreen,
    Negation,
    compile_patterns,
)
from qa_pipeline.text.normalize import surface

_SPACES = re.compile(r"\s{2,}")
_ELONGATED = re.compile(r"([a-z])\1{2,}")
# "speakin'", "bein' sarcastic": an apostrophe for a dropped g after two or more letters.
_DROPPED_G = re.compile(r"(?<=[a-z]{2})in'(?![a-z])")
# Digits a recognizer wrote one by one with hyphens ("and to 9-9 a month", "1-2-1-2-1"): one
# number, as it was said ("two ninety-nine", "one two one two one").
_HYPHENED_DIGITS = re.compile(r"(?<![\d.,])\d(?:-\d)+(?![\d.,]?\d)")

M = TypeVar("M", bound=BaseModel)

# Lexicons every call's context reads (questions; asking for time), whatever checks are set.
CONTEXT_LEXICONS = frozenset({"question", "permission_question", "time_request"})


class CheckTypeInfo(Protocol):
    """What the loader needs of a registered check type (checks.registry.CheckType)."""

    @property
    def kind(self) -> str: ...
    @property
    def params_model(self) -> type[BaseModel]: ...
    @property
    def requires_lexicons(self) -> frozenset[str]: ...


CheckCatalog = Mapping[str, CheckTypeInfo]


@runtime_checkable
class NamesLexicons(Protocol):
    """Check parameters that name lexicons (acts_present's `acts`)."""

    def lexicons(self) -> frozenset[str]: ...


def default_rules_dir() -> Path:
    """`rules/` of a source checkout, else the copy installed with the package."""
    return bundled_dir("rules", "criteria.yaml")


@dataclass(frozen=True)
class CompiledForbiddenRule:
    spec: ForbiddenRule
    pattern: re.Pattern[str]
    unless: re.Pattern[str] | None
    unless_trial: re.Pattern[str] | None
    negation: Negation | None  # with the rule's window: a cue just before a match cancels it


@dataclass(frozen=True)
class LanguagePack:
    language: str
    lang: Language  # the registered language: sentences, numbers, entities, wording
    word_boundaries: bool  # patterns match whole words (English), not characters
    question_reach: int
    period_reach: int
    anchor_reach: int
    soft_break: re.Pattern[str]  # where a long unpunctuated clause is cut for a quoted span
    soft_break_after: int
    fillers: re.Pattern[str] | None
    rewrites: re.Pattern[str] | None  # all rewrites in one alternation, group i -> replacement i
    replacements: tuple[str, ...]
    terms: TermCanonicalizer
    lexicons: Mapping[str, Lexicon]
    screen: LexiconScreen  # which lexicons may match a text, in one scan
    forbidden: tuple[CompiledForbiddenRule, ...]
    # Whether any forbidden rule matches: most text is ruled out by one literal scan, the rest
    # searched rule by rule. Multi-line, so ^ and $ (a clause's edges in a rule) match at the
    # clause breaks of a sentence written one per line.
    forbidden_any: AnyPattern
    # Results of checks on a text, kept for this pack's life: telesales speech repeats its
    # script word for word across calls ("每月3元，前30天免费。"), so most sentences recur.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    # Each lexicon's patterns one by one (campaign facts filled in, examples attached): what
    # `qa-pipeline rules check` and the pattern tests match alone.
    lexicon_patterns: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    # Letters said long ("yeahhh", "thaaat's me") written once before matching (English).
    elongated: bool = False
    # Words written with the g dropped ("askin'") read whole, so patterns are written once.
    dropped_g: bool = False
    # Words that only open a sentence ("Look, ..."), matched at its start, with what follows
    # them up to the next word (forbidden_phrases.v3 joins phrases across sentences by them).
    openers: re.Pattern[str] | None = None
    # The pack that reads transcripts a recognizer made (`Call.heard_by`): the same with the
    # `heard_only` ASR terms restored too, and memos of its own; None when there are none.
    heard: LanguagePack | None = field(default=None, compare=False, repr=False)
    # Digits written one by one with hyphens read as one number (the heard pack's).
    joins_digits: bool = False

    def reading(self, heard_by: str | None) -> LanguagePack:
        """The pack that reads a transcript made by `heard_by` (None: written by people)."""
        return self.heard if heard_by is not None and self.heard is not None else self

    def _replacement(self, match: re.Match[str]) -> str:
        return self.replacements[int((match.lastgroup or "r0")[1:])]

    def view(self, text: str) -> str:
        """The text lexicons match: half-width lower case, fillers out (before numbers are
        read: "six hundred um eleven"), numbers as digits, canonical spellings, ASR-mangled
        key words restored."""
        view = surface(text)
        if self.elongated:
            view = _ELONGATED.sub(r"\1", view)
        if self.dropped_g:
            view = _DROPPED_G.sub("ing", view)
        if self.fillers is not None:
            view = _SPACES.sub(" ", self.fillers.sub("", view)).strip(" ,，")
        view = self.lang.digitize(view)
        if self.joins_digits:
            view = _HYPHENED_DIGITS.sub(lambda m: m.group(0).replace("-", ""), view)
        if self.rewrites is not None:
            view = self.rewrites.sub(self._replacement, view)
        return self.terms.apply(view)


@dataclass(frozen=True)
class Ruleset:
    root: Path
    version: str
    criteria: CriteriaFile
    cleanup: CleanupFile
    roles: RolesFile
    signals: SignalsFile
    tasks: TasksFile
    understanding: UnderstandingFile | None  # when the model's readings count (optional file)
    campaigns: Mapping[str, CampaignFile]
    languages: Mapping[str, LanguagePack]
    broken_campaigns: Mapping[str, RuleFileError] = field(default_factory=dict)
    broken_languages: Mapping[str, RuleFileError] = field(default_factory=dict)

    @property
    def errors(self) -> list[RuleFileError]:
        return [*self.broken_campaigns.values(), *self.broken_languages.values()]


def _key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _read_yaml(path: Path) -> Any:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"))
    except YamlProblem as exc:
        raise RuleFileError(str(path), [str(exc)]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleFileError(str(path), [f"cannot read: {exc}"]) from exc


def _parse(path: Path, model: type[M]) -> M:
    data = _read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_key_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise RuleFileError(str(path), problems) from exc


def _regex_problems(key: str, patterns: list[str]) -> list[str]:
    problems = []
    for index, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{key}.{index}: bad regular expression {pattern!r}: {exc}")
    return problems


def _keyed(key: str, patterns: list[str]) -> list[tuple[str, str]]:
    return [(f"{key}.{index}", pattern) for index, pattern in enumerate(patterns)]


def _slow_problems(keyed: list[tuple[str, str]]) -> list[str]:
    """Patterns of one file that backtrack catastrophically (text/backtracking.py): one such
    pattern would stall every call it reads."""
    slow = catastrophic([pattern for _, pattern in keyed])
    return [
        f"{key}: {pattern!r} backtracks catastrophically: a text like {slow[pattern]!r} takes "
        f"it longer than {LIMIT_S:g} s, and twice as long with each more character; rewrite it "
        "without a repeat inside a repeat, or alternatives that match the same text under one"
        for key, pattern in keyed
        if pattern in slow
    ]


def _forbidden_patterns(rule: ForbiddenRule) -> tuple[tuple[str, list[str]], ...]:
    return (
        ("patterns", rule.patterns),
        ("unless", rule.unless),
        ("unless_trial", rule.unless_trial),
    )


def _groups(pattern: str) -> int:
    try:
        return re.compile(pattern).groups
    except re.error:
        return 0  # reported as a bad regular expression


@dataclass(frozen=True)
class _Checks:
    """Check specs validated against the registered check types (passed in by the caller, so
    the rules need not import the checks), with the criteria's item names as context."""

    catalog: CheckCatalog
    items: frozenset[str] = frozenset()

    def problems(self, key: str, spec: CheckSpec, kind: str) -> list[str]:
        found = self.catalog.get(spec.type)
        if found is None:
            valid = sorted(n for n, c in self.catalog.items() if c.kind == kind)
            return [f"{key}.type: unknown check type {spec.type!r}; registered {kind}s: {valid}"]
        if found.kind != kind:
            return [f"{key}.type: {spec.type!r} is a {found.kind} check, not a {kind} check"]
        try:
            found.params_model.model_validate(spec.params, context={"items": self.items})
        except ValidationError as exc:
            return [f"{key}.params.{_key_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        return []

    def lexicons(self, spec: CheckSpec) -> frozenset[str]:
        """The lexicons a valid spec reads: its type's, and any its parameters name."""
        check = self.catalog[spec.type]
        params = check.params_model.model_validate(spec.params, context={"items": self.items})
        named = params.lexicons() if isinstance(params, NamesLexicons) else frozenset()
        return check.requires_lexicons | named


def _criteria_specs(criteria: CriteriaFile) -> list[tuple[str, CheckSpec, str]]:
    """(key path, spec, kind) of every check criteria.yaml names."""
    specs: list[tuple[str, CheckSpec, str]] = []
    for name, c in criteria.criteria.items():
        if c.check is not None:
            specs.append((f"criteria.{name}.check", c.check, "item"))
        for item, spec in (c.items or {}).items():
            specs.append((f"criteria.{name}.items.{item}.check", spec.check, "item"))
    specs += [
        ("outcome", criteria.outcome, "outcome"),
        ("hangup", criteria.hangup, "hangup"),
        ("forbidden", criteria.forbidden, "forbidden"),
    ]
    return specs


def _load_criteria(path: Path, catalog: CheckCatalog) -> tuple[CriteriaFile, _Checks]:
    criteria = _parse(path, CriteriaFile)
    checks = _Checks(catalog, frozenset(name for name, _ in criteria.item_specs()))
    problems = [
        problem
        for key, spec, kind in _criteria_specs(criteria)
        for problem in checks.problems(key, spec, kind)
    ]
    if problems:
        raise RuleFileError(str(path), problems)
    return criteria, checks


def _load_shared(path: Path, model: type[M]) -> M:
    """One of the files every call needs (criteria, cleanup, roles, signals, tasks)."""
    if not path.is_file():
        raise RuleFileError(str(path), [f"missing: no {path.name}"])
    return _parse(path, model)


def _load_cleanup(path: Path) -> CleanupFile:
    cleanup = _load_shared(path, CleanupFile)
    patterns = cleanup.hallucinations.patterns
    problems = _regex_problems("hallucinations.patterns", patterns)
    problems = problems or _slow_problems(_keyed("hallucinations.patterns", patterns))
    if problems:
        raise RuleFileError(str(path), problems)
    return cleanup


def _pack_with_facts(pack: LanguageFile, facts: CampaignFacts) -> LanguageFile:
    """The pack with its campaign-fact placeholders filled in."""
    lexicons = {
        name: spec.model_copy(update={"patterns": facts.patterns(spec.patterns)})
        for name, spec in pack.lexicons.items()
    }
    terms = [s.model_copy(update={"terms": facts.terms(s.terms)}) for s in pack.asr_terms]
    return pack.model_copy(update={"lexicons": lexicons, "asr_terms": terms})


def _rules_with_facts(forbidden: ForbiddenFile, facts: CampaignFacts) -> ForbiddenFile:
    rules = [
        rule.model_copy(update={key: facts.patterns(ps) for key, ps in _forbidden_patterns(rule)})
        for rule in forbidden.rules
    ]
    return forbidden.model_copy(update={"rules": rules})


def _fact_problems(pack: LanguageFile, facts: CampaignFacts) -> list[str]:
    problems = [
        problem
        for name, spec in pack.lexicons.items()
        for problem in facts.problems(f"lexicons.{name}.patterns", spec.patterns)
    ]
    return problems + [
        problem
        for index, spec in enumerate(pack.asr_terms)
        for problem in facts.problems(f"asr_terms.{index}.terms", spec.terms)
    ]


def _load_language(path: Path, forbidden_path: Path, facts: CampaignFacts) -> LanguagePack:
    pack = _parse(path, LanguageFile)
    try:
        lang = get_language(pack.language)
    except QAPipelineError as exc:
        raise RuleFileError(str(path), [f"language: {exc.message}"]) from exc
    problems = _fact_problems(pack, facts)
    if problems:
        raise RuleFileError(str(path), problems)
    pack = _pack_with_facts(pack, facts)
    problems = [
        problem
        for name, spec in pack.lexicons.items()
        for problem in _regex_problems(f"lexicons.{name}.patterns", spec.patterns)
    ]
    problems += _regex_problems("fillers", pack.fillers)
    problems += _regex_problems("soft_break", [pack.soft_break])
    problems += _regex_problems("openers", pack.openers)
    problems += _regex_problems("rewrites", list(pack.rewrites))
    spelled_keep = [
        (f"asr_terms.{i}.keep", spec.keep)
        for i, spec in enumerate(pack.asr_terms)
        if spec.match != "pinyin"  # pinyin keeps real words, not expressions
    ]
    problems += [p for key, keep in spelled_keep for p in _regex_problems(key, keep)]
    problems += _regex_problems("heard_rewrites", list(pack.heard_rewrites))
    keyed = [
        *(kp for name, spec in pack.lexicons.items()
          for kp in _keyed(f"lexicons.{name}.patterns", spec.patterns)),
        *_keyed("fillers", pack.fillers), *_keyed("soft_break", [pack.soft_break]),
        *_keyed("openers", pack.openers),
        *_keyed("rewrites", list(pack.rewrites)),
        *(kp for key, keep in spelled_keep for kp in _keyed(key, keep)),
        *_keyed("heard_rewrites", list(pack.heard_rewrites)),
    ]  # fmt: skip
    problems = problems or _slow_problems(keyed)
    if problems:
        raise RuleFileError(str(path), problems)
    if not forbidden_path.is_file():
        raise RuleFileError(
            str(forbidden_path), ["missing: every language needs forbidden phrases"]
        )
    forbidden = _parse(forbidden_path, ForbiddenFile)
    problems = [
        problem
        for index, rule in enumerate(forbidden.rules)
        for key, patterns in _forbidden_patterns(rule)
        for problem in facts.problems(f"rules.{index}.{key}", patterns)
    ]
    if problems:
        raise RuleFileError(str(forbidden_path), problems)
    forbidden = _rules_with_facts(forbidden, facts)
    problems = [
        f"rules.{index}.{key}.{number}: use (?:...), not a capturing group: the patterns are "
        "joined into one alternation, where group numbers and backreferences are not their own"
        for index, rule in enumerate(forbidden.rules)
        for key, patterns in _forbidden_patterns(rule)
        for number, pattern in enumerate(patterns)
        if _groups(pattern)
    ]
    problems += [
        problem
        for index, rule in enumerate(forbidden.rules)
        for key, patterns in _forbidden_patterns(rule)
        for problem in _regex_problems(f"rules.{index}.{key}", patterns)
    ]
    problems = problems or _slow_problems(
        [kp for index, rule in enumerate(forbidden.rules)
         for key, patterns in _forbidden_patterns(rule)
         for kp in _keyed(f"rules.{index}.{key}", patterns)]
    )  # fmt: skip
    if forbidden.language != pack.language:
        problems.append(f"language: {forbidden.language!r} does not match {path.name}")
    if problems:
        raise RuleFileError(str(forbidden_path), problems)
    by_words = pack.word_boundaries
    spec = pack.negation
    negation = Negation(tuple(spec.cues), spec.window, by_words, tuple(spec.exceptions))
    lexicons = {
        name: Lexicon(
            name, compile_patterns(spec.patterns, by_words), negation if spec.negatable else None
        )
        for name, spec in pack.lexicons.items()
    }
    rules = tuple(
        CompiledForbiddenRule(
            rule,
            compile_patterns(rule.patterns, by_words),
            compile_patterns(rule.unless, by_words) if rule.unless else None,
            compile_patterns(rule.unless_trial, by_words) if rule.unless_trial else None,
            dataclasses.replace(negation, window=rule.negation_window)
            if rule.negation_window
            else None,
        )
        for rule in forbidden.rules
    )
    union = AnyPattern(
        {str(i): re.compile(rule.pattern.pattern, re.MULTILINE) for i, rule in enumerate(rules)}
    )
    fillers = compile_patterns(pack.fillers, by_words) if pack.fillers else None
    lists = [
        (TermList(s.match, tuple(s.terms), s.min_similarity, tuple(s.keep)), s.heard_only)
        for s in pack.asr_terms
    ]
    terms = TermCanonicalizer([t for t, heard_only in lists if not heard_only])
    rewrites, replacements = _rewrites(pack.rewrites, by_words)
    read = LanguagePack(
        pack.language,
        lang,
        by_words,
        pack.question_reach,
        pack.period_reach,
        pack.anchor_reach,
        re.compile(pack.soft_break),
        pack.soft_break_after,
        fillers,
        rewrites,
        replacements,
        terms,
        lexicons,
        LexiconScreen(lexicons),
        rules,
        union,
        lexicon_patterns={name: tuple(spec.patterns) for name, spec in pack.lexicons.items()},
        elongated=pack.elongated,
        dropped_g=pack.dropped_g,
        openers=_openers(pack.openers),
    )
    if not any(heard_only for _, heard_only in lists) and not pack.heard_rewrites:
        return read
    # A recognizer's words are restored first: the rewrites then read them as they read words
    # people wrote ("none, your all set" -> "done, your all set" -> "done, you're all set").
    heard_rewrites, heard_replacements = _rewrites(pack.heard_rewrites | pack.rewrites, by_words)
    heard = dataclasses.replace(
        read,
        rewrites=heard_rewrites,
        replacements=heard_replacements,
        terms=TermCanonicalizer([t for t, _ in lists]),
        memo={},
        joins_digits=True,
    )
    return dataclasses.replace(read, heard=heard)


def _openers(openers: list[str]) -> re.Pattern[str] | None:
    """The sentence-opening words in one pattern: one of them at the start, with the spaces and
    commas after it."""
    if not openers:
        return None
    words = "|".join(f"(?:{o})" for o in openers)
    return re.compile(rf"^\s*(?:{words})\b[\s,]*", re.IGNORECASE)


def _rewrites(
    table: Mapping[str, str], by_words: bool
) -> tuple[re.Pattern[str] | None, tuple[str, ...]]:
    """The rewrites' patterns as one alternation (group i -> replacement i), in table order."""
    named = [f"(?P<r{i}>{pattern})" for i, pattern in enumerate(table)]
    rewrites = compile_patterns(named, by_words) if named else None
    if rewrites is not None and by_words:
        # Only try the alternatives where a word starts: the regex engine has no such shortcut
        # for an alternation, and this makes the pass several times faster.
        rewrites = re.compile(r"(?<![a-z0-9])(?=[a-z'])" + rewrites.pattern)
    return rewrites, tuple(table.values())


def _parse_campaigns(folder: Path) -> dict[Path, CampaignFile | RuleFileError]:
    """Every campaign file read against its schema (the language packs need their facts before
    the campaigns can be checked against the packs)."""
    parsed: dict[Path, CampaignFile | RuleFileError] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            parsed[path] = _parse(path, CampaignFile)
        except RuleFileError as exc:
            parsed[path] = exc
    return parsed


def _check_campaign(
    path: Path,
    read: CampaignFile | RuleFileError,
    languages: Mapping[str, object],
    checks: _Checks,
) -> CampaignFile:
    if isinstance(read, RuleFileError):
        raise read
    campaign = read
    problems = []
    if campaign.id != path.stem:
        problems.append(f"id: {campaign.id!r} must match the file name {path.stem!r}")
    if campaign.language not in languages:
        problems.append(f"language: no language pack {campaign.language!r}")
    problems += _regex_problems("pitch_terms", campaign.pitch_terms)
    for i, section in enumerate(campaign.script):
        for j, spec in enumerate(section.checks):
            problems += checks.problems(f"script.{i}.checks.{j}", spec, "section")
    if problems:
        raise RuleFileError(str(path), problems)
    return campaign


# The text libraries whose output decides verdicts (script conversion, pinyin matching, fuzzy
# term matching): an upgrade of one is a new rules version, so stored calls are judged again.
VERDICT_LIBRARIES = ("opencc", "pypinyin", "rapidfuzz")


@cache
def _libraries() -> bytes:
    return " ".join(f"{name}=={metadata.version(name)}" for name in VERDICT_LIBRARIES).encode()


def _languages(root: Path) -> bytes:
    """The registered implementation of each language pack's language (zh.v1): a new version
    of a language's code can change verdicts as much as a rule file can."""
    found = registered_languages()
    names = [found[p.stem].name for p in sorted(root.glob("languages/*.yaml")) if p.stem in found]
    return ",".join(names).encode()


def _version(root: Path) -> str:
    """12 hex characters of a hash of every rule file, the languages' code versions and the
    verdict libraries' versions."""
    digest = hashlib.sha256(_libraries() + _languages(root))
    for path in sorted(root.rglob("*.yaml")):
        digest.update(str(path.relative_to(root)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:  # a folder or a broken link named *.yaml: its loader reports it
            digest.update(b"\0unreadable")
    return digest.hexdigest()[:12]


def _lexicon_problems(pack: LanguagePack, needs: Mapping[str, frozenset[str]]) -> list[str]:
    """What the configured checks read that the pack lacks, by who needs it."""
    return [
        f"lexicons: missing {sorted(needed - set(pack.lexicons))}, read by {who}"
        for who, needed in needs.items()
        if needed - set(pack.lexicons)
    ]


def _needs(criteria: CriteriaFile, roles: RolesFile, checks: _Checks) -> dict[str, frozenset[str]]:
    """The lexicons each consumer reads from every language pack."""
    needs = {"every call's context": CONTEXT_LEXICONS}
    needs["roles.yaml"] = frozenset(roles.agent_acts) | frozenset(roles.customer_acts)
    for key, spec, _ in _criteria_specs(criteria):
        needs[f"criteria.yaml {key} ({spec.type})"] = checks.lexicons(spec)
    return needs


def _campaign_needs(campaign: CampaignFile, checks: _Checks) -> dict[str, frozenset[str]]:
    return {
        f"campaign {campaign.id} script.{i}.checks.{j} ({spec.type})": checks.lexicons(spec)
        for i, section in enumerate(campaign.script)
        for j, spec in enumerate(section.checks)
    }


def load_ruleset(check_types: CheckCatalog, root: Path | None = None) -> Ruleset:
    """The rules folder, validated against the registered `check_types` (the judging layer
    passes its registry: `qa_pipeline.judging.load_rules`)."""
    root = (root or default_rules_dir()).resolve()
    criteria_path = root / "criteria.yaml"
    if not criteria_path.is_file():
        raise RulesetError([RuleFileError(str(criteria_path), ["missing: no criteria.yaml"])])
    shared: list[RuleFileError] = []
    loaded: dict[str, Any] = {}
    readers: dict[str, Any] = {
        "cleanup": _load_cleanup,
        "roles": lambda path: _load_shared(path, RolesFile),
        "signals": lambda path: _load_shared(path, SignalsFile),
        "tasks": lambda path: _load_shared(path, TasksFile),
    }
    try:
        criteria, checks = _load_criteria(criteria_path, check_types)
    except RuleFileError as exc:
        shared.append(exc)
    for name, read in readers.items():
        try:
            loaded[name] = read(root / f"{name}.yaml")
        except RuleFileError as exc:
            shared.append(exc)
    understanding = None
    if (root / "understanding.yaml").is_file():
        try:
            understanding = _parse(root / "understanding.yaml", UnderstandingFile)
        except RuleFileError as exc:
            shared.append(exc)
    if shared:
        raise RulesetError(shared)
    needs = _needs(criteria, loaded["roles"], checks)

    parsed = _parse_campaigns(root / "campaigns")
    languages: dict[str, LanguagePack] = {}
    broken_languages: dict[str, RuleFileError] = {}
    for path in sorted((root / "languages").glob("*.yaml")):
        facts = CampaignFacts.of(c for c in parsed.values() if isinstance(c, CampaignFile)
                                 and c.language == path.stem)  # fmt: skip
        try:
            pack = _load_language(path, root / "forbidden" / path.name, facts)
            problems = _lexicon_problems(pack, needs)
            if problems:
                raise RuleFileError(str(path), problems)
            languages[path.stem] = pack
        except RuleFileError as exc:
            broken_languages[path.stem] = exc

    campaigns: dict[str, CampaignFile] = {}
    broken_campaigns: dict[str, RuleFileError] = {}
    known_languages = {**languages, **broken_languages}
    for path, read in parsed.items():
        try:
            campaign = _check_campaign(path, read, known_languages, checks)
            own = languages.get(campaign.language)
            problems = _lexicon_problems(own, _campaign_needs(campaign, checks)) if own else []
            if problems:
                pack_problems = [f"language pack {campaign.language}: {p}" for p in problems]
                raise RuleFileError(str(path), pack_problems)
            campaigns[path.stem] = campaign
        except RuleFileError as exc:
            broken_campaigns[path.stem] = exc
    if not campaigns and not broken_campaigns:
        raise RulesetError([RuleFileError(str(root / "campaigns"), ["no campaign files"])])
    return Ruleset(
        root,
        _version(root),
        criteria,
        loaded["cleanup"],
        loaded["roles"],
        loaded["signals"],
        loaded["tasks"],
        understanding,
        campaigns,
        languages,
        broken_campaigns,
        broken_languages,
    )


_CACHE: dict[tuple[Path, str], Ruleset] = {}


def load_ruleset_cached(check_types: CheckCatalog, root: Path | None = None) -> Ruleset:
    """`load_ruleset`, once per process for each content version of the folder: long-running
    workers judge chunk after chunk without re-validating unchanged rules, and pick up edits."""
    root = (root or default_rules_dir()).resolve()
    key = (root, _version(root))
    if key not in _CACHE:
        _CACHE[key] = load_ruleset(check_types, root)
    return _CACHE[key]
