"""The agent's side of the yellow-card flow in a real browser, on the Chinese interface: the
agent finds the case on their own page with its deadline, explains it on the call page, and
the leader sees the explanation and gives the card. Screenshots go where test_browser.py
saves its own (test-output/screenshots/); it skips without Chromium as those tests do."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa_pipeline.review.app import create_app
from qa_pipeline.review.auth import add_user
from qa_pipeline.storage.db import connect
from tests.review.conftest import PASSWORD
from tests.review.test_browser import SETTINGS, SHOTS, _page, browser, served

__all__ = ["browser"]  # the module's browser fixture, shared
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def agent_url(tmp_path_factory: pytest.TempPathFactory, _seeded_template: Path) -> Iterator[str]:
    """The seeded calls served with agent S104's user."""
    path = tmp_path_factory.mktemp("browser-agent") / "review.db"
    shutil.copy(_seeded_template, path)
    url = f"sqlite:///{path}"
    engine = connect(url)
    add_user(engine, "ag104", "agent", "T2", PASSWORD, "test", "S104")
    with served(create_app(url, SETTINGS)) as base:
        yield base
    engine.dispose()


def test_an_agent_explains_on_a_chinese_page(browser: Any, agent_url: str) -> None:
    lead = _page(browser, agent_url, "lead")
    lead.goto("/calls/zh-s-004")
    lead.evaluate("() => { window.__same_page = true; }")
    arguing = lead.locator('article.finding[data-code="forbidden.arguing"]')
    arguing.locator("button[value=confirm]").click()  # in place: the case panel appears
    lead.wait_for_selector('#case[data-status="open"]')
    assert lead.evaluate("() => window.__same_page === true")
    assert "待说明" in lead.locator("#case h2").inner_text()
    lead.context.close()
    page = _page(browser, agent_url, "ag104")
    assert page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.call)"
    ) == ["zh-s-004"]  # only their own call
    page.goto("/me")
    todo = page.locator("#to-explain li")
    assert todo.count() == 1
    assert "服务忌语" in todo.inner_text() and "说明截止" in todo.inner_text()
    assert "还剩" in todo.inner_text()  # minutes left to the deadline
    page.screenshot(path=str(SHOTS / "agent-home.png"), full_page=True)
    todo.locator("a").click()
    page.wait_for_url("**/calls/zh-s-004#case")
    panel = page.locator("#case")
    assert "待说明" in panel.inner_text()
    # the case on a Chinese page holds no English words, and the CJK draws as glyphs
    assert not re.search(r"[a-z]{3,} [a-z]{3,}", panel.inner_text())
    assert "****" in page.locator("#customer-number").inner_text()  # masked for agents
    assert page.locator(".review-form").count() == 0  # an agent does not confirm or overturn
    panel.locator("textarea[name=explanation]").fill("客户先说我们乱扣费，我解释时语气急了。")
    panel.locator("button[type=submit]").click()
    page.wait_for_url("**/calls/zh-s-004#case")
    assert "已说明" in page.locator("#case h2").inner_text()
    assert "语气急了" in page.locator("#case-explanation").inner_text()
    assert page.locator("#explain-form").count() == 0
    distinct = page.evaluate(
        """() => {
          const font = getComputedStyle(document.body).fontFamily;
          const draw = (ch) => { const c = document.createElement('canvas'); c.width = 40;
            c.height = 40; const x = c.getContext('2d'); x.font = '32px ' + font;
            x.fillText(ch, 2, 32); return c.toDataURL(); };
          return draw('黄') !== draw('牌');
        }"""
    )
    assert distinct
    page.screenshot(path=str(SHOTS / "agent-explained.png"), full_page=True)
    leader = _page(browser, agent_url, "sup2")
    leader.goto("/")
    assert leader.locator('#cases-waiting tr[data-case-call="zh-s-004"]').count() == 1
    leader.goto("/calls/zh-s-004")
    form = leader.locator("#case-decide-form")
    form.locator("input[name=note]").fill("听过录音，语气确有问题")
    form.locator("input[name=callback]").check()
    form.locator("button[value=uphold]").click()
    leader.wait_for_url("**/calls/zh-s-004#case")
    assert "成立：黄牌" in leader.locator("#case h2").inner_text()
    assert leader.locator("#case-callback").count() == 1
    leader.screenshot(path=str(SHOTS / "agent-case-decided.png"), full_page=True)
    page.goto("/me")
    assert page.locator("table.yellow-cards td").first.inner_text() == "1"
    page.context.close()
    leader.context.close()
