"""The queue at speed in a real browser (Playwright, the system Chromium; see test_browser.py):
select calls with the keyboard, claim them in one bulk action, the shortcut overlay, a search
result opening its call at the line. Screenshots go where test_browser.py puts them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.review.test_browser import SHOTS, _page, base_url, browser

__all__ = ["base_url", "browser"]  # test_browser's fixtures, used here
pytestmark = pytest.mark.slow


def _checked(page: Any) -> list[str]:
    return page.locator("table.queue input.pick:checked").evaluate_all(
        "boxes => boxes.map(b => b.value)"
    )


def test_bulk_select_with_the_keyboard(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "lead")
    calls = page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.call)"
    )
    assert len(calls) == 7
    page.keyboard.press("?")  # the shortcut list, then Esc hides it
    assert page.locator("#queue-help").is_visible()
    assert "键盘快捷键" in page.locator("#queue-help").inner_text()
    page.screenshot(path=str(SHOTS / "queue-shortcuts.png"), full_page=True)
    page.keyboard.press("Escape")
    assert not page.locator("#queue-help").is_visible()
    # j j x k x: the first two calls; x again unselects
    for key in ("j", "j", "x", "k", "x", "j", "j", "x", "x"):
        page.keyboard.press(key)
    assert _checked(page) == calls[:2]
    assert page.locator("table.queue tr.current").get_attribute("data-call") == calls[2]
    assert page.locator("#selected-count").inner_text() == "2"
    assert page.evaluate("() => document.getElementById('select-all-page').indeterminate")
    page.screenshot(path=str(SHOTS / "queue-selected.png"), full_page=True)
    page.select_option("select[name=op]", "claim")
    page.click("#bulk-apply")
    page.wait_for_url("**/queue/bulk")
    assert page.locator("table.bulk-results tr.ok").count() == 2
    assert "成功 2 条，失败 0 条" in page.locator("#bulk-summary").inner_text()
    page.screenshot(path=str(SHOTS / "queue-bulk-claimed.png"), full_page=True)
    page.click("#back-to-queue")
    page.select_option("select[name=holder]", "mine")
    page.click("#queue-filter button[type=submit]")
    page.wait_for_url("**holder=mine**")
    mine = page.locator("table.queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.call)"
    )
    assert mine == calls[:2]
    # the header box selects every call on the page; Enter opens the current call
    page.goto("/queue")
    page.check("#select-all-page")
    assert len(_checked(page)) == 7 and page.locator("#selected-count").inner_text() == "7"
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/calls/{calls[0]}")
    page.context.close()


def test_search_result_opens_the_call_at_its_line(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "lead")
    page.fill(".search-box input[name=q]", "退订")
    page.press(".search-box input[name=q]", "Enter")
    page.wait_for_url("**/search?q=**")
    marks = page.locator("table.search-results mark.hit").all_inner_texts()
    assert marks == ["退订", "退订"]
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)
    page.locator('table.search-results tr[data-call="zh-s-001"] a.at-time').click()
    page.wait_for_url("**/calls/zh-s-001?t=**")
    found = page.locator("#transcript .line.found")
    assert found.count() == 1 and "退订" in found.inner_text()
    page.context.close()
