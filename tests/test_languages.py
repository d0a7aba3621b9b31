"""Languages and campaigns are data plus registered code: a third language registered from a
test folder judges a call end to end, and a made-up operator's campaign in an existing language
works without touching rules/languages/ or rules/forbidden/."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from qa_pipeline.batch.run import run_batch
from qa_pipeline.errors import UnsupportedLanguageError
from qa_pipeline.ingest.call_file import parse_call
from qa_pipeline.judging.judge import Judge, load_rules
from qa_pipeline.languages import get, registered
from qa_pipeline.verdict.model import CallResult
from qa_pipeline.verdict.serialize import read_results
from tests.conftest import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
TOY = FIXTURES / "toylang"
OPERATOR = FIXTURES / "operator"


def _register_toy_spanish() -> None:
    """Import the test folder's language module once per session (it registers `es`)."""
    if "es" in registered():
        return
    spec = importlib.util.spec_from_file_location("toy_spanish", TOY / "spanish.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["toy_spanish"] = module
    spec.loader.exec_module(module)


def _rules_with(folder: Path, extra: Path) -> Path:
    """The bundled rules plus the files under `extra` (same layout)."""
    rules = folder / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copytree(extra, rules, dirs_exist_ok=True)
    return rules


def _judge(rules: Path, calls: Path, out: Path) -> CallResult:
    ruleset = load_rules(rules)
    assert not ruleset.errors, [e.message for e in ruleset.errors]
    (result,) = read_results(run_batch(calls, out, ruleset).results_path)
    return result


def test_unregistered_language_pack_is_a_clear_error(tmp_path: Path) -> None:
    rules = _rules_with(tmp_path, TOY / "rules")
    (rules / "languages" / "xx.yaml").write_text(
        (rules / "languages" / "es.yaml").read_text(encoding="utf-8").replace("es", "xx", 1),
        encoding="utf-8",
    )
    shutil.copy(rules / "forbidden" / "es.yaml", rules / "forbidden" / "xx.yaml")
    error = load_rules(rules).broken_languages["xx"]
    assert "language: no language pack for 'xx'" in error.message and "es" in error.message
    with pytest.raises(UnsupportedLanguageError):
        get("xx")


def test_a_third_language_registered_from_a_test_folder(tmp_path: Path) -> None:
    _register_toy_spanish()
    rules = _rules_with(tmp_path, TOY / "rules")
    result = _judge(rules, TOY / "calls", tmp_path / "out")
    assert result.ok, result.error
    verdict = result.verdict
    assert verdict is not None
    assert verdict.roles.source == "content" and verdict.roles.mapping["SPEAKER_01"] == "agent"
    failed = {code: item.reason for code, item in verdict.judged_items() if not item.passed}
    assert result.outcome == "sale" and result.valid_sale is True, failed
    assert verdict.item("disclosures", "fees").reason.endswith("2 €/mes")
    assert [(f.category, f.text) for f in verdict.forbidden_phrases] == [
        ("misleading", "nunca le cobramos nada")
    ]
    assert verdict.script.sections["opening"].present


def test_a_new_operator_in_an_existing_language(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    shutil.copy(OPERATOR / "bluebird-skycast.yaml", rules / "campaigns")
    calls = tmp_path / "calls"
    calls.mkdir()
    shutil.copy(OPERATOR / "bluebird-001.json", calls)
    result = _judge(rules, calls, tmp_path / "out")
    assert result.ok, result.error
    verdict = result.verdict
    assert verdict is not None
    # The company and product come from the campaign file: the opening names the company
    # (heard as "blue bird"), the agent is found by it, and "sky cast" is the product.
    assert verdict.script.sections["opening"].present
    assert verdict.roles.mapping["SPEAKER_00"] == "agent" and not verdict.roles.low_confidence
    assert verdict.script.sections["product_and_features"].present
    failed = {code: item.reason for code, item in verdict.judged_items() if not item.passed}
    assert result.outcome == "sale" and result.valid_sale is True, failed
    # Its hotline is this campaign's: "just call 877 if you ever want it gone" is how to cancel,
    # not a false "it stops by itself" claim.
    assert not verdict.forbidden_phrases, verdict.forbidden_phrases


@pytest.mark.parametrize(
    "text", ["是的。 ok", "什么事儿？ OK", "嗯。 好。 ok ok", "好。\u3000吧。 yes"]
)
def test_mandarin_sentences_are_slices_of_the_text(text: str, engine: Judge) -> None:
    """A one-character fragment merges with its neighbour keeping what lay between them, so
    every sentence is found in the turn's text (issue 15: "substring not found")."""
    spans = get("zh").sentence_spans(text)
    assert [text[a:b] for a, b in spans] == get("zh").split_sentences(text)
    assert all(text[a:b].strip() == text[a:b] for a, b in spans)
    call = json.loads((ROOT / "samples" / "calls" / "zh-s-001.json").read_text(encoding="utf-8"))
    call["segments"][1]["text"] = text
    verdict = engine.judge(parse_call(call, "zh-s-001.json"))
    assert text.split()[0] in " ".join(line.text for line in verdict.transcript)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [("Is this Mr. Rampersad? Yes.", ["Is this Mr. Rampersad?", "Yes."]),
     ("No, no, Mrs. Goldberg is sleeping. I'm her aide.",
      ["No, no, Mrs. Goldberg is sleeping.", "I'm her aide."]),
     ("A text at 7 a.m. with the forecast. Anywhere in the U.S. for $9.99.",
      ["A text at 7 a.m. with the forecast.", "Anywhere in the U.S. for $9.99."]),
     ("My name is Ms. Lee. I live on St. Mark's Place.",
      ["My name is Ms. Lee.", "I live on St. Mark's Place."]),
     ("It's fine. Thanks.", ["It's fine.", "Thanks."])],
)  # fmt: skip
def test_english_titles_and_abbreviations_end_no_sentence(text: str, sentences: list[str]) -> None:
    """A title's period splits no question from its name ("Is this Mr." | "Rampersad?" would
    leave the name question to the model), nor a.m., p.m. or U.S. a sentence in two."""
    assert get("en").split_sentences(text) == sentences


@pytest.mark.parametrize(
    ("language", "text", "view"),
    [
        # Jamaican "me cyan hear" is "I can't hear"; "yuh cyaan ...?" asks, and stays as said.
        ("en", "Me cyan hear you good, the TV going.", "me can't hear you good, the tv going."),
        (
            "en",
            "So wha, yuh cyaan just put it on fi mi right now?",
            "so wha, yuh cyaan just put it on fi mi right now?",
        ),
        # Cantonese 我哋 is 我们: 机主系我哋老板 is "our boss is the holder", not 是我.
        ("zh", "唔系喔，机主系我哋老板。", "不系喔,机主是我们老板。"),
    ],
)
def test_regional_words_read_as_meant(language: str, text: str, view: str) -> None:
    assert load_rules().languages[language].reading(None).view(text) == view
