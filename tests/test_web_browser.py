"""The console in a real browser: Debian's Chromium driven by Playwright against the
app served by uvicorn. Screenshots land in ``test-output/``."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from recsvc.registry import Registry
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.enums import DeclineReason, EventType
from recsvc.store.models import Client, Contact, Order, RecommendationEvent
from tests.fixtures_web import DemoLive, LiveServer, browser_sign_in

pytestmark = pytest.mark.browser

#: An export explains every row it holds; generous on a busy CI machine.
EXPORT_TIMEOUT_MS = 180_000
#: Promote and roll back load a whole model bundle before answering.
SWAP_TIMEOUT_MS = 180_000


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


# -- the demo store with a trained model ------------------------------------------------


def _first_client(page: Page) -> str:
    href = page.locator("table a[href*='/console/clients/']").first.get_attribute("href")
    assert href
    return href.rsplit("/", 1)[-1]


def _events(demo: DemoLive, client_external_id: str) -> list[RecommendationEvent]:
    with demo.live.db.session() as s:
        cid = s.scalar(select(Client.id).where(Client.external_id == client_external_id))
        return list(
            s.scalars(
                select(RecommendationEvent)
                .where(RecommendationEvent.client_id == cid)
                .order_by(RecommendationEvent.id)
            )
        )


def test_librarian_worklist_client_accept_is_stored(
    page: Page, web_demo: DemoLive, test_output: Path
) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.locator("h1")).to_have_text("本周联系清单")
    expect(page.locator("tbody tr")).to_have_count(20)
    expect(page.locator("tbody .badge").first).to_be_visible()
    page.screenshot(path=str(test_output / "console-worklist-zh.png"), full_page=True)

    external_id = _first_client(page)
    page.locator("table a[href*='/console/clients/']").first.click()
    expect(page).to_have_url(re.compile(rf"/console/clients/{external_id}$"))
    expect(page.locator("#h-recs")).to_have_text("下一步最佳服务")
    expect(page.locator("article.rec").first).to_be_visible()
    expect(page.locator(".score.big")).to_be_visible()
    page.screenshot(path=str(test_output / "console-client-zh.png"), full_page=True)

    shown = [e for e in _events(web_demo, external_id) if e.event == EventType.IMPRESSION]
    assert shown, "showing the page records impressions"
    first = page.locator("article.rec").first
    impression_id = int(first.locator("input[name=impression_id]").first.input_value())
    first.get_by_role("button", name="接受", exact=True).click()
    expect(first.get_by_role("status")).to_have_text(re.compile(r"^\d\d-\d\d 由 lib-wang 接受$"))

    events = _events(web_demo, external_id)
    accepted = [e for e in events if e.event == EventType.ACCEPTED]
    assert len(accepted) == 1
    assert accepted[0].impression_id == impression_id
    assert accepted[0].actor == "lib-wang"
    assert impression_id in {e.id for e in shown}

    page.get_by_role("button", name="English").click()  # the same page, one language at a time
    expect(page.locator("#h-recs")).to_have_text("Next best services")
    state = re.compile(r"^accepted on \d\d-\d\d by lib-wang$")
    expect(first.get_by_role("status")).to_have_text(state)
    page.screenshot(path=str(test_output / "console-client-en.png"), full_page=True)


def test_decline_with_reason_works_without_javascript(browser: Browser, web_demo: DemoLive) -> None:
    live = web_demo.live
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        browser_sign_in(page, live, live.keys.admin)
        external_id = _first_client(page)
        page.goto(live.url(f"/console/clients/{external_id}"))
        rec = page.locator("article.rec").nth(1)
        impression_id = int(rec.locator("input[name=impression_id]").first.input_value())
        rec.locator("summary", has_text="拒绝…").click()
        rec.get_by_label("拒绝原因").select_option("no_budget")
        rec.get_by_role("button", name="记录拒绝").click()
        expect(page).to_have_url(re.compile(r"recorded=declined$"))
        expect(page.get_by_role("status").first).to_have_text("已记录：客户拒绝。")
    finally:
        context.close()
    declined = [e for e in _events(web_demo, external_id) if e.event == EventType.DECLINED]
    assert [(e.impression_id, e.reason) for e in declined] == [
        (impression_id, DeclineReason.NO_BUDGET)
    ]


def test_inline_accept_and_decline_from_the_worklist_persist_after_reload(
    page: Page, web_demo: DemoLive, test_output: Path
) -> None:
    """Rows 6 and 7 (other tests act on the first client): accept; decline refused
    without a reason, then recorded with the one picked; both still show after a reload,
    in Chinese and in English."""
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    rows = page.locator("tbody tr")
    accept_row, decline_row = rows.nth(5), rows.nth(6)
    accept_client = accept_row.locator("a[href*='/console/clients/']").get_attribute("href")
    decline_client = decline_row.locator("a[href*='/console/clients/']").get_attribute("href")
    accept_row.get_by_role("button", name="接受", exact=True).click()
    expect(accept_row.get_by_role("status")).to_have_text(re.compile(r"由 lib-wang 接受$"))

    decline_row.locator("summary", has_text="拒绝…").click()
    expect(decline_row.get_by_label("拒绝原因")).to_have_value("")  # nothing preselected
    decline_row.get_by_role("button", name="记录拒绝").click()
    expect(decline_row.get_by_role("alert")).to_have_text("请先选择客户给出的拒绝原因。")
    decline_row.get_by_label("拒绝原因").select_option("not_relevant")
    decline_row.get_by_role("button", name="记录拒绝").click()
    expect(decline_row.get_by_role("status")).to_contain_text("由 lib-wang 记录拒绝")

    page.reload()
    accept_row = page.locator("tr", has=page.locator(f"a[href='{accept_client}']"))
    decline_row = page.locator("tr", has=page.locator(f"a[href='{decline_client}']"))
    expect(accept_row.get_by_role("status")).to_have_text(re.compile(r"由 lib-wang 接受$"))
    expect(accept_row.get_by_role("button", name="接受", exact=True)).to_have_count(0)
    expect(decline_row.get_by_role("status")).to_contain_text("由 lib-wang 记录拒绝")
    page.screenshot(path=str(test_output / "console-worklist-outcomes-zh.png"), full_page=True)
    page.get_by_role("button", name="English").click()
    accepted_en = re.compile(r"^accepted on .* by lib-wang$")
    expect(accept_row.get_by_role("status")).to_have_text(accepted_en)
    expect(page.get_by_role("button", name="Log call").first).to_be_visible()
    expect(page.get_by_role("button", name="Accept offer").first).to_be_visible()
    page.screenshot(path=str(test_output / "console-worklist-outcomes-en.png"), full_page=True)
    page.get_by_role("button", name="中文").click()

    declined = [
        e
        for e in _events(web_demo, str(decline_client).rsplit("/", 1)[-1])
        if e.event == EventType.DECLINED
    ]
    assert [(e.reason, e.actor) for e in declined] == [(DeclineReason.NOT_RELEVANT, "lib-wang")]


def test_marking_purchased_creates_the_order_and_leaves_the_next_list(
    page: Page, web_demo: DemoLive
) -> None:
    live = web_demo.live
    one_off = {e.code: e.price for e in CATALOGUE if e.one_off}
    browser_sign_in(page, live, live.keys.librarian)
    rows = page.locator("tbody tr")
    for i in range(10, rows.count()):  # past the rows the other tests act on
        code = rows.nth(i).locator("input[name=item_code]").first.get_attribute("value")
        if code in one_off:
            row = rows.nth(i)
            break
    else:
        pytest.fail("no worklist row offers a one-off product")
    href = row.locator("a[href*='/console/clients/']").get_attribute("href")
    assert href
    external_id = href.rsplit("/", 1)[-1]
    product = row.locator("td.offer").inner_text().strip()
    row.get_by_role("button", name="标记已购买").click()
    expect(row.get_by_role("status")).to_have_text(re.compile(r"由 lib-wang 标记已购买$"))

    with live.db.session() as s:
        cid = s.scalar(select(Client.id).where(Client.external_id == external_id))
        orders = list(s.scalars(select(Order).where(Order.client_id == cid)))
    made = [o for o in orders if o.external_id.startswith("rec-")]
    assert len(made) == 1 and made[0].amount == one_off[str(code)]

    page.goto(live.url(f"/console/clients/{external_id}"))
    expect(page.locator("article.rec").first).to_be_visible()
    offered = [
        i.get_attribute("value") for i in page.locator("article.rec input[name=item_code]").all()
    ]
    assert offered and code not in offered
    titles = page.locator("article.rec h3").all_inner_texts()
    assert titles and not [t for t in titles if t.endswith(f". {product}")], titles


def test_worklist_in_both_languages(page: Page, web_demo: DemoLive, test_output: Path) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Whom to contact this week")
    expect(page.get_by_label("Segment")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Best offer")).to_be_visible()
    page.screenshot(path=str(test_output / "console-worklist-en.png"), full_page=True)
    page.get_by_label("Segment").select_option("key")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"segment=key"))
    for badge in page.locator("tbody .badge.seg-key").all():
        expect(badge).to_have_text("Key")
    page.get_by_role("button", name="中文").click()
    expect(page.locator("h1")).to_have_text("本周联系清单")
    expect(page).to_have_url(re.compile(r"segment=key"))


def test_worklist_exports_download(page: Page, web_demo: DemoLive) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    with page.expect_download(timeout=EXPORT_TIMEOUT_MS) as info:
        page.get_by_role("link", name="导出 CSV").click()
    path = info.value.path()
    head = Path(path).read_text(encoding="utf-8-sig").splitlines()[0]
    # headings in the session's language; a librarian gets the contact columns
    assert "客户编号" in head and "联系人" in head and "client_external_id" not in head
    with page.expect_download(timeout=EXPORT_TIMEOUT_MS) as info:
        page.get_by_role("link", name="导出 Excel").click()
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"


def test_search_in_chinese_and_english(page: Page, web_demo: DemoLive, test_output: Path) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    page.get_by_role("link", name="语义检索").click()
    page.get_by_label("检索词（中文或英文）").fill("疫苗 佐剂")
    page.get_by_role("button", name="检索").click()
    for heading in ("查新委托", "客户", "成功案例"):
        expect(page.get_by_role("heading", name=re.compile(heading))).to_be_visible()
    expect(page.locator("td .badge").first).to_be_visible()
    page.screenshot(path=str(test_output / "console-search-zh.png"), full_page=True)
    page.get_by_label("检索词（中文或英文）").fill("vaccine")
    page.get_by_label("范围").select_option("commissions")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_role("heading", name=re.compile("查新委托"))).to_be_visible()


def test_analyst_promotes_and_rolls_back(page: Page, web_demo: DemoLive, test_output: Path) -> None:
    live = web_demo.live
    page.set_default_timeout(SWAP_TIMEOUT_MS)
    browser_sign_in(page, live, live.keys.analyst)
    page.get_by_role("link", name="模型").click()
    active = page.locator("#active-version")
    expect(active).to_have_text(web_demo.champion)
    active_row = page.locator("tr.active-row[data-version]")
    expect(active_row).to_have_attribute("data-version", web_demo.champion)
    expect(page.locator("figure img").first).to_be_visible()
    page.screenshot(path=str(test_output / "console-models-zh.png"), full_page=True)

    row = page.locator(f"tr[data-version='{web_demo.challenger}']")
    row.get_by_role("button", name="发布").click()
    expect(page.get_by_role("alert")).to_contain_text("not promoted")
    expect(page.locator("#active-version")).to_have_text(web_demo.champion)

    row = page.locator(f"tr[data-version='{web_demo.challenger}']")
    row.get_by_label("强制").check()
    row.get_by_role("button", name="发布").click()
    expect(page.locator("#active-version")).to_have_text(web_demo.challenger)
    expect(active_row).to_have_attribute("data-version", web_demo.challenger)
    assert Registry(live.settings.models_dir).active() == web_demo.challenger

    page.get_by_role("button", name="回滚到上一版本").click()
    expect(page.locator("#active-version")).to_have_text(web_demo.champion)
    assert Registry(live.settings.models_dir).active() == web_demo.champion


def test_portal_preview_is_anonymised(page: Page, web_demo: DemoLive, test_output: Path) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.librarian)
    external_id = _first_client(page)
    page.goto(live.url(f"/console/portal/{external_id}"))
    expect(page.locator("article.rec").first).to_be_visible()
    page.screenshot(path=str(test_output / "console-portal-zh.png"), full_page=True)
    text = page.locator("main").inner_text()
    with live.db.session() as s:
        cid, own = s.execute(
            select(Client.id, Client.name_zh).where(Client.external_id == external_id)
        ).one()
        contacts = list(s.scalars(select(Contact.name).where(Contact.client_id == cid)))
        others = list(  # a namesake (two groups of one field at one institute) is no leak
            s.scalars(select(Client.name_zh).where(Client.id != cid, Client.name_zh != own))
        )
    assert not [n for n in contacts if n and n in text]
    assert not [n for n in others if n and n in text]
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_contain_text("Welcome")
    page.screenshot(path=str(test_output / "console-portal-en.png"), full_page=True)


def test_portal_token_signs_in_to_its_own_page(browser: Browser, web_demo: DemoLive) -> None:
    live = web_demo.live
    context = browser.new_context()
    page = context.new_page()
    try:
        browser_sign_in(page, live, live.keys.portal)
        expect(page).to_have_url(re.compile(rf"/console/portal/{live.keys.portal_client}$"))
        expect(page.locator("article.rec").first).to_be_visible()
        response = page.goto(live.url("/console/"))
        assert response is not None and response.status == 403
    finally:
        context.close()


#: How many pages the portal crawl opens at most (the portal has a handful).
PORTAL_CRAWL_LIMIT = 40


def _crawl(page: Page, live: LiveServer, start: str) -> dict[str, int]:
    """Every same-origin link reachable from ``start``, opened in the page (breadth
    first, bounded): ``{url: status}``."""
    origin = urlsplit(live.base_url).netloc
    queue, seen = [start], {}
    while queue and len(seen) < PORTAL_CRAWL_LIMIT:
        url = queue.pop(0)
        if url in seen:
            continue
        response = page.goto(url)
        seen[url] = response.status if response is not None else 0
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            target = urldefrag(href).url
            if urlsplit(target).netloc == origin and target not in seen:
                queue.append(target)
    return seen


def test_portal_user_reaches_every_link_without_an_error(
    page: Page, web_demo: DemoLive, test_output: Path
) -> None:
    """Signed in with a portal token: every same-origin link on its pages (crawled),
    the language switch, "ask about this" and sign-out answer without a 403, 404 or
    500; the pages carry no staff frame. Screenshots of the portal in zh and en."""
    live = web_demo.live
    bad: list[str] = []
    page.on(
        "response",
        lambda r: (
            bad.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type in ("document", "stylesheet")
            else None
        ),
    )
    browser_sign_in(page, live, live.keys.portal)
    home = live.url(f"/console/portal/{live.keys.portal_client}")
    expect(page).to_have_url(home)
    visited = _crawl(page, live, home)
    assert home in visited and len(visited) >= 1
    assert {u: s for u, s in visited.items() if s >= 400} == {}
    page.goto(home)
    expect(page.locator("nav")).to_have_count(0)
    expect(page.locator(".staff-banner")).to_have_count(0)
    expect(page.locator("footer")).not_to_contain_text("工作人员")
    offers = page.locator("article.offer")
    expect(offers.first).to_be_visible()
    expect(offers.first.locator(".price")).not_to_be_empty()
    page.screenshot(path=str(test_output / "portal-client-zh.png"), full_page=True)

    page.get_by_role("button", name="English").click()
    expect(page).to_have_url(home)
    expect(page.locator("h1")).to_contain_text("Welcome")
    expect(offers.first.get_by_text("What you get")).to_be_visible()
    page.screenshot(path=str(test_output / "portal-client-en.png"), full_page=True)

    offers.first.get_by_role("button", name="Ask about this").click()
    expect(page.locator("#asked")).to_contain_text("Thank you")
    assert _crawl(page, live, page.url)  # the thank-you page's links work too
    page.screenshot(path=str(test_output / "portal-client-asked-en.png"), full_page=True)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/login$"))
    assert not bad, bad


def test_no_page_returns_500(page: Page, web_demo: DemoLive) -> None:
    live = web_demo.live
    browser_sign_in(page, live, live.keys.admin)
    v = web_demo.champion
    for path in (
        "/console/",
        "/console/?page=2&segment=potential",
        "/console/?field=%E6%97%A0&staff=nobody&product=trend_analysis",
        "/console/?product=no-such-product",
        "/console/?page=-1",
        "/console/clients/%00",
        "/console/clients/" + "x" * 70,
        "/console/search?q=%F0%9F%98%80",
        "/console/search?q=%27%3B%20drop%20table%20clients",
        "/console/models?version=nope",
        f"/console/models?version={v}",
        f"/console/models/{v}/plots/lift.en.png",
        f"/console/models/{v}/plots/nope.png",
        "/console/models/jobs/nope",
        "/console/portal/%20",
        "/console/worklist.csv?segment=dormant",
    ):
        response = page.request.get(live.url(path))
        assert response.status < 500, (path, response.status)


def test_retraining_progress_updates_live(page: Page, web_demo: DemoLive) -> None:
    """The job process here is a no-op that exits without finishing, so the fragment,
    polled by htmx, turns from queued/running to failed without a page reload."""
    live = web_demo.live
    browser_sign_in(page, live, live.keys.analyst)
    page.goto(live.url("/console/models"))
    page.get_by_role("button", name="重新训练").click()
    expect(page).to_have_url(re.compile(r"/console/models\?job="))
    job = page.locator("#job")
    expect(job.locator("progress")).to_be_visible()
    page.evaluate("window.__same_document = true")
    expect(job.locator(".badge")).to_have_text("失败", timeout=30_000)
    expect(page.locator("#job")).not_to_have_attribute("hx-get", re.compile("."))
    assert page.evaluate("window.__same_document === true"), "updated in place, no reload"


# -- the console under its Content-Security-Policy ------------------------------------


def test_main_pages_raise_no_csp_violation(page: Page, web_demo: DemoLive) -> None:
    """Every main page, signed in as admin (who sees them all), renders and runs htmx
    under the strict CSP without the browser refusing anything."""
    live = web_demo.live
    violations: list[str] = []
    page.on(
        "console",
        lambda msg: (
            violations.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    page.goto(live.url("/console/login"))
    browser_sign_in(page, live, live.keys.admin)
    page.goto(live.url("/console/"))
    client = _first_client(page)
    for path in (
        f"/console/portal/{live.keys.portal_client}",  # the portal frame loads no htmx
        "/console/",
        f"/console/clients/{client}",
        "/console/search?q=疫苗",
        "/console/models",
    ):
        response = page.goto(live.url(path))
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof htmx") == "object"  # the script loaded and ran
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert not violations, "\n".join(violations)
