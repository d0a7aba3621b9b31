"""The agent role and the yellow-card flow over HTTP (docs/review.md "Agent cases"): an agent
sees only their own calls and cannot review; a dissatisfaction flag or a confirmed
service-language finding opens a case the agent explains in time, or it goes to the team's
leader marked overdue (the app's clock advanced, no sleeping); the leader's decision gives a
yellow card and a callback task, both in the audit log and the card in the scorecards."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from qa_pipeline.cli import main
from qa_pipeline.errors import AgentLinkError, CaseError, ReviewSettingsError
from qa_pipeline.review.actions import review_finding
from qa_pipeline.review.app import create_app
from qa_pipeline.review.auth import User, add_user, authenticate
from qa_pipeline.review.cases import decide, escalate_late, explain, open_flagged
from qa_pipeline.review.queue import sync_queue
from qa_pipeline.review.settings import ReviewSettings, load_settings
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.scorecards.compute import language_ranking
from qa_pipeline.scorecards.frame import load_frame
from qa_pipeline.storage.audit import entries
from qa_pipeline.storage.cases import case_of_call
from qa_pipeline.storage.review import visible_call
from qa_pipeline.storage.tasks import list_tasks, tasks_of
from qa_pipeline.tasks.lists import dialer_csv
from tests.review.conftest import PASSWORD
from tests.review.test_http import _finding, csrf, login

SETTINGS = ReviewSettings(
    calibration_share=0.0, calibration_share_recent_failures=0.0, queue_sync_seconds=0
)
START = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def engine(seeded_sqlite: tuple[str, Engine]) -> Engine:
    """The seeded calls with two agents' users: S104 (zh-s-004: arguing, hung up first) and
    S110 (en-s-004: the customer was dissatisfied)."""
    engine = seeded_sqlite[1]
    add_user(engine, "ag104", "agent", "T2", PASSWORD, "test", "S104")
    add_user(engine, "ag110", "agent", "E1", PASSWORD, "test", "S110")
    return engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client_for(
    seeded_sqlite: tuple[str, Engine], engine: Engine, clock: Clock
) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in client per user name, all on one app and clock."""
    app = create_app(seeded_sqlite[0], SETTINGS, clock=clock)
    opened: list[TestClient] = []

    def signed_in(name: str) -> TestClient:
        client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        client.__enter__()
        opened.append(client)
        assert login(client, name) == 303
        return client

    yield signed_in
    for client in opened:
        client.__exit__(None, None, None)


def _actions(engine: Engine, call_id: str) -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in entries(engine, call_id)]


def test_an_agent_sees_only_their_own_calls_and_cannot_review(
    client_for: Callable[[str], TestClient], engine: Engine
) -> None:
    agent = client_for("ag104")
    assert agent.get("/calls/zh-s-004").status_code == 200
    for other in ("en-s-004", "zh-s-001", "zh-s-003"):  # zh-s-003: same team, another agent
        assert agent.get(f"/calls/{other}").status_code == 404
        assert agent.get(f"/calls/{other}/audio").status_code == 404
    for closed in ("/audit", "/calibration", "/admin/users", "/scorecards",
                   "/scorecards/export", "/scorecards/chart.png"):  # fmt: skip
        assert agent.get(closed).status_code == 403, closed
    queue = agent.get("/queue").text
    assert set(re.findall(r'data-call="([^"]+)"', queue)) == {"zh-s-004"}
    agents = re.search(r'<select name="agent">(.*?)</select>', queue, re.S)
    assert agents and re.findall(r'<option value="([^"]+)"', agents.group(1)) == ["S104"]
    assert agent.get("/").headers["location"] == "/me"
    for query in ("退订", "就能退订", "cancel anytime"):  # transcript search: their calls only
        found = set(
            re.findall(r'href="/calls/([^"?]+)\?t=', agent.get("/search", params={"q": query}).text)
        )
        assert found <= {"zh-s-004"}, query
    lead = client_for("lead")
    assert set(re.findall(r'href="/calls/([^"?]+)\?t=', lead.get("/search?q=退订").text)) > {
        "zh-s-001"
    }
    assert "en-s-004" not in agent.get("/me").text  # its case (opened by that sync) is S110's
    theirs = case_of_call(engine, "en-s-004")
    assert theirs is not None and f'data-case="{theirs.id}"' not in agent.get("/cases").text
    token = csrf(agent, "/me")
    answer = agent.post(f"/cases/{theirs.id}/explain", data={"csrf_token": token,
                        "explanation": "not mine"})  # fmt: skip
    assert answer.status_code == 404
    finding = _finding(engine, "zh-s-004", "forbidden.arguing")
    token = csrf(agent, "/calls/zh-s-004")
    answer = agent.post(f"/calls/zh-s-004/findings/{finding}/review",
                        data={"csrf_token": token, "action": "confirm"})  # fmt: skip
    assert answer.status_code == 403
    # and not another agent's call either: not found, as for supervisors out of team
    other = _finding(engine, "en-s-004", "forbidden.dismissive")
    answer = agent.post(f"/calls/en-s-004/findings/{other}/dispute",
                        data={"csrf_token": token, "reason": "x"})  # fmt: skip
    assert answer.status_code == 404


