"""Key words as ASR mangles them, back to their canonical form, before lexicons match.

Mandarin: a window whose toneless pinyin equals a key word's is that key word (鸡主 -> 机主,
退定 -> 退订, 体验七 -> 体验期), unless it is a real word listed under `keep` (记住 sounds like
机主). English: one to three words whose letters, spaces removed, are within an edit-distance
similarity of a key word are that key word (storm watch -> stormwatch), unless a `keep`
expression matches over them (the verb in "we'll ring back later" is no product). Phrases: the same
for words the checks look for, written back as the phrase (account folder -> account holder);
the rule files keep these to transcripts a recognizer made, where no one wrote the words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from qa_pipeline.text.fuzzy import similarity
from qa_pipeline.text.pinyin import syllable

_WORD = re.compile(r"[a-z0-9']+")
_PREFIX = 3  # letters an ASR error rarely touches at the start of a name


@dataclass(frozen=True)
class TermList:
    """Key words restored one way: `pinyin` (same syllables), `edit_distance` (spelled close,
    within `min_similarity`, written without spaces) or `phrase` (the same, written as the
    phrase). `keep`: for pinyin, real words never rewritten; for the others, regular
    expressions of real uses ("we'll ring back later") whose words stay as they are."""

    match: str
    terms: tuple[str, ...]
    min_similarity: float | None = None
    keep: tuple[str, ...] = ()


@dataclass
class PinyinTerms:
    """Text is translated character by character into syllable codes (same length: 机 and 鸡
    both become the code of "ji"), so a key word's homophones are one literal string, found by
    a small character class and a dictionary lookup."""

    by_code: dict[str, str] = field(default_factory=dict)  # coded term -> term
    first_codes: set[str] = field(default_factory=set)
    lengths: list[int] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)
    starts: re.Pattern[str] | None = None

    def add(self, spec: TermList) -> None:
        table = _syllable_codes()
        for term in spec.terms:
            coded = term.translate(table)
            self.by_code[coded] = term
            self.first_codes.add(coded[0])
        self.lengths = sorted({len(c) for c in self.by_code}, reverse=True)
        self.keep |= set(spec.keep)
        self.starts = re.compile("[" + "".join(sorted(self.first_codes)) + "]")

    def _kept(self, text: str, at: int, window: str) -> bool:
        nearby = text[max(0, at - 3) : at + len(window) + 3]
        return any(window in word and word in nearby for word in self.keep)

    def apply(self, text: str) -> str:
        if self.starts is None:
            return text
        coded = text.translate(_syllable_codes())
        out: list[str] = []
        cursor = 0
        for match in self.starts.finditer(coded):
            i = match.start()
            if i < cursor:
                continue
            for length in self.lengths:
                term = self.by_code.get(coded[i : i + length])
                if term is None:
                    continue
                window = text[i : i + length]
                if term != window and not self._kept(text, i, window):
                    out += [text[cursor:i], term]
                    cursor = i + length
                break
        out.append(text[cursor:])
        return "".join(out)


@cache
def _syllable_codes() -> dict[int, str]:
    """Every common CJK character -> a private-use character standing for its toneless
    reading (computed once per process)."""
    codes: dict[str, str] = {}
    table: dict[int, str] = {}
    for code in range(0x4E00, 0x9FA6):
        sound = syllable(chr(code))
        table[code] = codes.setdefault(sound, chr(0xE000 + len(codes)))
    return table


@dataclass(frozen=True)
class _Spelled:
    bare: str  # the letters compared: the term without spaces or apostrophes
    written: str  # what the words become
    minimum: float


def _letters(word: str) -> str:
    return word.replace("'", "")


@dataclass
class SpelledTerms:
    # first three letters -> terms: only words that could begin a term are compared at all.
    by_prefix: dict[str, list[_Spelled]] = field(default_factory=dict)
    # A word starting with one of those prefixes (apostrophes allowed between its letters, as
    # `_letters` drops them): one scan rules out most texts before any word is compared.
    screen: re.Pattern[str] | None = None
    keep: list[str] = field(default_factory=list)
    kept: re.Pattern[str] | None = None

    def add(self, spec: TermList) -> None:
        minimum = spec.min_similarity if spec.min_similarity is not None else 1.0
        if spec.keep:
            self.keep += spec.keep
            self.kept = re.compile("|".join(f"(?:{k})" for k in self.keep))
        for term in spec.terms:
            bare = _letters(term.replace(" ", ""))
            written = term if spec.match == "phrase" else term.replace(" ", "")
            self.by_prefix.setdefault(bare[:_PREFIX], []).append(_Spelled(bare, written, minimum))
        prefixes = "|".join("'*".join(map(re.escape, p)) for p in sorted(self.by_prefix))
        self.screen = re.compile(rf"(?<![a-z0-9'])'*(?:{prefixes})")

    def apply(self, text: str) -> str:
        if self.screen is None:
            return text
        starts = {m.start() for m in self.screen.finditer(text)}  # words that may begin a term
        if not starts:
            return text
        words = list(_WORD.finditer(text))
        kept = [m.span() for m in self.kept.finditer(text)] if self.kept is not None else []
        pieces: list[str] = []
        cursor = 0
        i = 0
        while i < len(words):
            match = self._match(words, i) if words[i].start() in starts else None
            if match is None:
                i += 1
                continue
            term, span = match
            first, last = words[i].start(), words[i + span - 1].end()
            if any(a < last and first < b for a, b in kept):
                i += 1
                continue
            pieces += [text[cursor : words[i].start()], term]
            cursor = words[i + span - 1].end()
            i += span
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _match(self, words: Sequence[re.Match[str]], i: int) -> tuple[str, int] | None:
        """The term that words i.. spell (best of one to three words), if any."""
        first = _letters(words[i].group(0))
        terms = self.by_prefix.get(first[:_PREFIX])
        if not terms or any(first == term.bare for term in terms):
            return None  # nothing to repair, and never swallow the words after it
        best: tuple[float, str, int] | None = None
        for span in (1, 2, 3):
            parts = [_letters(w.group(0)) for w in words[i : i + span]]
            if len(parts) < span or any(not p.isalpha() for p in parts):
                break
            joined = "".join(parts)
            if any(" ".join(parts).startswith(_letters(term.written)) for term in terms):
                return None  # the words say the term already ("the account holder's wife")
            for term in terms:
                if abs(len(joined) - len(term.bare)) > 2:
                    continue
                score = similarity(joined, term.bare)
                if score >= term.minimum and (best is None or score > best[0]):
                    best = (score, term.written, span)
        return (best[1], best[2]) if best else None


class TermCanonicalizer:
    def __init__(self, specs: Sequence[TermList]) -> None:
        self.pinyin = PinyinTerms()
        self.spelled = SpelledTerms()
        for spec in specs:
            (self.pinyin if spec.match == "pinyin" else self.spelled).add(spec)

    def apply(self, text: str) -> str:
        return self.spelled.apply(self.pinyin.apply(text))
