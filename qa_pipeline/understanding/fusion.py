"""Rules and model together, one sentence at a time (rules/understanding.yaml).

The model reads each turn whole (the other party's turn before it as context), as it was
trained. For each family of dialogue acts (identity answers, replies, competence signals, each
agent act) the rules' hits in the turn stand, unless:
- the rules found nothing of the family, or part of what the model reads, and the model reads
  one of its acts with at least `fill`: the model's reading adds the hits the wording missed
  (a reader of meaning where the wording is new);
- the rules read the sentence as other acts of the family and the model reads it otherwise with
  at least `override`: the model's reading replaces theirs (a rhetorical question, a sarcastic
  yes the patterns took literally); where they found part of it, the rest is added;
- the rules found acts that disagree (a go-ahead and a quoted refusal) and the model reads one
  side with at least `fill`: the other side's hits are silenced, and where a `contested`
  lexicon is among them (the holder's yes beside a relative's line), the model's own acts are
  added too;
- the model reads one of the family's `beside` labels (a condition, sarcasm, a withdrawal) with
  at least `fill` where the rules found other acts: its lexicons are added beside theirs.
A reading never silences the lexicons its label `agrees` with ("I am his carer" read as not
the holder keeps the carer).
A model hit spans the turn's last sentence and carries its probability and what was read."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from qa_pipeline.ruleset.schema import FamilySpec, UnderstandingFile
from qa_pipeline.text.lexicon import Hit
from qa_pipeline.understanding.reading import Reading

Said = Callable[[str], bool]


@dataclass(frozen=True)
class Change:
    """What a reading changes in a turn: lexicons whose rule hits it silences, and the hits it
    adds (on the turn's last sentence, spanning it)."""

    silenced: frozenset[str] = frozenset()
    added: Mapping[str, Hit] = field(default_factory=dict)

    def __or__(self, other: Change) -> Change:
        return Change(self.silenced | other.silenced, {**self.added, **other.added})


# What most families' readings change: one shared, read-only instance, not a new one each time
_NOTHING = Change(frozenset(), MappingProxyType({}))


def _added(lexicons: list[str], text: str, size: int, read: str, p: float) -> dict[str, Hit]:
    return {name: Hit(name, 0, size, text, "model", round(p, 3), read) for name in lexicons}


def _agreeing(family: FamilySpec, label: str) -> set[str]:
    """The lexicons of `label` and of the labels counted together with it."""
    group = next((g for g in family.together if label in g), [label])
    return {name for member in group for name in family.labels.get(member, [])}


def _arbitrated(family: FamilySpec, label: str, found: list[str]) -> Change:
    """The rules found acts that disagree ("你说吧 ... 他跟我说你爱办不办" hits go-ahead and
    refusal; "这会儿不行 ... 下午俺有空" refusal and time): where the model reads one side at
    `fill` or more, the rules' hits on the other side are silenced. Where the model's reading is
    none of what they found, their hits stand."""
    agreeing = _agreeing(family, label)
    if not agreeing & set(found):
        return _NOTHING
    return Change(frozenset(name for name in found if name not in agreeing))


def _family(
    family: FamilySpec, rules: UnderstandingFile, reading: Reading, said: Said, text: str, size: int
) -> Change:
    best = reading.best(family.task, family.together)
    if best is None:
        return _NOTHING
    change = _read(family, rules, best, said, text, size)
    agreed = family.agrees.get(best[0])
    if not agreed or not change.silenced & set(agreed):
        return change
    # What the reading agrees with stands ("I am his carer" read as not the holder).
    return Change(change.silenced - set(agreed), change.added)


def _read(
    family: FamilySpec,
    rules: UnderstandingFile,
    best: tuple[str, float],
    said: Said,
    text: str,
    size: int,
) -> Change:
    label, p = best
    if any(said(name) for name in family.vetoed.get(label, ())):
        return _NOTHING  # the rules heard a plain no: a yes-like reading adds nothing
    model = family.labels.get(label, [])
    read = f"{family.task}={label}"
    fill = family.fill if family.fill is not None else rules.fill
    override = family.override if family.override is not None else rules.override
    if p < override and (not model or p < fill):
        return _NOTHING  # the rules' hits stand, whatever they are
    found = [name for name in family.lexicons if said(name)]
    if p < override:  # what the rules found decides a fill
        if not set(found) <= set(model) and label not in family.beside:
            arbitrated = _arbitrated(family, label, found)
            if not arbitrated.silenced & set(family.contested):
                return arbitrated
            # A contested act among those silenced (the line the speaker's and a relative's):
            # the reading decides, and adds what it reads beside the silencing.
            missing = [name for name in model if name not in found]
            return arbitrated | Change(added=_added(missing, text, size, read, p))
        # Nothing found, part of what the model reads (a relation without "这个号我做主"), or a
        # `beside` reading ("给我开起，要是…就莫扣我的钱": the yes holds a condition): the model
        # adds what the wording missed.
        missing = [name for name in model if name not in found]
        return Change(added=_added(missing, text, size, read, p)) if missing else _NOTHING
    if not found:
        return Change(added=_added(model, text, size, read, p)) if model and p >= fill else _NOTHING
    other = model or family.silence  # the model reads another act, or (if allowed) none at all
    if p >= override and other and not set(model) & set(found):
        return Change(frozenset(found), _added(model, text, size, read, p))
    if not model:
        return _NOTHING
    # The rules found part of what the model surely reads ("I pay it and I decide what goes on
    # it" hits can_decide; the model reads a family member who decides): the rest is added.
    missing = [name for name in model if name not in found]
    added = _added(missing, text, size, read, p) if missing else {}
    return _arbitrated(family, label, found) | Change(added=added)


def fuse(
    reading: Reading,
    side: str,
    rules: UnderstandingFile,
    said: Said,
    text: str,
    size: int,
    only: frozenset[str] | None = None,
) -> Change:
    """What the model's reading of a turn changes. `said(lexicon)`: whether the rules hit the
    lexicon anywhere in the turn; `text` is the turn's last sentence as said (a model hit
    quotes it), `size` the length of its normalized view; `only`: these families alone."""
    change = _NOTHING
    for name, family in rules.families.items():
        if family.side == side and (only is None or name in only):
            found = _family(family, rules, reading, said, text, size)
            if found.silenced or found.added:  # most families change nothing: no merge
                change = change | found
    return change


def by_sentence(rules: UnderstandingFile, side: str, turn: Reading) -> frozenset[str]:
    """The families that read this turn as one of their `by_sentence` labels, or read it below
    `fill`: a turn that answers and then asks ("Few minutes I can give. What is it
    regarding?") reads as the question, or as nothing sure; its sentences are read one by one."""
    found = set()
    for name, family in rules.families.items():
        best = turn.best(family.task, family.together)
        if family.side != side or not family.by_sentence or best is None:
            continue
        fill = family.fill if family.fill is not None else rules.fill
        if best[0] in family.by_sentence or best[1] < fill:
            found.add(name)
    return frozenset(found)


def sentence_for(family: FamilySpec, readings: list[Reading]) -> int | None:
    """The sentence whose reading is the surest one outside the family's `by_sentence` labels
    (None when every sentence reads as one of them)."""
    best_p, best_i = 0.0, None
    for i, reading in enumerate(readings):
        found = reading.best(family.task, family.together)
        if found is not None and found[0] not in family.by_sentence and found[1] > best_p:
            best_p, best_i = found[1], i
    return best_i