def test_a_dissatisfied_customer_opens_a_case_explained_in_time(
    client_for: Callable[[str], TestClient], engine: Engine, clock: Clock
) -> None:
    agent = client_for("ag110")
    page = agent.get("/me").text  # the sync opens the case for the customer_dissatisfied flag
    todo = page.split('id="to-explain"')[1].split("</section>")[0]
    assert "en-s-004" in todo and "还剩 30 分钟" in todo  # to the deadline
    case = case_of_call(engine, "en-s-004")
    assert case is not None and case.codes == ("customer_dissatisfied",)
    assert case.due_at == START + timedelta(minutes=30)
    clock.advance(20)
    token = csrf(agent, "/calls/en-s-004")
    assert agent.post(f"/cases/{case.id}/explain", data={"csrf_token": token,
                      "explanation": ""}).status_code == 400  # fmt: skip
    answer = agent.post(
        f"/cases/{case.id}/explain",
        data={"csrf_token": token, "explanation": "The customer was upset about an earlier bill."},
    )
    assert answer.status_code == 303
    clock.advance(30)  # past the deadline: explained in time, so never overdue
    lead = client_for("lead")
    home = lead.get("/").text
    waiting = home.split('id="cases-waiting"')[1].split("</section>")[0]
    assert 'data-case-call="en-s-004"' in waiting and "overdue" not in waiting
    assert ("ag110", "case_explain") in _actions(engine, "en-s-004")
    assert ("system", "case_overdue") not in _actions(engine, "en-s-004")
    call = lead.get("/calls/en-s-004").text
    assert "earlier bill" in call and 'id="case-decide-form"' in call
    # explained once: a second explanation is refused
    again = agent.post(f"/cases/{case.id}/explain", data={"csrf_token": token,
                       "explanation": "more"})  # fmt: skip
    assert again.status_code == 400


