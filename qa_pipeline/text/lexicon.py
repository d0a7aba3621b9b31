"""Compiled lexicons: one regular expression per dialogue act, with negation scope.

A lexicon compiles all its patterns into one alternation once, at rule-load time, so matching a
turn is a single scan per act (the rules stage runs hundreds of calls a second).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

CLAUSE_END = re.compile(r"[，,。！？!?；;:：…—]|\.\s")  # ". " ends a clause, "2.99" does not
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True, slots=True)
class Hit:
    """Where a lexicon matched a sentence's normalized view. A hit of the understanding model
    (`source` "model") spans the sentence and says what was read and how sure it was."""

    lexicon: str
    start: int
    end: int
    text: str
    source: str = "rule"
    confidence: float | None = None
    read: str | None = None


@dataclass(frozen=True, slots=True)
class Negation:
    """Cues that cancel a following match within `window` characters (zh) or words (en),
    never across a clause boundary."""

    cues: tuple[str, ...]
    window: int
    by_words: bool
    exceptions: tuple[str, ...] = ()

    def negates(self, text: str, start: int) -> bool:
        prefix = text[:start]
        boundary = max((m.end() for m in CLAUSE_END.finditer(prefix)), default=0)
        prefix = prefix[boundary:]
        for expression in self.exceptions:
            prefix = prefix.replace(expression, " ")
        if self.by_words:
            words = _WORD.findall(prefix)[-self.window :]
            return any(w in self.cues or w.endswith("n't") for w in words)
        tail = prefix[-self.window :]
        return any(cue in tail for cue in self.cues)


# The first-character screen reads patterns with CPython's private regex parser. It pays: the
# forbidden-phrase scan runs 1.7x (en) to 2x (zh) faster, judging calls not seen before 1.2x.
# Should that API move or change shape, patterns compile without the screen: same matches.
try:
    import re._constants as _c  # type: ignore[import-not-found]  # sre internals, no stubs
    import re._parser as _parser  # type: ignore[import-not-found]

    _ZERO_WIDTH = frozenset({_c.AT, _c.ASSERT, _c.ASSERT_NOT})
    _REPEATS = frozenset({_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT})
except (ImportError, AttributeError):
    _parser = None


def _set_chars(items: list[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < 512:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _c.CATEGORY and av is _c.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:  # a negated set, \w, \s ...: too wide to screen by
            return None
    return chars


def _first(items: Any) -> tuple[set[str], bool] | None:
    r"""The characters a match of parsed `items` can start with, and whether it can be empty;
    None when that is not a short list (., \w, a negated set)."""
    chars: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        if op is _c.LITERAL:
            return chars | {chr(av)}, False
        if op is _c.IN:
            found = _set_chars(av)
            return None if found is None else (chars | found, False)
        if op is _c.BRANCH:
            alternatives = [_first(alternative) for alternative in av[1]]
            if any(a is None for a in alternatives):
                return None
            chars.update(*(a[0] for a in alternatives if a))
            if not any(a[1] for a in alternatives if a):
                return chars, False
        elif op is _c.SUBPATTERN:
            inner = _first(av[-1])
            if inner is None:
                return None
            chars |= inner[0]
            if not inner[1]:
                return chars, False
        elif op in _REPEATS:
            inner = _first(av[2])
            if inner is None:
                return None
            chars |= inner[0]
            if av[0] > 0 and not inner[1]:
                return chars, False
        else:
            return None
    return chars, True


def first_chars(pattern: str) -> frozenset[str] | None:
    r"""Every character a match of `pattern` can start with, or None when that cannot be told
    (it may match empty, or start with ., \w or a negated set)."""
    if _parser is None:
        return None
    if "(?" in pattern and re.search(r"\(\?[a-zA-Z]*i", pattern):
        return None  # case-insensitive: the set would need both cases
    try:
        found = _first(_parser.parse(pattern).data)
    except Exception:  # the private parser changed shape; re.compile still reports bad patterns
        return None
    return None if found is None or found[1] else frozenset(found[0])


_CAP = 64  # strings a requirement may list (a trie of a few thousand is still one scan)


def _finite(op: Any, av: Any) -> set[str] | None:
    """Every string one parsed item can match, when they are few (None when not)."""
    if op is _c.LITERAL:
        return {chr(av)}
    if op is _c.IN and all(o is _c.LITERAL for o, _ in av) and len(av) <= _CAP:
        return {chr(a) for _, a in av}
    if op is _c.SUBPATTERN and not av[1] & re.IGNORECASE:
        return _sequence(av[-1])
    if op is _c.BRANCH:
        found: set[str] = set()
        for alternative in av[1]:
            strings = _sequence(alternative)
            if strings is None or len(found | strings) > _CAP:
                return None
            found |= strings
        return found
    if op in _REPEATS and av[1] == 1:  # x? or x
        inner = _sequence(av[2])
        return None if inner is None else inner | ({""} if av[0] == 0 else set())
    return None


def _sequence(items: Any) -> set[str] | None:
    """`_finite` of items matched one after another."""
    found = {""}
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # consumes nothing: what is before and after it is contiguous
        strings = _finite(op, av)
        if strings is None:
            return None
        found = {a + b for a in found for b in strings}
        if len(found) > _CAP:
            return None
    return found


def _marked(run: set[str], at_edge: bool) -> frozenset[str]:
    """`run` as a requirement; its strings that start with a letter or digit marked
    `WORD_START` when the run starts just after a word edge."""
    if not at_edge:
        return frozenset(run)
    return frozenset(WORD_START + s if _ALNUM.match(s) else s for s in run)


def _ends_at_edge(run: set[str], anchored: bool) -> bool:
    """Whether what a run (starting after a word edge or not) matches always ends in a word
    edge: every string of it ends with a character not a letter or digit ("i've ", "we have
    "), or is empty after an edge."""
    return all(_ALNUM.match(s[-1]) is None if s else anchored for s in run)


def _edge_after(op: Any, av: Any, before: bool) -> bool:
    """Whether a word edge always follows what parsed item (op, av) matches, when one comes
    before it or not (`before`): `(?:[a-z]+ ){0,3}` after "it's " ends in one."""
    strings = _finite(op, av)
    if strings is not None:
        return _ends_at_edge(strings, before)
    if op is _c.SUBPATTERN:
        return _edges_after(av[-1], before)
    if op is _c.BRANCH:
        return all(_edges_after(alternative, before) for alternative in av[1])
    if op in _REPEATS:  # after no repeat, `before`; after each, what one repeat leaves
        after_any = _edges_after(av[2], False)
        return (after_any and (av[0] > 0 or before)) or (before and _edges_after(av[2], True))
    return False


def _edges_after(items: Any, before: bool) -> bool:
    for op, av in items:
        if op not in _ZERO_WIDTH:
            before = _edge_after(op, av, before)
    return before


def _at_word_start(literal: str) -> str:
    """A string that starts with a character not a letter or digit and then one (" minutes",
    "'s not here") holds a word start: the rest, marked, is found at word starts only."""
    edge_then_word = len(literal) > 1 and not _ALNUM.match(literal) and _ALNUM.match(literal, 1)
    return WORD_START + literal[1:] if edge_then_word and literal[0] != WORD_START else literal


def _unmarked_length(strings: frozenset[str]) -> int:
    return min(len(s) - s.startswith(WORD_START) for s in strings)


def _required(items: Any, at_edge: bool = False) -> frozenset[str] | None:
    """Strings one of which every match of parsed `items` contains; None when there are none.
    Runs of items with few strings are joined (`(?:it's|it is) (?:on|live)`: four strings of
    seven or more characters, not "it"); an item with more needs one of its own. `at_edge`:
    the items follow a word edge (`_LEFT`, or text ending in a space), so the strings of a run
    that follows one and starts with a letter or digit start a word (`WORD_START`)."""
    found: list[frozenset[str]] = []
    run, anchored = {""}, at_edge  # anchored: the run starts after a word edge
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue  # consumes nothing: the run goes on across it
        strings = _finite(op, av)
        if strings is not None:
            joined = {a + b for a in run for b in strings}
            if len(joined) <= _CAP:
                run = joined
                continue
        here = _ends_at_edge(run, anchored)  # a word edge before this item
        if "" not in run:
            found.append(_marked(run, anchored))
        run, anchored = ({""}, _edge_after(op, av, here)) if strings is None else (strings, here)
        inner: frozenset[str] | None = None
        if op is _c.BRANCH:
            alternatives = [_required(alternative, here) for alternative in av[1]]
            if all(a is not None for a in alternatives):
                inner = frozenset().union(*alternatives)  # type: ignore[arg-type]
        elif op is _c.SUBPATTERN and not av[1] & re.IGNORECASE:
            inner = _required(av[-1], here)
        elif op in _REPEATS and av[0] > 0:
            inner = _required(av[2], here)
        if inner and strings is None:
            found.append(inner)
    if "" not in run:
        found.append(_marked(run, anchored))
    # the most telling: the longest shortest string, then the fewest strings
    return max(found, key=lambda s: (_unmarked_length(s), -len(s))) if found else None


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which is in every text `pattern` matches (taken from what every
    alternative must match literally); None when that cannot be told (some alternative needs
    no literal, case-insensitive matching, or the private parser failed). In a pattern
    `compile_patterns` put between word edges, a string that starts a word in every match is
    marked: `WORD_START` before it."""
    return _required_literals(pattern.pattern, pattern.flags)


@lru_cache(maxsize=1024)
def _required_literals(pattern: str, flags: int) -> frozenset[str] | None:
    """Cached, as `_compile` is: rules loaded again in one process cost no new parse."""
    if _parser is None or flags & re.IGNORECASE:
        return None
    edged = _WORD_EDGED.fullmatch(pattern)
    try:
        parsed = _parser.parse(edged["body"] if edged else pattern, flags)
        if parsed.state.flags & re.IGNORECASE:
            return None
        found = _required(parsed.data, at_edge=edged is not None)
        if found is None:
            return None
        if edged:
            return frozenset(map(_at_word_start, found))
        # marks pay only in word-bounded (English) text: in Mandarin nearly every position is
        # a word edge
        return frozenset(s.removeprefix(WORD_START) for s in found)
    except Exception:  # the private parser changed shape: no screen, the same matches
        return None


# Look-arounds rather than \b, so patterns that start or end in punctuation still work. A word
# edge where the match starts or ends with a letter or digit; none is needed where it starts or
# ends with punctuation ("hello?" must match a pattern "\?").
_LEFT, _RIGHT = r"(?:(?<![a-z0-9])|(?![a-z0-9]))", r"(?:(?![a-z0-9])|(?<![a-z0-9]))"
_ALNUM = re.compile("[a-z0-9]")
# What `_compile` makes of patterns with word boundaries: its first-character screen (if
# any), the left edge, the alternation, the right edge.
_WORD_EDGED = re.compile(
    rf"(?:\(\?=\[(?:\\.|[^\]\\])*\]\))?{re.escape(_LEFT)}\(\?:(?P<body>.*)\){re.escape(_RIGHT)}",
    re.DOTALL,
)
# Marks a required string that starts a word in every match: the text before it is not a
# letter or digit (`_LEFT` holds and the string starts with one). The screen looks for such
# strings at word starts only: a quarter of English text's positions are edges.
WORD_START = "\0"


@lru_cache(maxsize=1024)
def _compile(patterns: tuple[str, ...], word_boundaries: bool) -> re.Pattern[str]:
    body = "|".join(f"(?:{p})" for p in patterns)
    # An alternation is tried alternative by alternative at every position; a look-ahead for the
    # characters a match can start with fails most positions at once (a long union such as the
    # forbidden-phrase screen runs several times faster).
    starts = [first_chars(p) for p in patterns]
    screen = ""
    if patterns and all(s is not None for s in starts):
        screen = _starts_with(set().union(*(s for s in starts if s)))
    if word_boundaries:  # the screen first: it fails most positions before the word edge is read
        return re.compile(rf"{screen}{_LEFT}(?:{body}){_RIGHT}")
    return re.compile(f"{screen}(?:{body})" if screen else body)


def _starts_with(chars: Collection[str]) -> str:
    """A look-ahead for one of `chars`."""
    return "(?=[" + "".join("\\" + c if c in "\\]^-[" else c for c in sorted(chars)) + "])"


def screened(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` behind a look-ahead for the characters its matches start with (`first_chars`):
    the same matches and groups, but most positions fail at one character instead of trying
    every alternative (an English amount: 4 times faster). `pattern` itself when not known."""
    chars = first_chars(pattern.pattern)
    if not chars:
        return pattern
    try:
        return re.compile(f"{_starts_with(chars)}(?:{pattern.pattern})", pattern.flags)
    except re.error:  # inline global flags ("(?x)") must stay first: keep the plain pattern
        return pattern


def compile_patterns(patterns: Sequence[str], word_boundaries: bool) -> re.Pattern[str]:
    """One alternation of `patterns`; cached, so rule data compiled per call costs nothing."""
    return _compile(tuple(patterns), word_boundaries)


@dataclass(frozen=True, slots=True)
class Lexicon:
    name: str
    pattern: re.Pattern[str]
    negation: Negation | None

    def find(self, text: str) -> tuple[Hit, ...]:
        first = self.pattern.search(text)
        if first is None:  # the common case: one C-level scan, no Python objects
            return ()
        if self.negation is None and self.pattern.search(text, first.end()) is None:
            return (Hit(self.name, first.start(), first.end(), first.group(0)),)
        hits = []
        for m in self.pattern.finditer(text, first.start()):
            if self.negation is not None and self.negation.negates(text, m.start()):
                continue
            hits.append(Hit(self.name, m.start(), m.end(), m.group(0)))
        return tuple(hits)

    def matches(self, text: str) -> bool:
        """Whether `find` finds anything, without making its hits."""
        if self.negation is None:
            return self.pattern.search(text) is not None
        negates = self.negation.negates
        return any(not negates(text, m.start()) for m in self.pattern.finditer(text))


class LexiconScreen:
    """Which lexicons of a pack may match a text, from one scan for the strings each lexicon's
    matches must contain (`required_literals`): most lexicons match few texts, and a lexicon's
    own scan costs far more than a look-up in this one's result. A lexicon without such strings
    is always a candidate. Exact: a lexicon left out could not have matched."""

    def __init__(self, lexicons: Mapping[str, Lexicon]) -> None:
        self._source = lexicons
        self._scan: re.Pattern[str] | None = None
        self._built = False  # built on first use: a process that judges nothing never pays

    def _build(self) -> None:
        lexicons = self._source
        required = {name: required_literals(lexicon.pattern) for name, lexicon in lexicons.items()}
        self.always = frozenset(name for name, found in required.items() if found is None)
        owners: dict[str, set[str]] = {}
        for name, found in required.items():
            for literal in found or ():
                owners.setdefault(literal, set()).add(name)
        # Each scan reports the longest literal starting at each position; every other literal
        # starting there (word start or not, as it is) is a prefix of it, so its lexicons come
        # with it.
        closed = {
            literal: self.always.union(
                *(owners[literal[:end]] for end in range(1, len(literal) + 1)
                  if literal[:end] in owners)
            )
            for literal in owners
        }  # fmt: skip
        self._anywhere = {k: v for k, v in closed.items() if not k.startswith(WORD_START)}
        self._word_start = {k[1:]: v for k, v in closed.items() if k.startswith(WORD_START)}
        self._scan = _literal_scan(set(self._anywhere)) if self._anywhere else None
        self._word_scan = _word_start_scan(set(self._word_start)) if self._word_start else None
        self._built = True

    def candidates(self, text: str) -> frozenset[str]:
        """The lexicons that may match `text` (a superset of those that do)."""
        if not self._built:
            self._build()
        found = [self._anywhere[s] for s in self._scan.findall(text)] if self._scan else []
        if self._word_scan is not None:  # " ": the text's start is a word edge
            found += [self._word_start[s] for s in self._word_scan.findall(" " + text)]
        if len(found) > 1:
            return frozenset().union(*found)
        return found[0] if found else self.always  # each literal's set holds `always`


class AnyPattern:
    """Whether any of several patterns matches a text: one literal scan (`LexiconScreen`) names
    the patterns the text may match, and only those are searched. Their union, one alternation
    behind the literals of all of them, cost 40-60 us an English sentence: short words such as
    "for " let most text through to every pattern."""

    def __init__(self, patterns: Mapping[str, re.Pattern[str]]) -> None:
        self.patterns = dict(patterns)
        self._screen = LexiconScreen({name: Lexicon(name, p, None) for name, p in patterns.items()})

    def search(self, text: str) -> bool:
        return any(self.patterns[name].search(text) for name in self._screen.candidates(text))


def _literal_scan(literals: set[str]) -> re.Pattern[str]:
    """A pattern whose `findall` lists the longest of `literals` at each position where one
    starts, overlaps included. It consumes one character from the set literals start with (so
    the engine skips other positions in C), then, looking back at that character, looks ahead
    for a trie of the literals, longest first."""
    first = "".join(sorted({re.escape(literal[0]) for literal in literals}))
    return re.compile(rf"[{first}](?<=(?=({_trie(literals)}))[\s\S])")


def _word_start_scan(literals: set[str]) -> re.Pattern[str]:
    """A pattern whose `findall` lists the longest of `literals` (each starting with a letter
    or digit) at each word start: a character not a letter or digit, then the literal. The
    engine tries the trie at word edges only."""
    return re.compile(rf"[^a-z0-9](?=({_trie(literals)}))")


def _trie(literals: Collection[str]) -> str:
    """An alternation of `literals` as a trie: one branch per next character (the engine skips
    the rest at once), and of those matching at a position the longest."""
    trie: dict[str, Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def alternation(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + alternation(sub) for c, sub in sorted(node.items()) if c]
        if "" in node:
            branches.append("")  # a literal ends here: tried after every longer one
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return alternation(trie)
