"""The security cases over HTTP (FastAPI's test client): sessions on every route, CSRF on every
form, team scope (404), escaping, masking, login rate limit, cookie flags, audio by call id with
Range, and the review flow through the forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from qa_pipeline.errors import ReviewSettingsError
from qa_pipeline.review.app import create_app
from qa_pipeline.review.settings import ReviewSettings, load_settings
from qa_pipeline.storage.tables import FindingRow, VerdictRow
from tests.review.conftest import PASSWORD, XSS

SETTINGS = ReviewSettings(calibration_share=0.0, calibration_share_recent_failures=0.0)


def _client(url: str, settings: ReviewSettings = SETTINGS) -> TestClient:
    # https: the session cookie is Secure by default and travels over HTTPS only
    return TestClient(
        create_app(url, settings), base_url="https://testserver", follow_redirects=False
    )


@pytest.fixture
def app_url(seeded_sqlite: tuple[str, Engine]) -> str:
    return seeded_sqlite[0]


@pytest.fixture
def client(app_url: str) -> Iterator[TestClient]:
    with _client(app_url) as test_client:
        yield test_client


def csrf(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    token = csrf(client)
    answer = client.post(
        "/login", data={"csrf_token": token, "username": name, "password": password}
    )
    return answer.status_code


def _finding(engine: Engine, call_id: str, code: str) -> int:
    with Session(engine) as session:
        found = session.scalars(
            select(FindingRow.id)
            .join(VerdictRow, VerdictRow.id == FindingRow.verdict_id)
            .where(VerdictRow.call_id == call_id, FindingRow.code == code)
        ).first()
    assert found is not None
    return found


def test_every_route_but_login_needs_a_session(client: TestClient) -> None:
    routes = [r for r in client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]
    checked = 0
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in route.methods:
            answer = client.request(method, path)
            if route.path in ("/login", "/logout"):
                # open (nothing to protect without a session), but a POST still needs CSRF
                assert answer.status_code in ((200, 403) if method == "GET" else (403,)), path
                continue
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/login?next="), (method, path)
            checked += 1
    assert checked >= 18


def test_login_sets_a_hardened_cookie(app_url: str) -> None:
    with _client(app_url) as client:
        token = csrf(client)
        answer = client.post(
            "/login", data={"csrf_token": token, "username": "lead", "password": PASSWORD}
        )
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "; secure" in cookie
        assert "content-security-policy" in answer.headers
    plain = ReviewSettings(secure_cookies=False, calibration_share=0.0)
    with _client(app_url, plain) as client:
        token = csrf(client)
        answer = client.post(
            "/login", data={"csrf_token": token, "username": "lead", "password": PASSWORD}
        )
        assert "secure" not in answer.headers["set-cookie"].lower()


def test_logout_ends_the_session_for_every_copy_of_its_cookie(app_url: str) -> None:
    """A cookie copied before `POST /logout` opened /queue afterwards (issue 15)."""
    with _client(app_url) as client:
        assert login(client, "lead") == 303
        copied = dict(client.cookies)
        assert client.get("/queue").status_code == 200
        assert (
            client.post("/logout", data={"csrf_token": csrf(client, "/queue")}).status_code == 303
        )
    with _client(app_url) as thief:
        thief.cookies.update(copied)
        answer = thief.get("/queue")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_a_deactivated_user_is_signed_out_at_once(app_url: str) -> None:
    with _client(app_url) as admin, _client(app_url) as lead:
        login(admin, "admin")
        login(lead, "lead")
        assert lead.get("/queue").status_code == 200
        users = admin.get("/admin/users").text
        lead_id = re.search(r"<td>lead</td>.*?/admin/users/(\d+)/active", users, re.S)
        assert lead_id is not None
        token = csrf(admin, "/admin/users")
        admin.post(
            f"/admin/users/{lead_id.group(1)}/active", data={"csrf_token": token, "active": "0"}
        )
        assert lead.get("/queue").status_code == 303


def test_a_short_secret_key_is_refused(app_url: str, tmp_path: Path) -> None:
    with pytest.raises(ReviewSettingsError, match="secret_key: 1 characters is too short"):
        create_app(app_url, ReviewSettings(secret_key="x"))
    settings = tmp_path / "review.yaml"
    settings.write_text("secret_key: short\n", encoding="utf-8")
    with pytest.raises(ReviewSettingsError, match="at least 32"):
        load_settings(settings)
    create_app(app_url, ReviewSettings(secret_key="k" * 32))


def test_forms_need_the_csrf_token(client: TestClient, seeded_sqlite: tuple[str, Engine]) -> None:
    assert client.post("/login", data={"username": "lead", "password": PASSWORD}).status_code == 403
    assert login(client, "lead") == 303
    finding = _finding(seeded_sqlite[1], "zh-s-004", "explicit_consent")
    target = f"/calls/zh-s-004/findings/{finding}/review"
    for data in ({"action": "confirm"}, {"action": "confirm", "csrf_token": "forged"}):
        answer = client.post(target, data=data)
        assert answer.status_code == 403 and "CSRF" in answer.text
    assert client.post("/logout", data={}).status_code == 403
    token = csrf(client, "/calls/zh-s-004")
    answer = client.post(target, data={"action": "confirm", "csrf_token": token, "note": "ok"})
    assert answer.status_code == 303
    assert "已确认" in client.get("/calls/zh-s-004").text


def test_supervisor_sees_only_their_team(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    assert login(client, "sup1") == 303
    queue = client.get("/queue").text
    assert "zh-s-005" in queue and "zh-s-004" not in queue and "en-s-002" not in queue
    assert client.get("/calls/zh-s-005").status_code == 200
    for path in ("/calls/zh-s-004", "/calls/zh-s-004/audio", "/calls/en-s-002"):
        assert client.get(path).status_code == 404, path
    token = csrf(client, "/queue")
    finding = _finding(seeded_sqlite[1], "zh-s-004", "explicit_consent")
    posted = client.post(f"/calls/zh-s-004/findings/{finding}/dispute",
                         data={"csrf_token": token, "reason": "x"})  # fmt: skip
    assert posted.status_code == 404
    export = client.get("/scorecards/export?format=csv&level=agent&period=month").text
    assert "S101" in export and "S103" not in export and "S107" not in export
    assert client.get("/admin/users").status_code == 403
    assert client.get("/audit").status_code == 403
    own = _finding(seeded_sqlite[1], "zh-s-005", "caller_competent")
    review = client.post(f"/calls/zh-s-005/findings/{own}/review",
                         data={"csrf_token": token, "action": "overturn"})  # fmt: skip
    assert review.status_code == 403


def test_transcript_and_notes_are_escaped(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    assert login(client, "lead") == 303
    page = client.get("/calls/zh-x-001").text
    assert XSS not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page
    finding = _finding(seeded_sqlite[1], "zh-x-001", "explicit_consent")
    token = csrf(client, "/calls/zh-x-001")
    note = '<img src=x onerror="alert(1)">'
    client.post(f"/calls/zh-x-001/findings/{finding}/review",
                data={"csrf_token": token, "action": "confirm", "note": note})  # fmt: skip
    page = client.get("/calls/zh-x-001").text
    assert note not in page and "&lt;img src=x onerror=" in page


def test_customer_numbers_are_masked_by_role(app_url: str) -> None:
    with _client(app_url) as client:
        login(client, "sup1")
        page = client.get("/calls/zh-s-001").text
        assert "139****8836" in page and "13912408836" not in page
    with _client(app_url) as client:
        login(client, "lead")
        assert "13912408836" in client.get("/calls/zh-s-001").text
    nobody = ReviewSettings(unmask_roles=(), calibration_share=0.0)
    with _client(app_url, nobody) as client:
        login(client, "admin")
        assert "13912408836" not in client.get("/calls/zh-s-001").text


def test_numbers_said_in_the_call_are_masked_by_role(app_url: str) -> None:
    """The header was masked, the transcript was not (issue 15): a phone or ID number said in
    the call is masked for a role outside `unmask_roles`, like the header."""
    with _client(app_url) as client:
        login(client, "sup1")
        page = client.get("/calls/zh-x-001").text
        assert "139****5678" in page and "13912345678" not in page
        assert "一一零一零五一九四九" not in page and "一一零***一九四九" in page
    with _client(app_url) as client:
        login(client, "lead")
        page = client.get("/calls/zh-x-001").text
        assert "13912345678" in page and "一一零一零五一九四九" in page


def test_logins_are_rate_limited(app_url: str) -> None:
    settings = ReviewSettings(login_max_failures=3, login_window_seconds=60)
    with _client(app_url, settings) as client:
        for _ in range(3):
            assert login(client, "lead", "wrong-password") == 401
        assert login(client, "lead") == 429  # blocked even with the right password
        assert login(client, "sup1") == 429  # and from the same address for other names


def test_audio_streams_by_call_id_with_ranges(client: TestClient) -> None:
    login(client, "lead")
    whole = client.get("/calls/zh-s-004/audio")
    assert whole.status_code == 200 and whole.content[:4] == b"RIFF"
    part = client.get("/calls/zh-s-004/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"].startswith("bytes 100-199/")
    assert client.get("/calls/zh-s-001/audio").status_code == 404  # transcript only
    assert "无录音" in client.get("/calls/zh-s-001").text
    for probe in ("/calls/..%2F..%2Fetc%2Fpasswd/audio", "/calls/zh-s-004/audio/../../x"):
        assert client.get(probe).status_code == 404


def test_login_redirects_only_to_local_paths(client: TestClient) -> None:
    token = csrf(client, "/login?next=//evil.example/x")
    answer = client.post("/login", data={"csrf_token": token, "username": "lead",
                                          "password": PASSWORD, "next": "//evil.example/x"})  # fmt: skip
    assert answer.headers["location"] == "/queue"


def test_admin_manages_users_and_english_interface(client: TestClient, tmp_path: Path) -> None:
    login(client, "admin")
    token = csrf(client, "/admin/users")
    added = client.post("/admin/users", data={"csrf_token": token, "name": "sup3",
                                              "role": "supervisor", "team": "T3",
                                              "password": "long-enough-1"})  # fmt: skip
    assert added.status_code == 303 and "sup3" in client.get("/admin/users").text
    weak = client.post("/admin/users", data={"csrf_token": token, "name": "x", "role": "qa_lead",
                                             "password": "short"})  # fmt: skip
    assert weak.status_code == 400 and "E081" not in weak.text and "8 characters" in weak.text
    assert "复核队列" in client.get("/queue").text
    client.get("/lang/en?next=/queue")
    assert "Review queue" in client.get("/queue").text


def test_blind_calibration_call_hides_the_engine_until_judged(app_url: str) -> None:
    everything = ReviewSettings(calibration_share=1.0, calibration_share_recent_failures=1.0)
    with _client(app_url, everything) as client:
        login(client, "lead")
        queue = client.get("/queue?severity=blind").text
        assert "zh-s-001" in queue and "zh-s-004" not in queue
        page = client.get("/calls/zh-s-001").text
        assert "盲测校准通话" in page and 'id="engine-valid"' not in page
        token = csrf(client, "/calls/zh-s-001")
        judged = {"account_holder_verified": "pass", "caller_competent": "pass",
                  "disclosures": "fail", "explicit_consent": "pass"}  # fmt: skip
        answer = client.post("/calls/zh-s-001/calibration", data={"csrf_token": token, **judged})
        assert answer.status_code == 303
        assert 'id="engine-valid"' in client.get("/calls/zh-s-001").text
        report = client.get("/calibration").text
        assert re.search(r'data-rule="disclosures">.*?<td>1</td>\s*<td>0.0</td>', report, re.S)


def test_overdue_calls_are_marked_and_escalated(app_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC)
    times = iter([start, start + timedelta(minutes=45)])
    with _client(app_url, SETTINGS) as client:  # queued now
        login(client, "lead")
        assert "已超时" not in client.get("/queue").text
    late = ReviewSettings(calibration_share=0.0, queue_sync_seconds=0)
    app = create_app(app_url, late, clock=lambda: next(times, start + timedelta(minutes=45)))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login(client, "lead")
        rows = re.findall(r'<tr class="sev-[a-z]+( overdue)?" data-call="([^"]+)"',
                          client.get("/queue").text)  # fmt: skip
        overdue = {call for flag, call in rows if flag}
        assert overdue == {"en-s-002", "en-s-003", "en-s-004", "zh-s-004", "zh-x-001"}
        assert "已升级" in client.get("/queue").text
        assert "escalate" in client.get("/audit").text


def test_audio_signals_read_as_a_card_and_recognised_transcript_shows(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    import dataclasses

    from sqlalchemy import update

    from qa_pipeline.audio.signals import AudioSignals, RoleSignals

    agent = RoleSignals(talk_s=20.0, talk_share=0.6, turns=5, speech_rate=4.2, rate_unit="chars",
                        too_fast=False, interruptions=3)  # fmt: skip
    audio = AudioSignals(duration_s=30.0, roles={"agent": agent}, total_silence_s=7.5,
                         longest_silence_s=7.5, longest_silence_at=12.0,
                         silences=((12.0, 19.5),), overlaps=(), first_agent_word_s=0.5,
                         talking_at_end=())  # fmt: skip
    engine = seeded_sqlite[1]
    with Session(engine) as session:
        verdict = session.scalars(select(VerdictRow).where(VerdictRow.call_id == "zh-s-002")).one()
        result = dict(verdict.result) | {
            "transcript": [{"start": 0.5, "end": 2.0, "role": "agent", "text": "您好，识别文本"}],
            "audio": dataclasses.asdict(audio),
        }
        session.execute(update(VerdictRow).where(VerdictRow.id == verdict.id).values(result=result))
        session.commit()
    login(client, "lead")
    page = client.get("/calls/zh-s-002").text
    assert "您好，识别文本" in page and "无音频特征" not in page
    # a readable card: labelled rows with units and the limit judged against, no raw keys
    rate = re.search(r'<tr data-signal="speech_rate" class="">(.*?)</tr>', page, re.S)
    assert rate is not None
    assert re.sub(r"<[^>]+>", "", rate.group(1)) == "语速4.2 字/分钟 (正常：上限 330)"
    assert "20.0 s (60%)" in page and "too_fast" not in page
    silence = re.search(r'<tr data-event="silence">(.*?)</tr>', page, re.S)
    assert (
        silence is not None
        and "静音" in silence.group(1)
        and "12.0s–19.5s (7.5 s)" in silence.group(1)
    )
    assert "无音频特征" in client.get("/calls/zh-s-001").text


def test_xlsx_export_holds_the_table_on_screen(client: TestClient, tmp_path: Path) -> None:
    import pandas as pd

    login(client, "lead")
    answer = client.get("/scorecards/export?format=xlsx&level=team&period=month&key=T2")
    assert answer.status_code == 200 and answer.content[:2] == b"PK"
    assert 'filename="scorecard-team-month.xlsx"' in answer.headers["content-disposition"]
    path = tmp_path / "card.xlsx"
    path.write_bytes(answer.content)
    table = pd.read_excel(path)  # headers in the reader's language (zh by default)
    assert list(table["班组"]) == ["T2"] and int(table["通话数"].iloc[0]) == 3
    assert client.get("/scorecards/export?format=exe").status_code == 400


def test_a_call_that_is_no_sale_shows_its_criteria_as_sale_only(client: TestClient) -> None:
    assert login(client, "lead") == 303
    assert "zh-s-006" not in client.get("/queue").text  # the neighbour answered: nothing to review
    page = client.get("/calls/zh-s-006").text
    rows = re.findall(r'<tr class="na out-of-scope" data-criterion="(\w+)">', page)
    assert rows == ["account_holder_verified", "caller_competent", "disclosures",
                    "explicit_consent"]  # fmt: skip
    assert "该标准只用于判定销售是否有效" in page
    assert 'class="review-form"' not in page
    sale = client.get("/calls/zh-s-004").text
    assert "out-of-scope" not in sale and 'class="review-form"' in sale


def _article(page: str, code: str) -> str:
    found = re.search(rf'<article[^>]*data-code="{re.escape(code)}".*?</article>', page, re.S)
    assert found is not None, code
    return found.group(0)


def test_a_chinese_call_page_reads_in_chinese(client: TestClient) -> None:
    """Verdict banner, criterion names, reasons, dates: in the reader's language; the consent
    finding shows the question and the customer's reply; an absence shows the span searched."""
    assert login(client, "lead") == 303
    page = client.get("/calls/zh-s-004").text
    banner = re.search(r'<p id="verdict-banner"[^>]*>(.*?)</p>', page, re.S)
    assert banner is not None
    text = re.sub(r"<[^>]+>", "", banner.group(1))
    assert text.startswith(
        "无效销售 — 机主核实：征得同意介绍：坐席未征询客户是否方便就开始推荐业务"
    )
    assert "服务忌语：顶撞：坐席使用了服务忌语（顶撞）" in text and "通话记录显示由坐席挂断" in text
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", text)  # no English reason in the banner
    article = _article(page, "explicit_consent")
    assert "那给您开通了啊？" in article and "<q>嗯。</q>" in article  # question and reply
    assert "年11月" in page.split('id="customer-number"')[0]  # the call's date, as zh writes it
    english = client.get("/calls/en-s-002").text  # a zh reader of an English call: zh reasons
    fees = _article(english, "disclosures.fees")
    assert "坐席始终没有说明资费" in fees and 'class="searched"' in fees and "data-seek=" in fees
    client.get("/lang/en")
    page = client.get("/calls/zh-s-004").text
    assert "invalid sale</strong> — account holder: permission to pitch: the agent started" in page


