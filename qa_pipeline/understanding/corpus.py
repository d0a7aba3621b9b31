"""The labeled utterance corpus (corpus/utterances/<writer>.jsonl, format in corpus/LABELS.md),
validated by schema, read as training examples: each turn with the other party's turn before
it, labeled for every task of its side."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qa_pipeline.errors import CorpusError
from qa_pipeline.ingest.call_file import load_call
from qa_pipeline.ingest.model import Call

ACTS = (
    "identity_question", "permission_question", "consent_question", "sale_booked", "price",
    "trial", "cancel", "closing",
)  # fmt: skip
CUSTOMER_TASKS = ("identity", "reply", "competence", "complaint", "sentiment")
AGENT_TASKS = ("forbidden", *(f"act.{act}" for act in ACTS))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentTurn(_Strict):
    speaker: Literal["agent"]
    text: str = Field(min_length=1)
    acts: list[Literal[ACTS]]  # type: ignore[valid-type]
    forbidden: Literal["dismissive", "arguing", "misleading", "threat", "insult", "none"]
    span: str


class CustomerTurn(_Strict):
    speaker: Literal["customer"]
    text: str = Field(min_length=1)
    identity: Literal[
        "holder", "family", "can_decide", "family_decides", "not_holder", "cannot_decide",
        "child", "none",
    ]  # fmt: skip
    reply: Literal[
        "yes", "go_ahead", "consent", "no", "busy", "hedge", "conditional", "sarcastic",
        "withdrawal", "backchannel", "question", "none",
    ]  # fmt: skip
    competence: Literal[
        "drunk", "woken", "child", "cannot_hear", "not_understand", "language_barrier",
        "clarify", "understood", "none",
    ]  # fmt: skip
    complaint: Literal["complaint_intent", "dissatisfied", "none"]
    sentiment: Literal["negative", "neutral", "positive"]


class Excerpt(_Strict):
    id: str
    writer: str
    lang: str
    speech: str = Field(alias="register", description="who talks how (东北 elderly man)")
    campaign: str
    asr: bool
    turns: list[AgentTurn | CustomerTurn] = Field(min_length=1)
    note: str = ""


FeatureBlock = Literal["context_encoding", "context_lexicons", "context_grams"]


class HeadOptions(_Strict):
    """How one head is fitted. `balanced`: classes weighted by their inverse frequency (a rare
    class such as a forbidden phrase is not drowned by `none`); `context`: whether it reads the
    other party's turn (what makes an agent line rude is in the line itself); `drop`: parts of
    the context it does not read (their weights are zero, so judging reads the same features)."""

    balanced: bool = False
    context: bool = True
    drop: list[FeatureBlock] = []


class Splits(_Strict):
    """corpus/splits.yaml: writers per split, and per-head fitting options. `calls`: labeled
    call sets (folders relative to the splits file's folder) whose agent turns, labeled by
    their forbidden phrases, join the train split for the forbidden head alone."""

    train: list[str]
    dev: list[str]
    test: list[str]
    heads: dict[str, HeadOptions] = {}
    calls: list[str] = []

    def options(self, task: str) -> HeadOptions:
        return self.heads.get(task, HeadOptions())


@dataclass(frozen=True)
class Example:
    writer: str
    language: str
    side: str
    text: str
    context: str  # the other party's turn before, "" when none
    labels: dict[str, str]  # a task absent here: the example does not train that head
    asr: bool


def _labels(turn: AgentTurn | CustomerTurn) -> dict[str, str]:
    if isinstance(turn, AgentTurn):
        acts = {f"act.{act}": "yes" if act in turn.acts else "no" for act in ACTS}
        return {"forbidden": turn.forbidden, **acts}
    return {task: getattr(turn, task) for task in CUSTOMER_TASKS}


def read_corpus(folder: Path) -> Iterator[Example]:
    """Every labeled turn of every writer's file, in file and line order."""
    for path in sorted(folder.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                excerpt = Excerpt.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise CorpusError(str(path), [f"line {number}: {exc}"]) from exc
            before = {"agent": "", "customer": ""}
            for turn in excerpt.turns:
                other = "customer" if turn.speaker == "agent" else "agent"
                yield Example(
                    excerpt.writer, excerpt.lang, turn.speaker, turn.text, before[other],
                    _labels(turn), excerpt.asr,
                )  # fmt: skip
                before[turn.speaker] = turn.text


def read_splits(path: Path) -> Splits:
    try:
        return Splits.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CorpusError(str(path), [str(exc)]) from exc


CALLS_WRITER = "calls/"  # the writer name of a call set's turns: calls/<folder name>


def read_call_sets(folders: Sequence[Path]) -> Iterator[Example]:
    """Every agent turn (consecutive agent segments, as the judge builds turns) of every call
    of the labeled call sets, labeled for the forbidden head only: the category of the first
    gold phrase the turn holds, `none` when it holds none."""
    for folder in folders:
        labels = _call_labels(folder / "labels.jsonl")
        for path in sorted(folder.glob("*.json")):
            call = load_call(path)  # validated; a bad file is a CallFileError naming it
            gold = labels.get(call.call_id, [])
            writer = f"{CALLS_WRITER}{folder.name}"
            for text in _agent_turns(call):
                category = next((g["category"] for g in gold if g["text"] in text), "none")
                yield Example(writer, call.language, "agent", text, "",
                              {"forbidden": category}, False)  # fmt: skip


def _call_labels(path: Path) -> dict[str, list[dict[str, str]]]:
    """call id -> its gold forbidden phrases."""
    out: dict[str, list[dict[str, str]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CorpusError(str(path), [str(exc)]) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            found = json.loads(line)
            out[found["call_id"]] = [
                {"text": str(f["text"]), "category": str(f["category"])} for f in found["forbidden"]
            ]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(str(path), [f"line {number}: {exc!r}"]) from exc
    return out


def _agent_turns(call: Call) -> Iterator[str]:
    """Consecutive agent segments joined, as `checks.context.build_turns` makes turns."""
    joiner = "" if call.language == "zh" else " "
    pending: list[str] = []
    for segment in [*sorted(call.segments, key=lambda s: (s.start, s.end)), None]:
        if segment is not None and segment.speaker == "agent":
            pending.append(segment.text.strip())
        elif pending:
            yield joiner.join(pending)
            pending = []