def test_an_unexplained_case_goes_to_the_leader_overdue_who_gives_a_yellow_card(
    client_for: Callable[[str], TestClient], engine: Engine, clock: Clock
) -> None:
    lead = client_for("lead")
    finding = _finding(engine, "zh-s-004", "forbidden.arguing")
    token = csrf(lead, "/calls/zh-s-004")
    answer = lead.post(f"/calls/zh-s-004/findings/{finding}/review",
                       data={"csrf_token": token, "action": "confirm"})  # fmt: skip
    assert answer.status_code == 303
    case = case_of_call(engine, "zh-s-004")
    assert case is not None and case.codes == ("forbidden.arguing",) and case.agent_id == "S104"
    hangup = _finding(engine, "zh-s-004", "agent_hung_up_first")
    lead.post(f"/calls/zh-s-004/findings/{hangup}/review",
              data={"csrf_token": token, "action": "confirm"})  # fmt: skip
    joined = case_of_call(engine, "zh-s-004")  # one case per call: the hang-up joins it
    assert joined is not None and joined.id == case.id
    assert joined.codes == ("forbidden.arguing", "agent_hung_up_first")
    agent = client_for("ag104")
    # the agent disputes the confirmed finding of their own call, and sees only their disputes
    disputed = agent.post(f"/calls/zh-s-004/findings/{finding}/dispute",
                          data={"csrf_token": csrf(agent, "/me"), "reason": "客户先骂人"})  # fmt: skip
    assert disputed.status_code == 303
    assert "zh-s-004" in agent.get("/disputes").text
    assert "zh-s-004" in agent.get("/me").text.split('id="to-explain"')[1].split("</section>")[0]
    sup2 = client_for("sup2")  # the shift leader of T2
    decide = sup2.post(
        f"/cases/{case.id}/decide", data={"csrf_token": csrf(sup2, "/queue"), "decision": "uphold"}
    )
    assert decide.status_code == 400  # the agent still has time to explain
    clock.advance(31)
    queue = sup2.get("/queue").text
    assert re.search(rf'<tr class="case overdue" data-case="{case.id}"', queue)
    assert ("system", "case_overdue") in _actions(engine, "zh-s-004")
    assert 'class="case overdue"' in sup2.get("/").text
    # another team's leader does not see it, nor decide it
    sup1 = client_for("sup1")
    assert f'data-case="{case.id}"' not in sup1.get("/").text
    assert (
        sup1.post(
            f"/cases/{case.id}/decide",
            data={"csrf_token": csrf(sup1, "/queue"), "decision": "uphold"},
        ).status_code
        == 404
    )
    # the agent may still explain, late: the case stays marked overdue
    late = agent.post(
        f"/cases/{case.id}/explain",
        data={"csrf_token": csrf(agent, "/me"), "explanation": "客户先骂人，我没控制好情绪。"},
    )
    assert late.status_code == 303
    answer = sup2.post(f"/cases/{case.id}/decide", data={
        "csrf_token": csrf(sup2, "/queue"), "decision": "uphold", "note": "听过录音，成立",
        "callback": "1"})  # fmt: skip
    assert answer.status_code == 303
    decided = case_of_call(engine, "zh-s-004")
    assert decided is not None and decided.status == "upheld" and decided.yellow_card
    assert decided.escalated_at is not None and decided.decided_by == "sup2"
    # an invalid sale has its open revisit already: that is the callback (one per call)
    callback = [t for t in tasks_of(engine, "zh-s-004") if t.id == decided.callback_task_id]
    assert callback and callback[0].kind == "revisit" and callback[0].status == "open"
    assert "agent case" not in callback[0].summary  # the batch run's revisit, not a second one
    audit = [e for e in entries(engine, "zh-s-004") if e.action == "case_decide"]
    assert audit[0].actor == "sup2" and audit[0].after is not None
    assert audit[0].after["yellow_card"] is True
    assert audit[0].after["callback_task"] == decided.callback_task_id
    # the card counts in the agent's month: scorecard column, ranking, and the agent's page
    month = decided.local_date[:7]
    card = lead.get(f"/scorecards?level=agent&period=month&key=S104&month={month}").text
    header = re.findall(r"<th[^>]*>([^<]+)</th>", card.split("<thead>")[1].split("</thead>")[0])
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", card.split("<tbody>")[1].split("</tbody>")[0])
    assert "黄牌" in header and cells[header.index("黄牌")] == "1"
    page = lead.get(f"/scorecards?month={month}&min_calls=1").text
    ranked = page.split('<table class="ranking">')[1]
    assert re.search(
        r'<td>S104</td><td>1</td><td>[^<]*</td><td class="yellow-cards">1</td>', ranked
    )
    assert re.search(
        r'<td>S101</td><td>1</td><td>[^<]*</td><td class="yellow-cards">0</td>', ranked
    )
    ranking = language_ranking(load_frame(engine), month, 0).set_index("agent_id")
    assert ranking.loc["S104", "yellow_cards"] == 1 and ranking.loc["S101", "yellow_cards"] == 0
    mine = agent.get("/me").text
    assert re.search(rf'<tr data-month="{month}"><th>{month}</th><td>1</td></tr>', mine)
    assert "成立：黄牌" in agent.get("/calls/zh-s-004").text


