"""Call heads: a model of the whole call (understanding/call_heads.py), how the judge reads it
(ctx.call_readings), caller_competent.v21 overruling the rules with it, the review flag it
raises, and its training from labeled call sets (`qa-pipeline train --calls`)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa_pipeline.checks.competence import (
    CompetenceParamsV21,
    caller_competent_v20,
    caller_competent_v21,
)
from qa_pipeline.checks.context import CallContext
from qa_pipeline.cli import main
from qa_pipeline.errors import CorpusError, ModelNotFoundError
from qa_pipeline.evaluation.call_training import read_config, train_call_heads
from qa_pipeline.judging.judge import Judge
from qa_pipeline.judging.understand import call_views, disagreements, flags, read_call
from qa_pipeline.understanding.call_heads import (
    CallHead,
    CallHeads,
    CallHeadSpec,
    SentenceView,
    load_call_heads,
    save_call_heads,
    summarize,
)
from qa_pipeline.understanding.reading import Distribution
from qa_pipeline.verdict.model import Evidence, Item
from tests.conftest import make_call

ROOT = Path(__file__).resolve().parents[1]
SPEC = CallHeadSpec("competence", ("drunk", "none"), ("drunk", "affirm"))


def _view(drunk: float, lexicons: tuple[str, ...] = (), question: bool = False) -> SentenceView:
    reading = Distribution(("drunk", "none"), (drunk, 1.0 - drunk))
    return SentenceView(reading, frozenset(lexicons), question)


def test_a_summary_has_one_value_per_named_feature() -> None:
    views = [_view(0.9, ("drunk",)), _view(0.7, ("drunk", "affirm"), True), _view(0.1)]
    values = summarize(SPEC, views)
    names = SPEC.names()
    assert len(values) == len(names) and ((values >= 0) & (values <= 1)).all()
    got = dict(zip(names, values, strict=True))
    assert got["competence.drunk.top"] == pytest.approx(0.9)
    assert got["competence.drunk.second"] == pytest.approx(0.7)
    assert got["competence.drunk.sum"] == pytest.approx(1.7 / 5)
    assert got["competence.drunk.count"] == pytest.approx(2 / 3)
    assert got["hits.drunk"] == pytest.approx(2 / 3) and got["hits.affirm"] == pytest.approx(1 / 3)
    assert got["sentences"] == pytest.approx(3 / 40) and got["questions"] == pytest.approx(1 / 3)
    # A sentence the model did not read counts as a sentence, with no probability.
    unread = summarize(SPEC, [SentenceView(None, frozenset(), False)])
    assert unread[names.index("competence.drunk.top")] == 0.0


def test_call_heads_are_saved_and_refused_when_their_features_changed(tmp_path: Path) -> None:
    weights = np.linspace(-1, 1, len(SPEC.names()))
    head = CallHead("competence", "caller_competent", SPEC, weights, 0.25, {"C": 1.0})
    save_call_heads([head], tmp_path)
    loaded = load_call_heads(tmp_path).heads["competence"]
    views = [_view(0.8, ("drunk",)), _view(0.2)]
    assert loaded.probability(views) == pytest.approx(head.probability(views), abs=1e-5)
    assert load_call_heads(tmp_path / "nowhere").heads == {}
    data = json.loads((tmp_path / "calls.json").read_text(encoding="utf-8"))
    data["competence"]["lexicons"].append("busy")  # the summary the weights were fitted on moved
    (tmp_path / "calls.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match=r"calls\.json.*other features"):
        load_call_heads(tmp_path)
    (tmp_path / "calls.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match=r"calls\.json cannot be read"):
        load_call_heads(tmp_path)


FOLLOWS = [
    ["agent", "Hi, this is Dana with Northwind Mobile, employee 4471. Am I speaking with the account holder?"],
    ["customer", "Yes, that's me."],
    ["agent", "Do you have a couple of minutes to hear about our weather alerts?"],
    ["customer", "Sure, go ahead."],
    ["agent", "StormWatch texts you a forecast at 7 a.m. for $2.99 a month, free for 30 days."],
    ["customer", "Two ninety-nine after the thirty days. Okay, I follow."],
]  # fmt: skip
DRUNK = [
    ["agent", "Hi, this is Dana with Northwind Mobile, employee 4471. Am I speaking with the account holder?"],
    ["customer", "Heyyy... yeah thass me, hic, who's this? We're on our fourth round here."],
    ["agent", "Do you have a couple of minutes to hear about our weather alerts?"],
    ["customer", "Whatever, sure, the room's spinning a bit, ha, go on."],
    ["agent", "StormWatch texts you a forecast at 7 a.m. for $2.99 a month, free for 30 days."],
    ["customer", "Huh? Sign me up, sign everybody up, I'm wasted."],
]  # fmt: skip


def _context(judge: Judge, turns: list[list[str]]) -> CallContext:
    ctx = judge.context(make_call(turns, campaign="stormwatch", language="en"))
    assert judge.reader is not None
    read_call(judge.reader, ctx)
    return ctx


def test_the_shipped_call_head_reads_a_drunk_caller_and_a_sober_one(reader_judge: Judge) -> None:
    judge = reader_judge
    sober, drunk = _context(judge, FOLLOWS), _context(judge, DRUNK)
    assert sober.call_readings["competence"] > 0.8
    assert drunk.call_readings["competence"] < 0.2


def test_the_call_head_overrules_the_rules_only_when_sure(reader_judge: Judge) -> None:
    judge = reader_judge
    params = CompetenceParamsV21()
    ctx = _context(judge, FOLLOWS)
    rules = caller_competent_v20(ctx, params)
    assert rules.passed is True
    ctx.call_readings["competence"] = 0.1  # the whole call reads 0.9 as a caller who cannot follow
    overruled = caller_competent_v21(ctx, params)
    assert overruled.passed is False and overruled.why is not None
    assert overruled.why.key == "competence.call_unfit"
    (evidence,) = overruled.evidence
    assert evidence.source == "call" and evidence.confidence == pytest.approx(0.9)
    assert evidence.speaker == "customer" and evidence.read in ("drunk", "woken", "child",
        "cannot_hear", "not_understand", "language_barrier")  # fmt: skip
    ctx.call_readings["competence"] = 0.3  # 0.7 against: under `unfit_at`, the rules stand
    assert caller_competent_v21(ctx, params) == rules
    del ctx.call_readings["competence"]  # no call head: the rules stand
    assert caller_competent_v21(ctx, params) == rules

    ctx = _context(judge, DRUNK)
    rules = caller_competent_v20(ctx, params)
    assert rules.passed is False
    ctx.call_readings["competence"] = 0.95
    assert caller_competent_v21(ctx, params) == rules  # clearing a failure is off by default
    kept = caller_competent_v21(ctx, params.model_copy(update={"fit_at": 0.8}))
    assert kept.passed is True and kept.why is not None and kept.why.key == "competence.call_fit"
    assert [e.text for e in kept.evidence] == [e.text for e in rules.evidence]
    assert all(e.source == "call" and e.confidence == 0.95 for e in kept.evidence)


def test_an_item_the_call_head_decided_is_flagged_for_review(reader_judge: Judge) -> None:
    judge = reader_judge
    call = make_call(FOLLOWS, campaign="stormwatch", language="en")
    verdict = judge.judge(call)
    assert not any(
        f.startswith("model_overruled") for f in flags(judge.ruleset.understanding, verdict)
    )
    item = verdict.criteria["caller_competent"]
    assert isinstance(item, Item)
    evidence = Evidence(4.0, 5.0, "customer", "Sure, go ahead.", source="call", confidence=0.85)
    decided = dataclasses.replace(item, passed=False, evidence=(evidence,))
    verdict = dataclasses.replace(
        verdict, criteria={**verdict.criteria, "caller_competent": decided}
    )
    found = flags(judge.ruleset.understanding, verdict)
    assert "model_overruled.caller_competent" in found
    assert "model_unsure.caller_competent" not in found  # 0.85 is over the unsure level


def _sets(tmp_path: Path) -> Path:
    """Three small labeled sets cut from a read set (8 calls each) and a config naming them."""
    source = ROOT / "tests" / "data" / "firstcontact6"
    labels = {
        json.loads(line)["call_id"]: line
        for line in (source / "labels.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    calls = sorted(source.glob("*.json"))
    for k in range(3):
        folder = tmp_path / f"set{k}"
        folder.mkdir()
        picked = calls[k * 8 : k * 8 + 8]
        for path in picked:
            shutil.copy(path, folder / path.name)
        text = "\n".join(labels[p.stem] for p in picked) + "\n"
        (folder / "labels.jsonl").write_text(text, encoding="utf-8")
    config = tmp_path / "call_heads.yaml"
    config.write_text(
        "competence:\n  label: caller_competent\n  item: caller_competent\n  task: competence\n"
        "  labels: [drunk, woken, none]\n  lexicons: [drunk, just_woken, affirm]\n"
        "  sets: [set0, set1, set2]\n",
        encoding="utf-8",
    )
    return config


def test_train_calls_fits_a_call_head_deterministically(
    tmp_path: Path, reader_judge: Judge
) -> None:
    config = _sets(tmp_path)
    out = tmp_path / "heads"
    args = ["train", "--calls", "--call-heads", str(config), "--out", str(out)]
    assert main(args) == 0
    saved = load_call_heads(out).heads["competence"]
    assert saved.meta["folds"]["calls"] == 24
    assert "| competence | caller_competent | 24 |" in (out / "CALL_HEADS.md").read_text("utf-8")
    ruleset, reader = reader_judge.ruleset, reader_judge.reader
    assert reader is not None
    (again,) = train_call_heads(read_config(config), ruleset, reader, tmp_path, lambda s, a: None)
    assert np.allclose(again.weights, saved.weights, atol=1e-5)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "competence:\n  label: caller_competent\n",
            r"call_heads\.yaml: competence\.item: Field required",
        ),
        ("- a list\n", r"call_heads\.yaml: expected a mapping"),
        ("competence: [unclosed\n", r"call_heads\.yaml: not YAML"),
    ],
)
def test_a_bad_call_heads_file_names_itself(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "call_heads.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CorpusError, match=problem):
        read_config(path)


def test_a_head_since_the_first_amount_reads_only_the_answers_after_it(
    reader_judge: Judge,
) -> None:
    ctx = _context(reader_judge, FOLLOWS)
    every = call_views(ctx, SPEC)
    after = call_views(ctx, dataclasses.replace(SPEC, since="first_amount"))
    customer = [t for t in ctx.customer_turns()]
    assert len(every) == sum(len(t.sentences) for t in customer)
    assert len(after) == len(customer[-1].sentences)  # only the answer to "$2.99 a month"
    unpriced = _context(reader_judge, FOLLOWS[:4])
    assert call_views(unpriced, dataclasses.replace(SPEC, since="first_amount")) == []


def test_a_call_head_that_reads_an_item_the_other_way_flags_it(reader_judge: Judge) -> None:
    rules = reader_judge.ruleset.understanding
    assert rules is not None and rules.call_review is not None
    consent = CallHead("consent", "explicit_consent", SPEC, np.zeros(len(SPEC.names())), 0.0)
    heads = CallHeads({"consent": consent}, "test")
    codes = {"explicit_consent": "explicit_consent"}
    ctx = _context(reader_judge, FOLLOWS)
    passed = {"explicit_consent": Item(True, (), "the customer agreed")}
    ctx.call_readings["consent"] = 1.0 - rules.call_review  # sure enough it was no consent
    found = disagreements(rules, heads, ctx, codes, passed)
    assert found == ("model_disagrees.explicit_consent",)
    ctx.call_readings["consent"] = 0.5  # not sure: no flag
    assert disagreements(rules, heads, ctx, codes, passed) == ()
    failed = {"explicit_consent": Item(False, (), "no consent")}
    ctx.call_readings["consent"] = 0.95
    assert disagreements(rules, heads, ctx, codes, failed) == found
    # An item a call head already decided is flagged model_overruled, not twice.
    decided = Evidence(1.0, 2.0, "customer", "Okay.", source="call", confidence=0.95)
    overruled = {"explicit_consent": Item(False, (decided,), "no consent")}
    assert disagreements(rules, heads, ctx, codes, overruled) == ()
    assert disagreements(None, heads, ctx, codes, failed) == ()


def test_the_shipped_call_heads(reader_judge: Judge) -> None:
    assert reader_judge.reader is not None
    heads = reader_judge.reader.call_heads.heads
    assert heads["competence"].label == "caller_competent"
    assert heads["consent"].label == "explicit_consent"
    assert heads["consent"].spec.since == "first_amount"


def test_a_call_head_of_no_graded_label_is_refused(tmp_path: Path, reader_judge: Judge) -> None:
    config = _sets(tmp_path)
    config.write_text(
        config.read_text("utf-8").replace("label: caller_competent", "label: politeness"), "utf-8"
    )
    assert reader_judge.reader is not None
    with pytest.raises(CorpusError, match="'politeness' is none of the graded labels"):
        train_call_heads(
            read_config(config), reader_judge.ruleset, reader_judge.reader, tmp_path,
            lambda s, a: None,
        )  # fmt: skip
