"""The JSON API over HTTP (FastAPI's test client): tokens from the command line to a refused
request, scope and masking as on the pages, pagination edges, review writes that the pages and
the audit log show, bad parameters as JSON errors, and the OpenAPI document and its page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.openapi.models import OpenAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.routing import Mount

from qa_pipeline.cli import main
from qa_pipeline.review.app import create_app
from qa_pipeline.review.auth import add_user, mask_number
from qa_pipeline.review.settings import ReviewSettings
from qa_pipeline.review.tokens import create_token
from qa_pipeline.storage.audit import entries
from qa_pipeline.storage.db import connect
from qa_pipeline.storage.review import latest_judged
from qa_pipeline.storage.tables import FindingRow
from tests.review.test_http import SETTINGS, _finding, csrf, login

API = "/api/v1"


@pytest.fixture
def app_url(seeded_sqlite: tuple[str, Engine]) -> str:
    return seeded_sqlite[0]


@pytest.fixture
def client(app_url: str) -> Iterator[TestClient]:
    with TestClient(
        create_app(app_url, SETTINGS), base_url="https://testserver", follow_redirects=False
    ) as test_client:
        yield test_client


def bearer(engine: Engine, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(engine, name, 'test', 'test').secret}"}


def _api(client: TestClient) -> FastAPI:
    mounts = [r for r in client.app.routes if isinstance(r, Mount) and r.path == API]  # type: ignore[attr-defined]
    assert len(mounts) == 1
    app = mounts[0].app
    assert isinstance(app, FastAPI)
    return app


def _error(answer: Any, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()["error"]
    assert body["code"] == code and body["status"] == status
    return str(body["message"])


def _all(client: TestClient, path: str, headers: dict[str, str], size: int) -> list[Any]:
    """Every item of a listing, page by page, checking the counts on each page."""
    items: list[Any] = []
    first = client.get(path, params={"size": size}, headers=headers).json()
    for page in range(1, first["pages"] + 1):
        body = client.get(path, params={"size": size, "page": page}, headers=headers).json()
        assert body["total"] == first["total"] and body["size"] == size and body["page"] == page
        assert len(body["items"]) == min(size, first["total"] - (page - 1) * size)
        items += body["items"]
    return items


def test_every_api_route_needs_a_valid_token(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    routes = [r for r in _api(client).routes if isinstance(r, APIRoute) and r.include_in_schema]
    assert len(routes) >= 9
    for route in routes:
        path = API + re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            for headers in ({}, {"Authorization": "Bearer qap_forged"},
                            {"Authorization": "Basic bGVhZDp4"}):  # fmt: skip
                answer = client.request(method, path, headers=headers, json={})
                _error(answer, 401, "E121")
                assert answer.headers["www-authenticate"] == "Bearer"
    # a session cookie opens the pages, never the API (no CSRF token guards it there)
    assert login(client, "lead") == 303
    _error(client.get(f"{API}/calls"), 401, "E121")


def test_token_lifecycle_from_the_command_line(
    client: TestClient, app_url: str, seeded_sqlite: tuple[str, Engine],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    engine = seeded_sqlite[1]
    assert main(["users", "token", "lead", "--label", "dashboard", "--db", app_url]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert token.startswith("qap_") and len(token) > 40 and "shown only now" in printed.err
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/me", headers=headers).json() == {
        "name": "lead", "role": "qa_lead", "team": None,
    }  # fmt: skip
    assert main(["users", "tokens", "lead", "--db", app_url]) == 0
    listed = capsys.readouterr().out
    assert "dashboard" in listed and token[:10] in listed and token not in listed
    assert "never used" not in listed and "active" in listed
    token_id = listed.split()[0]
    # a disabled user's tokens stop at once, and work again when the user is enabled
    assert main(["users", "disable", "lead", "--db", app_url]) == 0
    _error(client.get(f"{API}/me", headers=headers), 401, "E121")
    assert main(["users", "enable", "lead", "--db", app_url]) == 0
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    assert main(["users", "revoke-token", token_id, "--db", app_url]) == 0
    _error(client.get(f"{API}/me", headers=headers), 401, "E121")
    assert main(["users", "tokens", "lead", "--db", app_url]) == 0
    assert "revoked" in capsys.readouterr().out
    actions = [(e.actor, e.action) for e in entries(engine)]
    assert ("cli", "token_add") in actions and ("cli", "token_revoke") in actions
    # mistakes are errors that say what to do, not tracebacks
    for argv, message in (
        (["users", "token", "nobody"], "no user 'nobody'"),
        (["users", "revoke-token", token_id], "already revoked"),
        (["users", "revoke-token", "abc"], "needs a token ID"),
        (["users", "revoke-token", "999"], "no API token 999"),
        (["users", "token", "lead", "--label", "x" * 65], "at most 64"),
    ):
        assert main([*argv, "--db", app_url]) == 2, argv
        assert "E126" in (err := capsys.readouterr().err) and message in err, err


def test_supervisor_scope_is_the_pages(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    engine = seeded_sqlite[1]
    sup, lead = bearer(engine, "sup1"), bearer(engine, "lead")
    calls = _all(client, f"{API}/calls", sup, 100)
    assert {c["team"] for c in calls} == {"T1"} and "zh-s-005" in {c["call_id"] for c in calls}
    assert {c["team"] for c in _all(client, f"{API}/calls", lead, 100)} == {"T1", "T2", "E1"}
    for path in ("/calls/zh-s-004", "/calls/en-s-002", "/calls/nope"):
        assert "in your scope" in _error(client.get(API + path, headers=sup), 404, "E123")
    findings = _all(client, f"{API}/findings", sup, 100)
    assert findings and {f["call_id"] for f in findings} <= {c["call_id"] for c in calls}
    assert client.get(f"{API}/findings?call_id=zh-s-004", headers=sup).json()["total"] == 0
    message = _error(client.get(f"{API}/calls?team=T2", headers=sup), 400, "E124")
    assert "team 'T2'" in message and "T1" in message and "T2," not in message
    tasks = _all(client, f"{API}/tasks?status=all", sup, 100)
    assert {t["team"] for t in tasks} <= {"T1"}
    assert {t["team"] for t in _all(client, f"{API}/tasks?status=all", lead, 100)} > {"T1"}
    cards = client.get(f"{API}/scorecards?level=agent&period=month", headers=sup).json()
    assert {row["agent"] for row in cards["items"]} <= {"S101", "S102", "S105", "S199"}
    assert "center" in _error(
        client.get(f"{API}/scorecards?level=center", headers=sup), 400, "E124"
    )
    other = _finding(engine, "zh-s-004", "explicit_consent")
    for verb, body in (("dispute", {"reason": "x"}), ("review", {"action": "confirm"})):
        answer = client.post(f"{API}/findings/{other}/{verb}", json=body, headers=sup)
        _error(answer, 404, "E123")
    own = _finding(engine, "zh-s-005", "caller_competent")
    answer = client.post(f"{API}/findings/{own}/review", json={"action": "overturn"}, headers=sup)
    assert "supervisor may not review" in _error(answer, 403, "E122")


def test_an_agents_token_is_refused(client: TestClient, seeded_sqlite: tuple[str, Engine]) -> None:
    """The API scopes by team; an agent (their own calls only) reads them in the workbench."""
    engine = seeded_sqlite[1]
    add_user(engine, "agent101", "agent", "T1", "a-long-enough-password", "test", agent_id="S101")
    token = bearer(engine, "agent101")
    for path in ("/me", "/calls", "/calls/zh-s-005", "/findings", "/tasks"):
        assert "/me" in _error(client.get(API + path, headers=token), 403, "E122")


def test_masking_and_language_are_the_pages(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    engine = seeded_sqlite[1]
    sup, lead = bearer(engine, "sup1"), bearer(engine, "lead")
    masked = client.get(f"{API}/calls/zh-x-001", headers=sup).json()
    shown = client.get(f"{API}/calls/zh-x-001", headers=lead).json()
    assert shown["customer_number"] == "13812341234"
    assert masked["customer_number"] == mask_number("13812341234")
    listed = client.get(f"{API}/calls?agent=S199", headers=sup).json()["items"]
    assert [c["customer_number"] for c in listed] == ["138****1234"]
    said = [e["text"] for f in shown["findings"] for e in f["evidence"]] + [
        e["text"] for c in shown["criteria"] for i in c["items"] for e in i["evidence"]
    ]
    hidden = [e["text"] for f in masked["findings"] for e in f["evidence"]] + [
        e["text"] for c in masked["criteria"] for i in c["items"] for e in i["evidence"]
    ]
    assert any("13912345678" in text for text in said)
    assert not any("13912345678" in text for text in hidden)
    assert any("139****5678" in text for text in hidden)
    zh = client.get(f"{API}/calls/zh-s-004", headers={**lead, "Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get(f"{API}/calls/zh-s-004?lang=en", headers={**lead, "Accept-Language": "zh"})
    zh_body, en_body = zh.json(), en.json()
    assert zh_body["lang"] == "zh" and en_body["lang"] == "en"
    consent = next(f for f in zh_body["findings"] if f["code"] == "explicit_consent")
    consent_en = next(f for f in en_body["findings"] if f["code"] == "explicit_consent")
    assert re.search(r"[\u4e00-\u9fff]", consent["reason"] + consent["name"])
    assert not re.search(r"[\u4e00-\u9fff]", consent_en["name"])
    assert consent["reason"] != consent_en["reason"]
    assert zh_body["verdict"]["valid_sale"] is False
    assert {c["code"] for c in zh_body["criteria"]} >= {"explicit_consent"}


def test_pagination_edges(client: TestClient, seeded_sqlite: tuple[str, Engine]) -> None:
    lead = bearer(seeded_sqlite[1], "lead")
    whole = client.get(f"{API}/calls?size=100", headers=lead).json()
    assert whole["total"] == 11 and whole["pages"] == 1 and len(whole["items"]) == 11
    paged = _all(client, f"{API}/calls", lead, 3)
    assert [c["call_id"] for c in paged] == [c["call_id"] for c in whole["items"]]
    assert len({c["call_id"] for c in paged}) == 11
    dates = [c["started_local"] for c in paged]
    assert dates[0] > dates[-1]  # newest first
    blank = client.get(f"{API}/calls?team=&agent=&campaign=&size=100", headers=lead).json()
    assert blank["total"] == 11  # empty filters, as a form sends them, filter nothing
    past = client.get(f"{API}/calls?size=3&page=5", headers=lead).json()
    assert past["items"] == [] and past["total"] == 11 and past["pages"] == 4
    empty = client.get(f"{API}/calls?date_from=2030-01-01", headers=lead).json()
    assert empty == {"items": [], "page": 1, "size": 50, "total": 0, "pages": 1}
    for query, expected in (
        ("size=101", "less than or equal to 100"), ("size=0", "greater than or equal to 1"),
        ("page=0", "greater than or equal to 1"), ("page=abc", "valid integer"),
        ("page=99999999999999999999", "less than or equal to 1000000"),
    ):  # fmt: skip
        message = _error(client.get(f"{API}/calls?{query}", headers=lead), 400, "E124")
        assert expected in message and query.split("=")[0] in message, message
    findings = _all(client, f"{API}/findings", lead, 7)
    assert len({f["id"] for f in findings}) == len(findings) > 7
    pending = client.get(f"{API}/calls?state=pending&size=100", headers=lead).json()["items"]
    assert pending and all(c["queue"]["status"] == "pending" for c in pending)
    dated = client.get(f"{API}/calls?date_from=2026-11-10&date_to=2026-11-13", headers=lead)
    assert {c["local_date"] for c in dated.json()["items"]} <= {
        "2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13",
    }  # fmt: skip
    assert dated.json()["total"] == 4  # zh-s-003, zh-s-004 and its copy zh-x-001, en-s-003


def test_review_through_the_api_shows_in_the_page_and_audit_log(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    engine = seeded_sqlite[1]
    lead, sup = bearer(engine, "lead"), bearer(engine, "sup2")
    finding = _finding(engine, "zh-s-004", "explicit_consent")
    answer = client.post(f"{API}/findings/{finding}/review", headers=lead,
                         json={"action": "confirm", "note": "heard it: no clear yes"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["state"] == "confirm" and body["reviewer"] == "lead"
    assert body["note"] == "heard it: no clear yes" and body["call_id"] == "zh-s-004"
    detail = client.get(f"{API}/calls/zh-s-004", headers=lead).json()
    assert [f["state"] for f in detail["findings"] if f["id"] == finding] == ["confirm"]
    reviews = client.get(f"{API}/reviews?call_id=zh-s-004", headers=lead).json()["items"]
    assert [(r["finding_id"], r["action"], r["reviewer"]) for r in reviews] == [
        (finding, "confirm", "lead")
    ]
    confirmed = client.get(f"{API}/findings?state=confirm", headers=lead).json()["items"]
    assert [f["id"] for f in confirmed] == [finding]
    logged = [e for e in entries(engine, "zh-s-004") if e.action == "confirm"]
    assert logged and logged[0].actor == "lead"
    # the page shows what the API did, and the audit page names the actor
    assert login(client, "lead") == 303
    assert "已确认" in client.get("/calls/zh-s-004").text
    audit = client.get("/audit").text
    assert "zh-s-004" in audit and "lead" in audit
    # a supervisor of the call's team disputes it; a second dispute is a conflict
    answer = client.post(f"{API}/findings/{finding}/dispute", headers=sup,
                         json={"reason": "the customer said 好的 at 00:41"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    assert answer.json()["finding"]["disputes"][0]["status"] == "open"
    again = client.post(f"{API}/findings/{finding}/dispute", headers=sup, json={"reason": "x"})
    assert "already has an open dispute" in _error(again, 409, "E125")
    assert "may not dispute" in _error(
        client.post(f"{API}/findings/{finding}/dispute", headers=lead, json={"reason": "x"}),
        403, "E122",
    )  # fmt: skip
    assert ("sup2", "dispute") in [(e.actor, e.action) for e in entries(engine, "zh-s-004")]
    assert "disputes" in client.get("/disputes").text
    # an overturn through the API changes the final verdict the API reports
    other = _finding(engine, "zh-s-004", "explicit_consent")
    client.post(f"{API}/findings/{other}/review", headers=lead, json={"action": "overturn"})
    after = client.get(f"{API}/calls/zh-s-004", headers=lead).json()
    consent = next(c for c in after["criteria"] if c["code"] == "explicit_consent")
    assert consent["passed"] is False and consent["final_passed"] is True


def test_bad_input_is_a_json_error_never_a_500(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    engine = seeded_sqlite[1]
    lead = bearer(engine, "lead")
    finding = _finding(engine, "zh-s-004", "explicit_consent")
    cases = [
        ("GET", "/calls?state=nope", None, "'pending'"),
        ("GET", "/calls?outcome=maybe", None, "'no_pitch'"),
        ("GET", "/calls?date_from=2026-13-01", None, "date_from"),
        ("GET", "/calls?date_from=2026-11-20&date_to=2026-11-01", None, "is after date_to"),
        ("GET", "/calls?agent=NOPE", None, "S101"),
        ("GET", "/calls?campaign=NOPE", None, "crbt"),
        ("GET", "/calls/zh-s-004?lang=fr", None, "['en', 'zh']"),
        ("GET", "/findings?state=maybe", None, "'unreviewed'"),
        ("GET", "/findings?kind=x", None, "'forbidden'"),
        ("GET", "/tasks?status=x", None, "'closed'"),
        ("GET", "/scorecards?period=year", None, "'month'"),
        ("GET", "/reviews?action=x", None, "'overturn'"),
        ("POST", f"/findings/{finding}/review", {"action": "maybe"}, "'overturn'"),
        ("POST", f"/findings/{finding}/review", {"action": "confirm", "extra": 1}, "extra"),
        ("POST", f"/findings/{finding}/review", {"note": "x" * 3000, "action": "confirm"}, "2000"),
        ("POST", f"/findings/{finding}/review", "not json", "JSON"),
        ("POST", f"/findings/{finding}/review", '["confirm"]', "valid dictionary"),
        ("POST", f"/findings/{finding}/dispute", {"reason": ""}, "reason"),
        ("POST", "/findings/abc/review", {"action": "confirm"}, "finding_id"),
        ("POST", "/findings/99999999999/review", {"action": "confirm"}, "finding_id"),
    ]
    for method, path, body, expected in cases:
        content = body if isinstance(body, str) else None
        sent = {**lead, "Content-Type": "application/json"} if content else lead
        answer = client.request(method, API + path, headers=sent,
                                json=None if content else body, content=content)  # fmt: skip
        message = _error(answer, 400, "E124")
        assert expected in message, (path, message)
    answer = client.post(f"{API}/findings/999999/review", headers=lead, json={"action": "confirm"})
    _error(answer, 404, "E123")
    _error(client.get(f"{API}/nothing-here", headers=lead), 404, "E123")
    answer = client.delete(f"{API}/calls", headers=lead)
    assert answer.status_code == 405 and answer.json()["error"]["status"] == 405


def test_openapi_lists_every_endpoint_and_validates(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    answer = client.get(f"{API}/openapi.json")
    assert answer.status_code == 200
    spec = answer.json()
    OpenAPI.model_validate(spec)  # the OpenAPI 3.1 structure FastAPI's own models describe
    routes = [r for r in _api(client).routes if isinstance(r, APIRoute) and r.include_in_schema]
    for route in routes:
        for method in route.methods:
            operation = spec["paths"][route.path][method.lower()]
            assert operation["summary"] and "401" in operation["responses"], route.path
    listed = {(path, m) for path, ops in spec["paths"].items() for m in ops}
    assert listed == {(r.path, m.lower()) for r in routes for m in r.methods}
    assert {p for p, _ in listed} >= {
        "/calls", "/calls/{call_id}", "/findings", "/reviews", "/findings/{finding_id}/review",
        "/findings/{finding_id}/dispute", "/tasks", "/scorecards", "/me",
    }  # fmt: skip
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    refs = set(re.findall(r'"\$ref": ?"#/components/schemas/([^"]+)"', answer.text))
    assert refs and refs <= set(spec["components"]["schemas"])
    page = client.get(f"{API}/docs", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "<script" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for path, method in listed:
        assert f"{method.upper()} {API}{path}" in page.text
    assert "API 参考" in client.get(f"{API}/docs?lang=zh").text


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_api_on_postgresql(seeded: tuple[str, Engine]) -> None:
    url, engine = seeded
    lead = bearer(engine, "lead")
    with TestClient(create_app(url, SETTINGS), base_url="https://testserver") as client:
        assert [c["call_id"] for c in _all(client, f"{API}/calls", lead, 4)] == [
            c["call_id"] for c in client.get(f"{API}/calls?size=100", headers=lead).json()["items"]
        ]
        finding = _finding(engine, "zh-s-004", "explicit_consent")
        answer = client.post(f"{API}/findings/{finding}/review", headers=lead,
                             json={"action": "confirm"})  # fmt: skip
        assert answer.status_code == 200 and answer.json()["state"] == "confirm"
        confirmed = client.get(f"{API}/findings?state=confirm", headers=lead).json()
        assert [f["id"] for f in confirmed["items"]] == [finding]
        assert client.get(f"{API}/findings?state=unreviewed", headers=lead).json()["total"] > 0
        _error(client.get(f"{API}/calls?page=99999999999", headers=lead), 400, "E124")
        assert csrf  # the pages' helpers are shared with test_http


def test_a_pending_blind_call_hides_its_verdict_and_findings(app_url: str) -> None:
    """As its page does: the reviewer judges a calibration call without the engine's answer,
    and its findings can neither be listed nor acted on until then."""
    blind_settings = ReviewSettings(calibration_share=1.0, calibration_share_recent_failures=1.0)
    engine = connect(app_url)
    lead = bearer(engine, "lead")
    with TestClient(create_app(app_url, blind_settings), base_url="https://testserver") as client:
        calls = client.get(f"{API}/calls?state=pending&size=100", headers=lead).json()["items"]
        blind = [c for c in calls if c["queue"]["blind"]]
        assert blind, "no call drawn blind"
        for call in blind:
            assert call["outcome"] is call["valid_sale"] is call["engine_valid_sale"] is None
            detail = client.get(f"{API}/calls/{call['call_id']}", headers=lead).json()
            assert detail["blind"] and detail["verdict"] is None
            assert detail["criteria"] == [] and detail["findings"] == []
            listed = client.get(f"{API}/findings?call_id={call['call_id']}", headers=lead)
            assert listed.json()["total"] == 0
        # a finding on a blind call's verdict (the drawn calls are clean sales: none of their own)
        verdict_id = latest_judged(engine, blind[0]["call_id"])
        with Session(engine) as session, session.begin():
            row = FindingRow(verdict_id=verdict_id, kind="hangup", code="agent_hung_up_first",
                             reason="planted", evidence=[])  # fmt: skip
            session.add(row)
            session.flush()
            hidden = [row.id]
        listed = client.get(f"{API}/findings?call_id={blind[0]['call_id']}", headers=lead)
        assert listed.json()["total"] == 0
        answer = client.post(
            f"{API}/findings/{hidden[0]}/review", headers=lead, json={"action": "confirm"}
        )
        _error(answer, 404, "E123")
        assert "confirm" not in [e.action for e in entries(engine, blind[0]["call_id"])]


def test_tokens_from_the_users_page(client: TestClient, seeded_sqlite: tuple[str, Engine]) -> None:
    engine = seeded_sqlite[1]
    assert login(client, "lead") == 303
    refused = client.post("/admin/tokens", data={"csrf_token": csrf(client, "/queue"),
                                                 "name": "lead"})  # fmt: skip
    assert refused.status_code == 403
    client.cookies.clear()
    assert login(client, "admin") == 303
    token = csrf(client, "/admin/users")
    made = client.post("/admin/tokens", data={"csrf_token": token, "name": "sup1",
                                              "label": "crm sync"})  # fmt: skip
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    shown = re.search(r'<code id="new-token">(qap_[^<]+)</code>', made.text)
    assert shown is not None
    secret = shown.group(1)
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/me", headers=headers).json()["name"] == "sup1"
    page = client.get("/admin/users").text
    assert secret not in page and "crm sync" in page and secret[:10] in page
    token_id = re.search(r'data-token="(\d+)"', page)
    assert token_id is not None
    for data, expected in (({"name": "nobody"}, "no user"), ({"name": "sup1", "label": "x" * 65},
                                                           "at most 64")):  # fmt: skip
        answer = client.post("/admin/tokens", data={"csrf_token": token, **data})
        assert answer.status_code == 400 and expected in answer.text
    revoked = client.post(f"/admin/tokens/{token_id.group(1)}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    _error(client.get(f"{API}/me", headers=headers), 401, "E121")
    assert client.post("/admin/tokens/999/revoke", data={"csrf_token": token}).status_code == 400
    actions = [(e.actor, e.action) for e in entries(engine)]
    assert ("admin", "token_add") in actions and ("admin", "token_revoke") in actions


def test_a_findings_page_costs_the_same_queries_whatever_its_size(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    """The page's findings are read for all its verdicts at once: a page of many calls' findings
    runs no more statements than a page of one call's (no query per verdict)."""
    from sqlalchemy import event

    lead = bearer(seeded_sqlite[1], "lead")
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    def run(size: int) -> tuple[int, int]:
        client.get(f"{API}/findings", params={"size": size}, headers=lead)  # warm caches
        statements.clear()
        event.listen(Engine, "before_cursor_execute", count)
        try:
            body = client.get(f"{API}/findings", params={"size": size}, headers=lead).json()
        finally:
            event.remove(Engine, "before_cursor_execute", count)
        return len({item["call_id"] for item in body["items"]}), len(statements)

    one_call, few = run(1)
    many_calls, many = run(100)
    assert one_call == 1 and many_calls >= 4, (one_call, many_calls)
    assert many == few, (few, many)
