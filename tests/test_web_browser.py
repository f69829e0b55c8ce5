"""The console in a real browser: Debian's Chromium driven by Playwright against the
app served by uvicorn. Screenshots land in ``test-output/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures_web import LiveServer, browser_sign_in

pytestmark = pytest.mark.browser


def test_librarian_gets_a_403_page_for_models(
    page: Page, live_small: LiveServer, test_output: Path
) -> None:
    browser_sign_in(page, live_small, live_small.keys.librarian)
    expect(page.locator("nav a[href$='/models']")).to_have_count(0)
    response = page.goto(live_small.url("/console/models"))
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    page.screenshot(path=str(test_output / "console-403-zh.png"), full_page=True)


def test_language_switch_changes_every_label_and_back(
    page: Page, live_small: LiveServer, test_output: Path
) -> None:
    browser_sign_in(page, live_small, live_small.keys.analyst)
    page.goto(live_small.url("/console/search"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("语义检索")
    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(re.compile(r"/console/search$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Semantic search")
    expect(page.get_by_role("link", name="Worklist")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.screenshot(path=str(test_output / "console-search-empty-en.png"), full_page=True)
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("语义检索")
    expect(page.get_by_role("link", name="工作清单")).to_be_visible()


def test_portal_token_sees_only_its_own_preview(page: Page, live_small: LiveServer) -> None:
    browser_sign_in(page, live_small, live_small.keys.portal)
    expect(page).to_have_url(re.compile(r"/console/portal/C001$"))
    expect(page.locator("nav")).to_have_count(0)
    response = page.goto(live_small.url("/console/portal/C002"))
    assert response is not None and response.status == 403


def test_sign_in_page_screenshot(page: Page, live_small: LiveServer, test_output: Path) -> None:
    page.goto(live_small.url("/console/"))
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
    expect(page.get_by_label("API 密钥")).to_be_visible()
    page.screenshot(path=str(test_output / "console-login-zh.png"), full_page=True)
