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

from qa_pipeline.ruleset.schema import AsrTermsSpec
from qa_pipeline.text.fuzzy import similarity
from qa_pipeline.text.pinyin import syllable, syllables

_WORD = re.compile(r"[a-z0-9']+")


@dataclass
class PinyinTerms:
    by_sound: dict[tuple[str, ...], str] = field(default_factory=dict)
    first_sounds: set[str] = field(default_factory=set)
    lengths: list[int] = field(default_factory=list)
    keep: set[str] = field(default_factory=set)

    def add(self, spec: AsrTermsSpec) -> None:
        for term in spec.terms:
            sound = syllables(term)
            self.by_sound[sound] = term
            self.first_sounds.add(sound[0])
        self.lengths = sorted({len(t) for t in self.by_sound.values()}, reverse=True)
        self.keep |= set(spec.keep)

    def apply(self, text: str) -> str:
        if not self.by_sound:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            replaced = False
            if syllable(text[i]) in self.first_sounds:
                for length in self.lengths:
                    window = text[i : i + length]
                    if len(window) < length or any(
                        k in text[max(0, i - 2) : i + length + 2] and window in k for k in self.keep
                    ):
                        continue
                    term = self.by_sound.get(syllables(window))
                    if term is not None:
                        out.append(term)
                        i += length
                        replaced = True
                        break
            if not replaced:
                out.append(text[i])
                i += 1
        return "".join(out)


@dataclass
class SpelledTerms:
    terms: list[tuple[str, float]] = field(default_factory=list)  # (term without spaces, min)

    def add(self, spec: AsrTermsSpec) -> None:
        minimum = spec.min_similarity if spec.min_similarity is not None else 1.0
        self.terms += [(t.replace(" ", ""), minimum) for t in spec.terms]

    def apply(self, text: str) -> str:
        if not self.terms:
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
            pieces.append(text[cursor : words[i].start()])
            pieces.append(term)
            cursor = words[i + span - 1].end()
            i += span
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _match(self, words: Sequence[re.Match[str]], i: int) -> tuple[str, int] | None:
        for span in (3, 2, 1):
            if i + span > len(words):
                continue
            joined = "".join(w.group(0) for w in words[i : i + span])
            for term, minimum in self.terms:
                if joined[0] != term[0] or abs(len(joined) - len(term)) > 2:
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
