"""Reviewing at speed over HTTP: claims and their expiry (the app's injectable clock), bulk
actions with a partial failure, saved filters, and transcript search for Chinese and English
on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), hostile queries included."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text

from qa_pipeline.batch.run import run_batch
from qa_pipeline.errors import ReviewSettingsError
from qa_pipeline.review.app import create_app
from qa_pipeline.review.settings import load_settings
from qa_pipeline.ruleset import Ruleset
from qa_pipeline.storage.repository import Store
from qa_pipeline.storage.search import search_mode
from tests.conftest import ROOT
from tests.review.test_http import SETTINGS, _client, _finding, app_url, csrf, login

__all__ = ["app_url"]  # a fixture of test_http, used here


class Clock:
    """A clock the test moves on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clients(
    seeded_sqlite: tuple[str, Engine], clock: Clock
) -> Iterator[tuple[TestClient, TestClient]]:
    """The lead's and the admin's browsers on one app with a movable clock."""
    app = create_app(seeded_sqlite[0], SETTINGS, clock=clock)
    with (
        TestClient(app, base_url="https://testserver", follow_redirects=False) as lead,
        TestClient(app, base_url="https://testserver", follow_redirects=False) as admin,
    ):
        assert login(lead, "lead") == 303 and login(admin, "admin") == 303
        yield lead, admin


def _holders(page: str) -> dict[str, str]:
    """Each queue row's call and who holds it ('' for nobody)."""
    rows = re.findall(r'<tr class="sev-[^"]*" data-call="([^"]+)">(.*?)</tr>', page, re.S)
    found = {}
    for call, row in rows:
        held = re.search(r'<span class="claimed[^"]*"[^>]*>([^<]+)</span>', row)
        found[call] = held.group(1) if held else ""
    return found


def _bulk(client: TestClient, **data: object) -> Response:
    token = csrf(client, "/queue")
    return client.post("/queue/bulk", data={"csrf_token": token, "next": "/queue", **data})


def test_claim_assign_refuse_and_expire(
    clients: tuple[TestClient, TestClient], clock: Clock
) -> None:
    lead, admin = clients
    answer = _bulk(lead, claim_one="zh-s-004")
    assert answer.status_code == 303 and answer.headers["location"] == "/queue"
    page = lead.get("/queue").text
    assert _holders(page)["zh-s-004"] == "lead" and 'class="claimed mine"' in page
    # someone else's live claim is refused, with who holds it and until when
    refused = _bulk(admin, claim_one="zh-s-004")
    until = (clock.now + timedelta(minutes=60)).strftime("%H:%M")
    assert refused.status_code == 200
    assert f"已被 lead 认领至 {until}（UTC）" in refused.text
    assert "E131" in refused.text
    # an admin assigns a call to a named reviewer; a supervisor cannot be assigned
    assigned = _bulk(admin, op="assign", assignee="lead", call=["zh-s-005", "en-s-003"])
    assert assigned.text.count('<tr class="ok"') == 2
    wrong = _bulk(admin, op="assign", assignee="sup1", call=["zh-s-003"])
    assert "sup1 不是在职的质检主管或管理员" in wrong.text
    mine = _holders(lead.get("/queue?holder=mine").text)
    assert set(mine) == {"zh-s-004", "zh-s-005", "en-s-003"}
    free = _holders(lead.get("/queue?holder=unassigned").text)
    assert set(free) == {"en-s-002", "en-s-004", "zh-s-003", "zh-x-001"}
    assert "/queue?holder=mine" not in lead.get("/queue?holder=bogus").text  # unknown: all
    audit = lead.get("/audit").text
    assert re.search(r'<td>admin</td>\s*<td title="assign">', audit)
    assert re.search(r'<td>lead</td>\s*<td title="claim">', audit)
    # the claim expires after claim_minutes: the call returns to everyone
    clock.now += timedelta(minutes=61)
    assert _holders(admin.get("/queue").text)["zh-s-004"] == ""
    assert _bulk(admin, claim_one="zh-s-004").status_code == 303
    assert _holders(lead.get("/queue").text)["zh-s-004"] == "admin"
    # only the holder (or an admin) releases a claim
    release = _bulk(lead, op="release", call=["zh-s-004"])
    assert "由 admin 认领：只有其本人或管理员可以释放" in release.text
    assert '<tr class="ok"' in _bulk(admin, op="release", call=["zh-s-004"]).text
    assert _holders(lead.get("/queue").text)["zh-s-004"] == ""