def test_dismissing_gives_no_card_and_only_leaders_decide(
    client_for: Callable[[str], TestClient], engine: Engine, clock: Clock
) -> None:
    agent = client_for("ag110")
    agent.get("/me")
    case = case_of_call(engine, "en-s-004")
    assert case is not None
    clock.advance(31)
    assert (
        agent.post(
            f"/cases/{case.id}/decide",
            data={"csrf_token": csrf(agent, "/me"), "decision": "dismiss"},
        ).status_code
        == 403
    )
    lead = client_for("lead")
    token = csrf(lead, "/queue")
    bad = lead.post(f"/cases/{case.id}/decide", data={"csrf_token": token, "decision": "maybe"})
    assert bad.status_code == 400 and "uphold" in bad.text
    answer = lead.post(f"/cases/{case.id}/decide", data={"csrf_token": token,
                       "decision": "dismiss"})  # fmt: skip
    assert answer.status_code == 303
    decided = case_of_call(engine, "en-s-004")
    assert decided is not None and decided.status == "dismissed" and not decided.yellow_card
    assert decided.callback_task_id is None
    assert lead.post(f"/cases/{case.id}/decide", data={"csrf_token": token,
                     "decision": "uphold"}).status_code == 400  # decided once  # fmt: skip


def test_agent_users_are_linked_and_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    engine: Engine,
) -> None:  # fmt: skip
    with pytest.raises(AgentLinkError, match="an agent needs --agent"):
        add_user(engine, "x1", "agent", None, PASSWORD, "test")
    with pytest.raises(AgentLinkError, match="only for the agent role"):
        add_user(engine, "x2", "qa_lead", None, PASSWORD, "test", "S101")
    with pytest.raises(AgentLinkError, match="already linked to user 'ag104'"):
        add_user(engine, "x3", "agent", None, PASSWORD, "test", "S104")
    with pytest.raises(AgentLinkError, match="printable") as raised:
        add_user(engine, "x4", "agent", None, PASSWORD, "test", " S1 ")
    assert raised.value.code == "E101"
    url = f"sqlite:///{tmp_path / 'u.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["users", "add", "zhao", "--role", "agent", "--agent", "S101",
                 "--password-stdin", "--db", url]) == 0  # fmt: skip
    out = capsys.readouterr()
    assert "user zhao added (agent, agent S101)" in out.out
    assert "no calls of agent S101 in the database yet" in out.err
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-password\n"))
    assert main(["users", "add", "qian", "--role", "agent", "--password-stdin",
                 "--db", url]) == 2  # fmt: skip
    assert "E101" in capsys.readouterr().err


