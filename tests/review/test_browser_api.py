"""The JSON API's browser side in the system Chromium: an admin makes a token on the users page
(shown once), the API reference page renders in both languages with no script and nothing the
CSP blocks, and the browser's session cookie alone does not open the API. Screenshots go to
test-output/screenshots/ (api-docs-zh.png, api-docs-en.png, users-api-token.png)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.review.test_browser import SHOTS, _page, base_url, browser

pytestmark = pytest.mark.slow
__all__ = ["base_url", "browser"]  # the browser module's fixtures, shared


def test_token_from_the_users_page_opens_the_api(browser: Any, base_url: str) -> None:
    page = _page(browser, base_url, "admin")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto("/admin/users")
    page.select_option("form.add-token select[name=name]", "sup1")
    page.fill("form.add-token input[name=label]", "crm 同步")
    page.click("form.add-token button[type=submit]")
    secret = page.locator("#new-token").inner_text()
    assert re.fullmatch(r"qap_[\w-]{43}", secret)
    page.screenshot(path=str(SHOTS / "users-api-token.png"), full_page=True)
    # the session cookie alone opens nothing in the API
    assert page.request.get(f"{base_url}/api/v1/me").status == 401
    me = page.request.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status == 200 and me.json()["team"] == "T1"
    calls = page.request.get(
        f"{base_url}/api/v1/calls?size=2", headers={"Authorization": f"Bearer {secret}"}
    ).json()
    assert calls["size"] == 2 and {c["team"] for c in calls["items"]} == {"T1"}
    page.goto("/admin/users")
    assert secret not in page.content() and "crm 同步" in page.content()
    assert problems == []
    page.context.close()


@pytest.mark.parametrize(("lang", "heading"), [("zh", "API 参考"), ("en", "API reference")])
def test_api_reference_page(browser: Any, base_url: str, lang: str, heading: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    answer = page.goto(f"/api/v1/docs?lang={lang}")
    assert answer is not None and answer.status == 200
    assert heading in page.locator("header").inner_text()
    operations = page.locator("section.operation")
    assert operations.count() >= 9
    assert "GET /api/v1/calls/{call_id}" in page.locator("nav").inner_text()
    assert page.locator("script").count() == 0 and problems == []
    # fits a laptop screen: no sideways scrolling
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    page.screenshot(path=str(SHOTS / f"api-docs-{lang}.png"))
    context.close()