def test_the_audit_log_shows_chinese_as_itself(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    assert login(client, "lead") == 303
    finding = _finding(seeded_sqlite[1], "zh-s-004", "explicit_consent")
    token = csrf(client, "/calls/zh-s-004")
    client.post(f"/calls/zh-s-004/findings/{finding}/review",
                data={"csrf_token": token, "action": "confirm", "note": "客户没同意"})  # fmt: skip
    audit = client.get("/audit").text
    assert re.search(r"<td>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d</td>", audit)  # as zh writes it
    assert '<td title="confirm">确认问题</td>' in audit  # the action named in Chinese
    client.get("/lang/en")
    assert '<td title="confirm">Finding confirmed</td>' in client.get("/audit").text
    client.get("/lang/zh")
    shown = client.app.state.review.templates.env.filters["json_text"]  # type: ignore[attr-defined]
    assert shown({"note": "客户没同意"}) == '{"note": "客户没同意"}'  # not \u escapes


def test_a_review_from_the_page_script_answers_with_the_new_page(
    client: TestClient, seeded_sqlite: tuple[str, Engine]
) -> None:
    """review.js posts in the background and swaps in the verdict parts of the answer; a plain
    form post still redirects."""
    assert login(client, "lead") == 303
    finding = _finding(seeded_sqlite[1], "zh-s-003", "disclosures.trial_end")
    token = csrf(client, "/calls/zh-s-003")
    answer = client.post(
        f"/calls/zh-s-003/findings/{finding}/review",
        data={"csrf_token": token, "action": "overturn", "note": ""},
        headers={"X-Requested-With": "fetch"},
    )
    assert answer.status_code == 200
    assert f'id="finding-{finding}" data-code="disclosures.trial_end"' in answer.text
    assert 'class="finding state-overturn"' in answer.text and 'id="final-valid">是' in answer.text
    again = client.post(f"/calls/zh-s-003/findings/{finding}/review",
                        data={"csrf_token": token, "action": "confirm", "note": ""})  # fmt: skip
    assert again.status_code == 303


def test_the_queue_is_paged_with_its_filters_kept(app_url: str) -> None:
    paged = ReviewSettings(calibration_share=0.0, calibration_share_recent_failures=0.0,
                           queue_page_size=3)  # fmt: skip
    with _client(app_url, paged) as client:
        login(client, "lead")
        first = client.get("/queue").text
        calls = re.findall(r'<tr class="sev-[^"]*" data-call="([^"]+)"', first)
        assert len(calls) == 3 and "7 条通话" in first and "第 1 页，共 3 页" in first
        assert 'rel="next" href="/queue?page=2"' in first and 'rel="prev"' not in first
        last = client.get("/queue?page=99").text  # past the end: the last page
        rest = re.findall(r'<tr class="sev-[^"]*" data-call="([^"]+)"', last)
        assert len(rest) == 1 and rest[0] not in calls and "第 3 页，共 3 页" in last
        middle = client.get("/queue?page=2").text
        seen = re.findall(r'<tr class="sev-[^"]*" data-call="([^"]+)"', middle)
        assert len(set(calls + seen + rest)) == 7  # every call on exactly one page
        kept = client.get("/queue?state=pending&page=1").text
        assert 'rel="next" href="/queue?state=pending&amp;page=2"' in kept


def test_the_disputes_page_names_the_finding(
    app_url: str, seeded_sqlite: tuple[str, Engine]
) -> None:
    finding = _finding(seeded_sqlite[1], "zh-s-004", "forbidden.arguing")
    with _client(app_url) as lead:
        login(lead, "lead")
        token = csrf(lead, "/calls/zh-s-004")
        lead.post(f"/calls/zh-s-004/findings/{finding}/review",
                  data={"csrf_token": token, "action": "confirm", "note": ""})  # fmt: skip
    with _client(app_url) as supervisor:
        login(supervisor, "sup2")
        token = csrf(supervisor, "/calls/zh-s-004")
        answer = supervisor.post(f"/calls/zh-s-004/findings/{finding}/dispute",
                                 data={"csrf_token": token, "reason": "语气正常"})  # fmt: skip
        assert answer.status_code == 303
        page = supervisor.get("/disputes").text
    cell = re.search(r'<td class="finding-code"><a href="([^"]+)">([^<]+)</a></td>', page)
    assert cell is not None
    assert cell.groups() == (f"/calls/zh-s-004#finding-{finding}", "服务忌语：顶撞")


def test_scorecards_read_as_a_report(client: TestClient) -> None:
    """Headers in the reader's language, rates as percentages, the charted key named."""
    assert login(client, "lead") == 303
    page = client.get("/scorecards?level=team&period=month").text
    headers = re.findall(r"<th data-column[^>]*>([^<]*)</th>", page)
    assert headers[:6] == ["班组", "周期", "通话数", "销售数", "有效销售数", "有效率"]
    assert "明确同意办理 通过率" in headers and not [h for h in headers if "_" in h]
    cells = re.findall(
        r"<td>([^<]*)</td>", page.split('<table class="card">')[1].split("</table>")[0]
    )
    assert any(c.endswith("%") for c in cells)
    assert not [c for c in cells if re.fullmatch(r"\d+\.\d{3,}", c)]  # no 61.529999999999994
    caption = re.search(r'<figcaption id="chart-key">(.*?)</figcaption>', page)
    assert caption is not None and caption.group(1).startswith("趋势：班组 E1")
    picked = client.get("/scorecards?level=team&period=month&key=T2").text
    assert '<figcaption id="chart-key">趋势：班组 T2</figcaption>' in picked


def test_the_home_page_holds_today_at_a_glance(app_url: str) -> None:
    with _client(app_url) as client:
        login(client, "lead")
        page = client.get("/").text
        assert re.search(r'id="tile-pending"[^>]*><strong>7</strong>', page)  # the 7 flagged calls
        assert re.search(r'id="tile-overdue"[^>]*><strong>0</strong>', page)
        top = re.findall(
            r'<tr data-code="([^"]+)"><th><a[^>]*>([^<]+)</a></th><td>(\d+)</td>', page
        )
        assert top and int(top[0][2]) >= int(top[-1][2])  # most first
        assert ("explicit_consent", "明确同意办理", "4") in top
        trend = page.split('<table class="trend">')[1].split("</table>")[0]
        assert "有效率" in trend and "年11月" in trend and "%" in trend
    later = datetime.now(UTC) + timedelta(days=2)
    with TestClient(
        create_app(app_url, SETTINGS, clock=lambda: later),
        base_url="https://testserver",  # the session cookie is Secure
        follow_redirects=False,
    ) as c:
        login(c, "sup1")  # team T1 only: zh-s-005 and zh-x-001, two days after they were queued
        page = c.get("/").text
        assert re.search(r'id="tile-pending"[^>]*><strong>2</strong>', page)
        assert re.search(r'class="tile alert" id="tile-overdue"[^>]*><strong>2</strong>', page)