def test_claims_need_a_reviewer_and_a_sane_setting(app_url: str, tmp_path: Path) -> None:
    with _client(app_url) as supervisor:
        login(supervisor, "sup1")
        token = csrf(supervisor, "/queue")
        answer = supervisor.post("/queue/bulk", data={"csrf_token": token, "claim_one": "zh-s-005"})
        assert answer.status_code == 403
        assert 'name="claim_one"' not in supervisor.get("/queue").text
    with pytest.raises(ReviewSettingsError, match=r"claim_minutes: 0 is outside 1\.\.1440"):
        create_app(app_url, dataclasses.replace(SETTINGS, claim_minutes=0))
    settings = tmp_path / "review.yaml"
    settings.write_text("claim_minutes: 5000\n", encoding="utf-8")
    with pytest.raises(ReviewSettingsError, match=r"outside 1\.\.1440"):
        load_settings(settings)
    settings.write_text("claim_minutes: soon\n", encoding="utf-8")
    with pytest.raises(ReviewSettingsError, match="claim_minutes: expected int"):
        load_settings(settings)


def test_bulk_confirm_reports_each_call(clients: tuple[TestClient, TestClient]) -> None:
    lead, admin = clients
    assert _bulk(admin, claim_one="zh-x-001").status_code == 303
    selected = ["zh-s-004", "zh-s-005", "en-s-002", "zh-x-001", "no-such-call", "zh-s-004"]
    answer = _bulk(lead, op="confirm", code="explicit_consent", note="批量确认", call=selected)
    assert answer.status_code == 200
    rows = {call: state for state, call in re.findall(
        r'<tr class="(ok|failed)" data-call="([^"]+)">', answer.text)}  # fmt: skip
    assert rows == {"zh-s-004": "ok", "en-s-002": "ok", "zh-s-005": "failed",
                    "zh-x-001": "failed", "no-such-call": "failed"}  # fmt: skip
    shown = answer.text
    assert "成功 2 条，失败 3 条" in shown
    assert "该通话没有待复核的问题项“明确同意办理”" in shown  # zh-s-005, in the reader's words
    assert "已被 admin 认领：认领到期前只有其本人可复核" in shown  # zh-x-001
    assert "无此通话或无权查看" in shown
    results = re.sub(r"<[^>]+>", " ", shown.split("<tbody>")[1].split("</tbody>")[0])
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", results)  # no English reason on a zh page
    for call in ("zh-s-004", "en-s-002"):  # each through the one-call action: state and note
        page = lead.get(f"/calls/{call}").text
        article = re.search(r'<article class="finding state-(\w+)"[^>]*data-code="explicit_consent"'
                            r".*?</article>", page, re.S)  # fmt: skip
        assert (
            article is not None and article.group(1) == "confirm" and "批量确认" in article.group(0)
        )
    audit = lead.get("/audit").text
    assert len(re.findall(r'<td>lead</td>\s*<td title="confirm">', audit)) == 2
    assert 'data-code="explicit_consent"' in lead.get("/calls/zh-x-001").text
    assert "state-confirm" not in lead.get("/calls/zh-x-001").text
    # the whole request refused: nothing selected, an unknown action, no code, no CSRF
    assert "请至少选择一条通话" in _bulk(lead, op="claim").text
    assert _bulk(lead, op="delete", call=["zh-s-004"]).status_code == 400
    assert "请选择要确认或推翻的问题项" in _bulk(lead, op="overturn", call=["zh-s-004"]).text
    forged = lead.post("/queue/bulk", data={"op": "claim", "call": ["zh-s-003"]})
    assert forged.status_code == 403


