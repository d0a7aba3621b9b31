"""The workbench in a real browser: Playwright driving the system Chromium against the app served
by uvicorn on a free loopback port, with its own seeded database. Screenshots of the main pages go
to test-output/screenshots/. Without Chromium or Playwright these tests skip, except in CI
(CI=true), where that is a failure."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qa_pipeline.review.app import create_app
from qa_pipeline.review.settings import ReviewSettings
from tests.conftest import ROOT
from tests.review.conftest import PASSWORD, XSS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
SHOTS = ROOT / "test-output" / "screenshots"
pytestmark = pytest.mark.slow  # a browser per module, seconds per page
# Plain HTTP on this machine: the documented opt-out of Secure cookies.
SETTINGS = ReviewSettings(
    calibration_share=0.0, calibration_share_recent_failures=0.0, secure_cookies=False
)


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-wqy-microhei)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; no `playwright install`)"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread, for the browser."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, _seeded_template: Path) -> Iterator[str]:
    path = tmp_path_factory.mktemp("browser") / "review.db"
    shutil.copy(_seeded_template, path)
    with served(create_app(f"sqlite:///{path}", SETTINGS)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _unavailable()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


def _page(browser: Any, base_url: str, name: str, width: int = 1400, height: int = 1000) -> Any:
    """A fresh browser context (its own cookies) logged in as `name`."""
    context = browser.new_context(base_url=base_url, accept_downloads=True,
                                  viewport={"width": width, "height": height})  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def _finding(page: Any, code: str) -> Any:
    return page.locator(f'article.finding[data-code="{code}"]')


def test_login_queue_and_filter(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "lead")
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 7  # zh-s-006 is no sale: nothing on it applies
    assert rows.first.locator(".badge").first.inner_text() == "高"  # severity first
    page.screenshot(path=str(SHOTS / "queue.png"), full_page=True)
    page.select_option("select[name=team]", "T2")
    page.select_option("select[name=criterion]", "explicit_consent")
    page.click("#queue-filter button[type=submit]")
    page.wait_for_url("**team=T2**")
    calls = page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.call)"
    )
    assert calls == ["zh-s-004"]
    page.screenshot(path=str(SHOTS / "queue-filtered.png"), full_page=True)
    # CJK renders as glyphs: two different characters draw differently (missing-glyph boxes
    # would be identical)
    distinct = page.evaluate(
        """() => {
          const font = getComputedStyle(document.body).fontFamily;
          const draw = (ch) => { const c = document.createElement('canvas'); c.width = 40;
            c.height = 40; const x = c.getContext('2d'); x.font = '32px ' + font;
            x.fillText(ch, 2, 32); return c.toDataURL(); };
          return draw('质') !== draw('检');
        }"""
    )
    assert distinct
    page.context.close()


def test_call_page_play_and_seek(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "lead")
    page.goto("/calls/zh-s-004")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    assert page.evaluate("() => document.getElementById('player').duration") > 60
    assert page.locator(".timeline .marker").count() == 4
    assert page.locator("mark.forbidden").first.inner_text() == "您怎么这么啰嗦"
    assert page.locator(".no-signals").is_visible()
    page.click('#transcript li[data-seek="25.9"]')
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 25.9) < 1"
    )
    page.wait_for_function("() => document.getElementById('player').currentTime > 26")  # playing
    # the consent marker goes to the question, so the reply (嗯, 62 s) is heard with it
    page.locator('.timeline .marker[data-code="explicit_consent"] text').click()
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 47.8) < 1"
    )
    # a Chinese page holds no English reason: the banner, the criteria and every finding
    reasons = page.locator("#verdict-banner, table.criteria td, .finding .reason").all_inner_texts()
    assert len(reasons) > 8 and not [r for r in reasons if re.search(r"[a-z]{3,} [a-z]{3,}", r)]
    assert page.locator("#verdict-banner strong").inner_text() == "无效销售"
    page.screenshot(path=str(SHOTS / "call.png"), full_page=True)
    page.goto("/calls/zh-s-001")  # transcript only
    assert page.locator(".no-audio").is_visible()
    assert page.locator("#transcript li").count() > 5
    page.context.close()


def test_confirm_one_finding_and_overturn_another(browser: Any, base_url: str) -> None:
    """In place, without a reload: a click confirms, the keyboard (o) overturns."""
    page = _page(browser, base_url, "lead")
    page.goto("/calls/zh-s-005")
    page.evaluate("() => { window.__same_page = true; }")  # gone if the page reloads
    competence = _finding(page, "caller_competent")
    competence.locator("input[name=note]").fill("客户听不懂")
    competence.locator("button[value=confirm]").click()
    page.wait_for_selector('article.finding[data-code="caller_competent"].state-confirm')
    assert _finding(page, "caller_competent").locator(".state").inner_text() == "已确认"
    assert page.evaluate("() => window.__same_page === true")
    page.goto("/calls/zh-s-003")
    page.evaluate("() => { window.__same_page = true; }")
    assert page.locator("#engine-valid").inner_text() == "否"
    trial = _finding(page, "disclosures.trial_end")
    trial.locator("input[name=note]").fill("日期核对无误")
    trial.focus()
    page.keyboard.press("o")
    page.wait_for_selector('article.finding[data-code="disclosures.trial_end"].state-overturn')
    assert _finding(page, "disclosures.trial_end").locator(".state").inner_text() == "已推翻"
    assert page.locator("#final-valid").inner_text() == "是"
    assert page.locator("#verdict-banner strong").inner_text() == "有效销售"
    assert "overturn" in page.locator("table.audit-log").inner_text()
    assert page.evaluate("() => window.__same_page === true")
    page.screenshot(path=str(SHOTS / "call-reviewed.png"), full_page=True)
    page.context.close()


def test_dispute_raised_and_decided(browser: Any, base_url: str) -> None:
    lead = _page(browser, base_url, "lead")
    lead.goto("/calls/zh-s-004")
    _finding(lead, "forbidden.arguing").locator("button[value=confirm]").click()
    lead.wait_for_selector('article.finding[data-code="forbidden.arguing"].state-confirm')
    supervisor = _page(browser, base_url, "sup2")
    supervisor.goto("/calls/zh-s-004")
    arguing = _finding(supervisor, "forbidden.arguing")
    arguing.locator("input[name=reason]").fill("语气正常，不算争辩")
    arguing.locator(".dispute-form button").click()
    supervisor.wait_for_load_state()
    assert "待处理" in _finding(supervisor, "forbidden.arguing").locator(".dispute").inner_text()
    lead.goto("/disputes")
    row = lead.locator("table.disputes tbody tr").first
    row.locator("input[name=note]").fill("录音里确实在争辩")
    row.locator("button[value=rejected]").click()
    lead.wait_for_load_state()
    assert "驳回" in lead.locator("table.disputes tbody tr").first.inner_text()
    lead.screenshot(path=str(SHOTS / "disputes.png"), full_page=True)
    supervisor.goto("/calls/zh-s-004")
    assert _finding(supervisor, "forbidden.arguing").locator(".state").inner_text() == "已确认"
    lead.context.close()
    supervisor.context.close()


def test_scorecards_chart_and_export(browser: Any, base_url: str, tmp_path: Path) -> None:
    page = _page(browser, base_url, "lead")
    page.goto("/scorecards?level=agent&period=month&min_calls=1")
    page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
    assert page.locator("table.card tbody tr").count() == 11
    assert page.locator("table.ranking tbody tr").count() == 11
    page.screenshot(path=str(SHOTS / "scorecards.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#export-csv")
    saved = tmp_path / "card.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("agent,period,calls,sales,valid_sales,valid_rate")
    assert len(lines) == 12 and any(line.startswith("S101,2026-11") for line in lines)
    page.context.close()


def test_security_in_the_browser(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "sup1")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/calls/zh-x-001")
    assert XSS in page.locator("#transcript").inner_text()  # shown as text
    assert page.evaluate("() => window.__xss") is None and dialogs == []
    assert page.locator("#customer-number").inner_text() == "138****1234"
    other_team = page.goto("/calls/zh-s-004")
    assert other_team is not None and other_team.status == 404
    assert page.goto("/calls/zh-s-004/audio").status == 404  # type: ignore[union-attr]
    page.screenshot(path=str(SHOTS / "supervisor-404.png"))
    page.context.clear_cookies()
    page.goto("/queue")
    assert "/login" in page.url
    page.screenshot(path=str(SHOTS / "login.png"))
    page.context.close()


def test_evidence_pack_downloaded_and_opened_offline(
    browser: Any, base_url: str, tmp_path: Path
) -> None:
    """The call page's link gives the pack; its page opens from the unzipped folder (file://,
    nothing fetched) with each clip playable for exactly its evidence times, in Chinese."""
    page = _page(browser, base_url, "sup2")  # team T2, numbers masked, the default zh
    page.goto("/calls/zh-s-004")
    with page.expect_download() as download:
        page.click("#evidence-pack")
    saved = tmp_path / "pack.zip"
    download.value.save_as(saved)
    folder = tmp_path / "pack"
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(folder)
    pack = page.context.new_page()
    requests: list[str] = []
    pack.on("request", lambda request: requests.append(request.url))
    pack.goto((folder / "index.html").as_uri())
    assert pack.locator("audio").count() == 6
    pack.wait_for_function(
        "() => [...document.querySelectorAll('audio')].every(a => a.readyState >= 1)"
    )
    spans = pack.evaluate(
        "() => [...document.querySelectorAll('audio')]"
        ".map(a => [a.duration, Number(a.dataset.start), Number(a.dataset.end)])"
    )
    assert all(abs(duration - (end - start)) < 0.01 for duration, start, end in spans), spans
    assert all(url.startswith("file://") for url in requests)  # readable offline
    assert pack.locator("#verdict-banner strong").inner_text() == "无效销售"
    reasons = pack.locator(
        "#verdict-banner, table.criteria td, section.item .reason, section.item h3"
    ).all_inner_texts()
    assert len(reasons) > 12 and not [r for r in reasons if re.search(r"[a-z]{3,} [a-z]{3,}", r)]
    assert pack.locator("#customer-number").inner_text() == "189****4452"
    assert pack.locator("#item-consent mark.evidence").count() >= 1  # the reply highlighted
    distinct = pack.evaluate(
        """() => {
          const font = getComputedStyle(document.body).fontFamily;
          const draw = (ch) => { const c = document.createElement('canvas'); c.width = 40;
            c.height = 40; const x = c.getContext('2d'); x.font = '32px ' + font;
            x.fillText(ch, 2, 32); return c.toDataURL(); };
          return draw('证') !== draw('据');
        }"""
    )
    assert distinct  # CJK drawn as glyphs, not identical missing-glyph boxes
    pack.screenshot(path=str(SHOTS / "evidence-pack.png"), full_page=True)


NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_call_timeline_on_a_laptop_in_chinese(browser: Any, base_url: str) -> None:
    """Issue 14: lanes, readings and labelled pins at 1366x768; a bar and a pin seek the player;
    nothing English on the Chinese timeline; CJK labels draw as glyphs."""
    page = _page(browser, base_url, "lead", 1366, 768)
    page.goto("/calls/zh-s-004")
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    assert page.evaluate(NO_OVERFLOW)
    timeline = page.locator("svg.timeline")
    assert timeline.locator("rect.turn.role-customer").count() == 4
    assert timeline.locator("rect.reading").count() == 4
    labels = timeline.locator("text").evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert "明确同意办理" in labels and "坐席先挂机" in labels and "坐席" in labels
    words = " ".join([*labels, page.locator("p.timeline-key").inner_text()])
    assert not re.search(r"[A-Za-z]{3,}", words), words
    # a pin's label is drawn in CJK glyphs wide enough for its characters (boxes would be too)
    box = timeline.locator('.pin[data-code="explicit_consent"] text').bounding_box()
    assert box is not None and box["width"] > 6 * 8
    timeline.locator("rect.turn.role-customer").nth(3).click()  # the reply 嗯 at 62 s
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 62.0) < 1"
    )
    timeline.locator('.pin[data-code="account_holder_verified.permission"] text').click()
    page.wait_for_function(
        "() => Math.abs(document.getElementById('player').currentTime - 9.1) < 1"
    )
    page.screenshot(path=str(SHOTS / "call-timeline-1366.png"), full_page=True)
    page.context.close()


def test_scorecards_fit_a_laptop_in_chinese(browser: Any, base_url: str, tmp_path: Path) -> None:
    """Issue 14: at 1366x768 the page does not scroll sideways; headers are words in Chinese,
    rates percentages, no float noise; picking a key charts it; the xlsx export is styled."""
    from openpyxl import load_workbook

    page = _page(browser, base_url, "lead", 1366, 768)
    for query in ("level=agent&period=day", "level=team&period=week", "level=center&period=day"):
        page.goto(f"/scorecards?{query}&min_calls=1")
        page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
        assert page.evaluate(NO_OVERFLOW), query
    headers = page.locator("table.card th").all_inner_texts()
    assert "有效率" in headers and not [h for h in headers if "_" in h or re.search("[a-z]{3}", h)]
    cells = page.locator("table.card td").all_inner_texts()
    assert any(c.endswith("%") for c in cells)
    assert not [c for c in cells if re.search(r"\.\d{3,}", c)]  # never 61.529999999999994
    page.goto("/scorecards?level=team&period=day")
    assert page.locator("#chart-pick option").all_inner_texts() == ["全部", "E1", "T1", "T2"]
    page.select_option("#chart-pick", "T2")
    page.click("#card-filter button[type=submit]")
    page.wait_for_url("**key=T2**")
    page.wait_for_function("() => document.querySelector('img.chart').naturalWidth > 0")
    assert page.locator("#chart-key").inner_text() == "趋势：班组 T2"
    assert page.evaluate(NO_OVERFLOW)
    page.screenshot(path=str(SHOTS / "scorecards-1366.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#export-xlsx")
    saved = tmp_path / "card.xlsx"
    download.value.save_as(saved)
    sheet = load_workbook(saved).active
    assert sheet is not None and sheet.freeze_panes == "A2" and sheet["A1"].value == "班组"
    page.context.close()
