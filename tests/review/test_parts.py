"""The workbench's data and small parts: settings documented and validated, zh/en text complete,
the migration up and down on both databases, the users command, the final verdict matching the
engine's when nothing is overturned, masking and highlighting."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from qa_pipeline.batch.run import run_batch
from qa_pipeline.cli import main
from qa_pipeline.errors import ReviewSettingsError, UserError
from qa_pipeline.review.auth import add_user, authenticate, mask_number
from qa_pipeline.review.i18n import LANGUAGES, strings
from qa_pipeline.review.settings import load_settings, setting_names, severity_of
from qa_pipeline.review.views import highlight
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.audit import ACTIONS
from qa_pipeline.storage.db import MIGRATIONS, connect
from qa_pipeline.storage.search import outside_search_index
from qa_pipeline.storage.tables import Base
from qa_pipeline.storage.users import list_users
from qa_pipeline.verdict.final import final_verdict
from qa_pipeline.verdict.serialize import read_results
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "review.md").read_text(encoding="utf-8")
TEMPLATES = ROOT / "qa_pipeline" / "review" / "templates"


def test_every_setting_documented() -> None:
    missing = [name for name in setting_names() if f"`{name}`" not in DOC]
    assert not missing, f"document these settings in docs/review.md: {missing}"


def test_settings_file_overrides_and_rejects(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("sla_dissatisfaction_minutes: 15\ncalibration_share: 1\n"
                    "unmask_roles: [admin]\n", encoding="utf-8")  # fmt: skip
    settings = load_settings(good)
    assert settings.sla_dissatisfaction_minutes == 15 and settings.calibration_share == 1.0
    assert settings.unmask_roles == ("admin",) and settings.sla_default_minutes == 240
    bad = tmp_path / "bad.yaml"
    bad.write_text("sla_minutes: 5\ncalibration_share: lots\n", encoding="utf-8")
    with pytest.raises(ReviewSettingsError) as raised:
        load_settings(bad)
    assert "unknown setting 'sla_minutes'" in str(raised.value)
    assert "calibration_share: expected float" in str(raised.value)
    assert raised.value.code == "E082"


def test_severity_takes_the_longest_prefix(ruleset: Ruleset) -> None:
    settings = load_settings(None).with_rules(ruleset.criteria)
    assert severity_of("forbidden.insult", settings) == 3
    assert severity_of("forbidden.dismissive", settings) == 2
    assert severity_of("disclosures.fees", settings) == 2
    assert severity_of("explicit_consent", settings) == 3
    assert severity_of("something_new", settings) == 1


def test_interface_text_is_complete_in_both_languages() -> None:
    assert set(LANGUAGES) == {"zh", "en"}
    zh, en = strings("zh"), strings("en")
    assert set(zh) == set(en)
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+)'\)", template.read_text(encoding="utf-8")))
    assert used and not used - set(zh), f"missing text: {sorted(used - set(zh))}"
    words = {
        key: text for key, text in zh.items() if key != "language" and not key.startswith("sep_")
    }
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in words.values())  # sep_: punctuation


@pytest.mark.parametrize("steps", [("head", "0003", "head"), ("head", "0007", "head")])
def test_migration_up_down_matches_models(db_url: str, steps: tuple[str, ...]) -> None:
    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    for target in steps:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            if target == "head":
                command.upgrade(config, target)
            else:
                command.downgrade(config, target)
    with engine.connect() as connection:
        # The search index's FTS5 tables and pg_trgm index are made outside the models.
        context = MigrationContext.configure(
            connection, opts={"include_name": outside_search_index}
        )
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_users_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    url = f"sqlite:///{tmp_path / 'u.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["users", "add", "wang", "--role", "supervisor", "--team", "T1",
                 "--password-stdin", "--db", url]) == 0  # fmt: skip
    assert "user wang added (supervisor, team T1)" in capsys.readouterr().out
    engine = connect(url)
    assert authenticate(engine, "wang", "s3cret-password") is not None
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["users", "add", "li", "--role", "supervisor", "--password-stdin",
                 "--db", url]) == 2  # fmt: skip
    assert "a supervisor needs --team" in capsys.readouterr().err
    assert main(["users", "disable", "wang", "--db", url]) == 0
    assert authenticate(engine, "wang", "s3cret-password") is None
    assert [u.active for u in list_users(engine)] == [False]
    with pytest.raises(UserError, match="already exists"):
        add_user(engine, "wang", "qa_lead", None, "long-password", "test")
    with pytest.raises(UserError, match="role 'boss'"):
        add_user(engine, "x", "boss", None, "long-password", "test")


def test_final_verdict_is_the_engines_when_nothing_is_overturned(
    tmp_path: Path, ruleset: Ruleset
) -> None:
    path = run_batch(ROOT / "samples" / "calls", tmp_path, ruleset).results_path
    rows = {r.call_id: r for r in read_results(path)}
    for call_id, row in rows.items():
        final = final_verdict(row, [])
        assert final.valid_sale == row.valid_sale, call_id
        assert final.revisit_required == row.revisit_required, call_id
    sale = rows["zh-s-004"]  # a sale failing the permission and consent items
    failed = ["account_holder_verified.permission", "explicit_consent"]
    assert final_verdict(sale, failed[:1]).valid_sale is False
    assert final_verdict(sale, failed).valid_sale is True
    assert final_verdict(sale, ["forbidden.arguing"]).forbidden == {}
    assert final_verdict(sale, ["agent_hung_up_first"]).agent_hung_up_first is False
    assert final_verdict(rows["zh-s-006"], []).valid_sale is None  # not a sale


def test_mask_and_highlight() -> None:
    assert mask_number("13812341234") == "138****1234"
    assert mask_number("2125550183") == "212***0183"
    assert mask_number("12345") == "***45"
    parts = highlight("您怎么这么啰嗦，打10000就能退", [("打10000", "evidence"),
                                                   ("您怎么这么啰嗦", "forbidden")])  # fmt: skip
    assert parts == (("您怎么这么啰嗦", "forbidden"), ("，", None), ("打10000", "evidence"),
                     ("就能退", None))  # fmt: skip
    assert highlight("abc", [("zzz", "evidence")]) == (("abc", None),)


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ("我的号码是13812341234，对", "我的号码是138****1234，对"),
        ("call me at 212 555 0183 please", "call me at 212***0183 please"),
        ("幺三八一二三四一二三四", "幺三八****一二三四"),
        ("two one two five five five zero one eight three", "* * * * * * * * eight three"),
        ("价格是5元，2026年11月20号，工号5830", "价格是5元，2026年11月20号，工号5830"),
        ("it costs 3 dollars for 30 days", "it costs 3 dollars for 30 days"),
        # issue 14: ID cards ending in X, hyphen-grouped bank cards and phones, CJK separators
        ("身份证11010519900307123X号", "身份证110***********123X号"),
        ("身份证 110105 19900307 123x", "身份证 110***********123x"),
        ("一一零一零五一九九零零三零七一二三叉", "一一零***********一二三叉"),
        ("卡号6222-0212-3456-7890-123", "卡号622************0123"),
        ("卡号 6222 0212 3456 7890", "卡号 622*********7890"),
        ("电话138-1234-1234", "电话138****1234"),
        ("一三八，一二三四，一二三四", "一三八****一二三四"),
        ("１３８１２３４１２３４", "１３８****１２３４"),
        ("one three eight one two three four one two three four", "* * * * * * * * * three four"),
        ("到2026-12-12免费期结束，10:02", "到2026-12-12免费期结束，10:02"),
    ],
)
def test_long_numbers_said_in_a_call_are_masked(said: str, shown: str) -> None:
    from qa_pipeline.review.auth import mask_spoken_numbers

    assert mask_spoken_numbers(said) == shown


def test_every_audit_action_is_named_in_every_language() -> None:
    """The audit page names each action in the reader's language; `record` refuses an action
    outside the list, so an action added in code without its names fails here or in its test."""
    for language in LANGUAGES:
        table = strings(language)
        assert [a for a in ACTIONS if f"audit_{a}" not in table] == [], language
    assert len({strings("zh")[f"audit_{a}"] for a in ACTIONS}) == len(ACTIONS)