def test_a_call_held_by_another_is_not_reviewed_one_by_one(
    clients: tuple[TestClient, TestClient], seeded_sqlite: tuple[str, Engine]
) -> None:
    lead, admin = clients
    assert _bulk(admin, claim_one="zh-s-004").status_code == 303
    finding = _finding(seeded_sqlite[1], "zh-s-004", "explicit_consent")
    token = csrf(lead, "/calls/zh-s-004")
    target = f"/calls/zh-s-004/findings/{finding}/review"
    refused = lead.post(target, data={"csrf_token": token, "action": "confirm"})
    assert refused.status_code == 409 and "已被 admin 认领" in refused.text
    answer = admin.post(target, data={"csrf_token": csrf(admin, "/calls/zh-s-004"),
                                      "action": "confirm"})  # fmt: skip
    assert answer.status_code == 303  # the holder reviews


def test_bulk_overturn_follows_the_verdict(clients: tuple[TestClient, TestClient]) -> None:
    lead, _ = clients
    answer = _bulk(lead, op="overturn", code="disclosures", note="日期核对无误",
                   call=["zh-s-003"])  # fmt: skip
    assert "已推翻 1 个问题" in answer.text
    page = lead.get("/calls/zh-s-003").text
    assert 'id="final-valid">是' in page  # the call's only finding overturned: a valid sale


def test_saved_filters(app_url: str) -> None:
    with _client(app_url) as lead, _client(app_url) as admin:
        login(lead, "lead")
        login(admin, "admin")
        token = csrf(lead, "/queue")
        query = "team=T2&severity=high&page=3&evil=%3Cx%3E&state="
        saved = lead.post("/queue/filters", data={"csrf_token": token, "name": " 高风险  T2 ",
                                                   "query": query})  # fmt: skip
        assert saved.status_code == 303
        assert saved.headers["location"] == "/queue?team=T2&severity=high"
        page = lead.get("/queue").text
        link = re.search(r'<a href="(/queue[^"]*)">高风险 T2</a>', page)
        assert link is not None and link.group(1) == "/queue?team=T2&amp;severity=high"
        assert '<tr class="sev-high" data-call="zh-s-004">' in lead.get(
            "/queue?team=T2&severity=high").text  # fmt: skip
        # the same name again replaces it; the current filter travels in the form
        lead.post("/queue/filters", data={"csrf_token": token, "name": "高风险 T2",
                                          "query": "team=T2"})  # fmt: skip
        page = lead.get("/queue?team=T1&holder=mine").text
        assert page.count(">高风险 T2</a>") == 1 and '<a href="/queue?team=T2">高风险 T2' in page
        assert 'name="query" value="team=T1&amp;holder=mine"' in page
        for bad in ("", "   ", "x" * 41, "a\x00b", "tab\u200bhidden"):
            refused = lead.post("/queue/filters", data={"csrf_token": token, "name": bad,
                                                        "query": "team=T1"})  # fmt: skip
            assert refused.status_code == 400, bad
            assert "筛选名称需为 1 至 40 个字符，不能含控制字符" in refused.text
        assert "高风险 T2" not in admin.get("/queue").text  # each user's own
        filter_id = re.search(r"/queue/filters/(\d+)/delete", page)
        assert filter_id is not None
        target = f"/queue/filters/{filter_id.group(1)}/delete"
        theirs = admin.post(target, data={"csrf_token": csrf(admin, "/queue")})
        assert theirs.status_code == 400 and "没有这个已存筛选" in theirs.text
        assert lead.post(target, data={}).status_code == 403  # CSRF
        assert lead.post(target, data={"csrf_token": token}).status_code == 303
        assert "高风险 T2" not in lead.get("/queue").text


def _hits(page: str) -> list[tuple[str, str]]:
    """Each result's call and its highlighted text."""
    return re.findall(r'<tr data-call="([^"]+)">.*?<mark class="hit">([^<]*)</mark>', page, re.S)


def _index_again(engine: Engine, folder: Path, ruleset: Ruleset) -> None:
    """zh-s-003 judged again from a changed transcript: a new latest transcript."""
    calls = folder / "again"
    calls.mkdir()
    call = json.loads((ROOT / "samples" / "calls" / "zh-s-003.json").read_text("utf-8"))
    for segment in call["segments"]:
        segment["text"] = segment["text"].replace("退订", "取消订购")
    (calls / "zh-s-003.json").write_text(json.dumps(call, ensure_ascii=False), "utf-8")
    run_batch(calls, folder / "again-out", ruleset, store=Store(engine))