def test_case_settings_are_validated(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("case_explain_minutes: 15\ncase_finding_kinds: [forbidden]\n", "utf-8")
    settings = load_settings(good)
    assert settings.case_explain_minutes == 15 and settings.case_finding_kinds == ("forbidden",)
    bad = tmp_path / "bad.yaml"
    bad.write_text("case_explain_minutes: 0\ncase_finding_kinds: [forbidden, rudeness]\n",
                   "utf-8")  # fmt: skip
    with pytest.raises(ReviewSettingsError) as raised:
        load_settings(bad)
    assert "case_explain_minutes: 0 is not a number of minutes" in str(raised.value)
    assert "['rudeness'] are not finding kinds" in str(raised.value)


def test_the_case_flow_on_both_databases(seeded: tuple[str, Engine], ruleset: Ruleset) -> None:
    """The library path on SQLite and PostgreSQL: the flag opens a case, a confirmation opens
    another, the late one is escalated once, the leader's card counts and the callback is a
    revisit task."""
    engine = seeded[1]
    settings = SETTINGS.with_rules(ruleset.criteria)
    add_user(engine, "ag104", "agent", "T2", PASSWORD, "test", "S104")
    lead, agent = authenticate(engine, "lead", PASSWORD), authenticate(engine, "ag104", PASSWORD)
    assert lead is not None and agent is not None and agent.scope_agent == "S104"
    assert visible_call(engine, "zh-s-004", None, agent.scope_agent) is not None
    unlinked = User(99, "nobody", "agent", None)  # e.g. a role set by hand in the database
    assert visible_call(engine, "zh-s-004", None, unlinked.scope_agent) is None
    sync_queue(engine, settings, START)
    assert open_flagged(engine, settings, START) == ["en-s-004"]
    assert open_flagged(engine, settings, START) == []  # once
    arguing = _finding(engine, "zh-s-004", "forbidden.arguing")
    review_finding(engine, ruleset, settings, lead, "zh-s-004", arguing, "confirm", "", START)
    case = case_of_call(engine, "zh-s-004")
    assert case is not None and case.due_at == START + timedelta(minutes=30)
    assert escalate_late(engine, START + timedelta(minutes=29)) == []
    late = START + timedelta(minutes=31)
    assert sorted(escalate_late(engine, late)) == ["en-s-004", "zh-s-004"]
    assert escalate_late(engine, late) == []  # once
    with pytest.raises(CaseError, match="only the call's agent"):
        explain(engine, lead, case.id, "x", late)
    decided = decide(engine, ruleset, lead, case.id, "uphold", "", True, late)
    assert decided.yellow_card and decided.callback_task_id is not None
    revisits = [t for t in tasks_of(engine, "zh-s-004") if t.kind == "revisit"]
    assert [t.id for t in revisits] == [decided.callback_task_id]
    frame = load_frame(engine).set_index("call_id")
    assert frame.loc["zh-s-004", "yellow_cards"] == 1 and frame["yellow_cards"].sum() == 1


def test_an_admin_adds_an_agent_in_the_workbench(
    client_for: Callable[[str], TestClient], engine: Engine
) -> None:
    admin = client_for("admin")
    token = csrf(admin, "/admin/users")
    form = {"csrf_token": token, "name": "ag101", "role": "agent", "password": PASSWORD}
    missing = admin.post("/admin/users", data=form)
    assert missing.status_code == 400 and "an agent needs --agent" in missing.text
    taken = admin.post("/admin/users", data=form | {"agent_id": "S104"})
    assert taken.status_code == 400 and "already linked to user" in taken.text
    long = admin.post("/admin/users", data=form | {"agent_id": "S" * 65})
    assert long.status_code == 400 and "1-64 printable characters" in long.text
    assert admin.post("/admin/users", data=form | {"agent_id": "S101"}).status_code == 303
    assert re.search(r"<td>ag101</td><td>agent</td><td></td><td>S101</td>",
                     admin.get("/admin/users").text)  # fmt: skip
    agent = client_for("ag101")
    assert agent.get("/calls/zh-s-001").status_code == 200  # S101's own call
    assert agent.get("/calls/zh-s-002").status_code == 404  # S102's


def test_a_callback_is_a_new_urgent_revisit_in_the_dialer_export(
    client_for: Callable[[str], TestClient], engine: Engine, clock: Clock
) -> None:
    """en-s-003 was declined (no revisit): the leader's callback creates one."""
    assert [t.kind for t in tasks_of(engine, "en-s-003")] == []
    lead = client_for("lead")
    finding = _finding(engine, "en-s-003", "forbidden.dismissive")
    token = csrf(lead, "/calls/en-s-003")
    lead.post(f"/calls/en-s-003/findings/{finding}/review",
              data={"csrf_token": token, "action": "confirm"})  # fmt: skip
    case = case_of_call(engine, "en-s-003")
    assert case is not None and case.agent_id == "S109"
    clock.advance(45)
    answer = lead.post(f"/cases/{case.id}/decide", data={
        "csrf_token": token, "decision": "uphold", "callback": "1"})  # fmt: skip
    assert answer.status_code == 303
    decided = case_of_call(engine, "en-s-003")
    assert decided is not None and decided.yellow_card and decided.escalated_at is not None
    [task] = tasks_of(engine, "en-s-003")
    assert (task.id, task.kind, task.priority, task.status) == (
        decided.callback_task_id,
        "revisit",
        "urgent",
        "open",
    )
    assert task.reason_codes == ("forbidden.dismissive",) and f"case {case.id}" in task.summary
    exported = dialer_csv(list_tasks(engine)).splitlines()
    assert any(f"{task.id}," in line and ",en-s-003," in line for line in exported)
    page = lead.get("/calls/en-s-003").text
    assert f'<dd id="case-callback">#{task.id}</dd>' in page
