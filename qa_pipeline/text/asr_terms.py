"""Key words as ASR mangles them, back to their canonical form, before lexicons match.

Mandarin: a window whose toneless pinyin equals a key word's is that key word (鸡主 -> 机主,
退定 -> 退订, 体验七 -> 体验期), unless it is a real word listed under `keep` (记住 sounds like
机主). English: one to three words whose letters, spaces removed, are within an edit-distance
similarity of a key word are that key word (storm watch -> stormwatch).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from qa_pipeline.ruleset.schema import AsrTermsSpec
from qa_pipeline.text.fuzzy import similarity
from qa_pipeline.text.pinyin import syllable, syllables

_WORD = re.compile(r"[a-z0-9']+")
_NOTHING = re.compile(r"(?!)")


_END = ""  # trie key under which a node stores the term ending there


@dataclass
class PinyinTerms:
    # syllable trie: ji -> zhu -> {"": "机主"}; a walk fails at the second character for
    # almost every candidate, so no window is built or compared.
    trie: dict[str, Any] = field(default_factory=dict)
    first_sounds: set[str] = field(default_factory=set)
    keep: set[str] = field(default_factory=set)
    starts: re.Pattern[str] | None = None

    def add(self, spec: AsrTermsSpec) -> None:
        for term in spec.terms:
            node = self.trie
            for sound in syllables(term):
                node = node.setdefault(sound, {})
            node[_END] = term
            self.first_sounds.add(syllable(term[0]))
        self.keep |= set(spec.keep)
        self.starts = None

    def _starts(self) -> re.Pattern[str]:
        """Every common CJK character whose reading can begin a key word, as one character
        class, computed once: text is scanned in C, and windows are built only there."""
        if self.starts is None:
            chars = "".join(
                chr(c) for c in range(0x4E00, 0x9FA6) if syllable(chr(c)) in self.first_sounds
            )
            self.starts = re.compile(f"[{chars}]") if chars else _NOTHING
        return self.starts

    def _kept(self, text: str, at: int, window: str) -> bool:
        nearby = text[max(0, at - 3) : at + len(window) + 3]
        return any(window in word and word in nearby for word in self.keep)

    def _longest(self, text: str, i: int) -> str | None:
        node, found, j = self.trie, None, i
        while j < len(text):
            child = node.get(syllable(text[j]))
            if child is None:
                break
            node, j = child, j + 1
            found = node.get(_END, found)
        return found

    def apply(self, text: str) -> str:
        if not self.trie:
            return text
        out: list[str] = []
        cursor = 0
        for match in self._starts().finditer(text):
            i = match.start()
            if i < cursor:
                continue
            term = self._longest(text, i)
            if term is None:
                continue
            window = text[i : i + len(term)]
            if term != window and not self._kept(text, i, window):
                out += [text[cursor:i], term]
                cursor = i + len(term)
        out.append(text[cursor:])
        return "".join(out)


@dataclass
class SpelledTerms:
    # first letter -> (term without spaces, minimum similarity): only words that could begin
    # a term are compared at all.
    by_letter: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def add(self, spec: AsrTermsSpec) -> None:
        minimum = spec.min_similarity if spec.min_similarity is not None else 1.0
        for term in spec.terms:
            bare = term.replace(" ", "")
            self.by_letter.setdefault(bare[0], []).append((bare, minimum))

    def apply(self, text: str) -> str:
        if not self.by_letter:
            return text
        words = list(_WORD.finditer(text))
        pieces: list[str] = []
        cursor = 0
        i = 0
        while i < len(words):
            match = self._match(words, i)
            if match is None:
                i += 1
                continue
            term, span = match
            pieces += [text[cursor : words[i].start()], term]
            cursor = words[i + span - 1].end()
            i += span
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _match(self, words: Sequence[re.Match[str]], i: int) -> tuple[str, int] | None:
        terms = self.by_letter.get(words[i].group(0)[0])
        if not terms:
            return None
        for span in (3, 2, 1):
            if i + span > len(words):
                continue
            joined = "".join(w.group(0) for w in words[i : i + span])
            for term, minimum in terms:
                if abs(len(joined) - len(term)) > 2:
                    continue
                if joined == term and span == 1:
                    return None
                if similarity(joined, term) >= minimum:
                    return term, span
        return None


class TermCanonicalizer:
    def __init__(self, specs: Sequence[AsrTermsSpec]) -> None:
        self.pinyin = PinyinTerms()
        self.spelled = SpelledTerms()
        for spec in specs:
            (self.pinyin if spec.match == "pinyin" else self.spelled).add(spec)

    def apply(self, text: str) -> str:
        return self.spelled.apply(self.pinyin.apply(text))