def test_search_transcripts_in_chinese_and_english(
    seeded: tuple[str, Engine], tmp_path: Path, ruleset: Ruleset
) -> None:
    url, engine = seeded
    assert search_mode(engine) == ("fts5" if url.startswith("sqlite") else "pg_trgm")
    with _client(url) as lead:
        login(lead, "lead")
        assert 'action="/search"' in lead.get("/queue").text  # the queue's search box
        two = lead.get("/search?q=退订").text  # two characters: below the trigram, a LIKE
        assert sorted(_hits(two)) == [("zh-s-001", "退订"), ("zh-s-003", "退订")]
        assert "不足 3 个字" in two and "共 2 行包含“退订”" in two
        at = re.search(r'href="/calls/zh-s-003\?t=([\d.]+)"', two)
        assert at is not None
        call = lead.get(f"/calls/zh-s-003?t={at.group(1)}").text
        assert f'data-seek="{float(at.group(1))}"' in call and "退订" in call
        four = lead.get("/search?q=就能退订").text  # four characters: the trigram index
        assert sorted(_hits(four)) == [("zh-s-001", "就能退订"), ("zh-s-003", "就能退订")]
        english = lead.get("/search?q=CANCEL ANYTIME").text  # any case
        assert sorted(_hits(english)) == [("en-s-001", "cancel anytime"),
                                          ("en-s-003", "cancel anytime")]  # fmt: skip
        assert len(_hits(lead.get("/search?q=cancel").text)) == 4
        for hostile in ('"', "%", "%%", "\\", "*", "AND OR NOT", 'NEAR("a" "b")', "退%",
                        "'; drop table calls; --", "zq\x00x", "^退订", "{退订}", "你好 OR 退订"):  # fmt: skip
            answer = lead.get("/search", params={"q": hostile})
            assert answer.status_code == 200, hostile
            assert _hits(answer.text) == [], hostile
        quote = _hits(lead.get("/search", params={"q": "'"}).text)  # "I'd", "It's": as itself
        assert quote and all(mark == "&#39;" for _, mark in quote)
        underscore = _hits(lead.get("/search?q=_").text)  # a literal "_" (window.__xss)
        assert underscore and {call for call, _ in underscore} == {"zh-x-001"}
        too_long = lead.get("/search", params={"q": "退" * 101})
        assert too_long.status_code == 400 and "搜索词最多 100 个字符" in too_long.text
        assert "共 0 行" not in lead.get("/search?q=").text  # no query: no results line
    with _client(url) as supervisor:  # team T1 only, numbers masked
        login(supervisor, "sup1")
        scoped = _hits(supervisor.get("/search?q=您怎么这么啰嗦").text)
        assert {call for call, _ in scoped} == {"zh-x-001"}  # zh-s-004 is team T2
        assert _hits(supervisor.get("/search?q=13912345678").text) == []  # masked for them
    with _client(url) as lead:
        login(lead, "lead")
        assert _hits(lead.get("/search?q=13912345678").text) == [("zh-x-001", "13912345678")]
    _index_again(engine, tmp_path, ruleset)  # the index follows the newest transcript
    with _client(url) as lead:
        login(lead, "lead")
        assert [c for c, _ in _hits(lead.get("/search?q=退订").text)] == ["zh-s-001"]
        assert [c for c, _ in _hits(lead.get("/search?q=取消订购").text)] == ["zh-s-003"]


def test_search_without_the_trigram_index_says_so(seeded_sqlite: tuple[str, Engine]) -> None:
    url, engine = seeded_sqlite
    with engine.begin() as connection:
        for trigger in ("ai", "ad", "au"):
            connection.execute(text(f"drop trigger transcript_lines_{trigger}"))
        connection.execute(text("drop table transcript_lines_fts"))
    assert search_mode(engine) == "scan"
    with _client(url) as lead:
        login(lead, "lead")
        page = lead.get("/search?q=就能退订").text
        assert 'id="search-scan"' in page
        assert sorted(_hits(page)) == [("zh-s-001", "就能退订"), ("zh-s-003", "就能退订")]
