"""The portal speaks to clients: its JSON and its page say what each service is, what
the client gets, the price or "ask us", and offer "ask about this"; nothing internal
(scores, candidate sources, model factors, the model version, the staff frame), and
every link a portal user can reach works."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.web.i18n import catalogue
from recsvc.features import FEATURES
from recsvc.recommend import sources
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.catalogue_texts import CLIENT_TEXTS
from recsvc.store.enums import EventType, Surface
from recsvc.store.models import Commission, RecommendationEvent
from recsvc.usecases import clients as uc_clients
from recsvc.usecases.portal import PortalOfferPublic, PortalPublic
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import csrf_of, sign_in

#: Phrases of the centre's own reasoning (factor lines), in both languages.
INTERNAL_PHRASES = (
    "客户特征",
    "client profile",
    "升级路径",
    "service path",
    "价值模型",
    "value model",
    "得分",
    "score",
)
CSRF_VALUE = re.compile(r'(name="csrf_token" value=")[^"]+')
LINK = re.compile(r'<a [^>]*href="([^"]+)"')
FORM = re.compile(r'<form [^>]*action="([^"]+)"')


def _source_names() -> set[str]:
    return {
        getattr(sources, n).name
        for n in sources.__all__
        if isinstance(getattr(getattr(sources, n), "name", None), str)
    }


def test_every_catalogue_product_speaks_to_clients_in_both_languages() -> None:
    assert {e.code for e in CATALOGUE} <= set(CLIENT_TEXTS)
    for code, text in CLIENT_TEXTS.items():
        assert text.summary_zh and text.summary_en, code
        assert text.deliverables_zh and len(text.deliverables_zh) == len(text.deliverables_en)
        assert not re.search(r"[A-Za-z]{3,}", text.summary_zh + "".join(text.deliverables_zh))
        assert not re.search(r"[\u4e00-\u9fff]", text.summary_en + "".join(text.deliverables_en))


def test_portal_answer_holds_only_client_facing_fields(api_demo: ApiEnv) -> None:
    resp = api_demo.get("/api/v1/me/recommendations", "portal")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == set(PortalPublic.model_fields)
    assert body["data"], "the demo client has offers"
    for offer in body["data"]:
        assert set(offer) == set(PortalOfferPublic.model_fields)
        assert offer["summary_zh"] and offer["summary_en"]
        assert offer["deliverables_zh"] and offer["deliverables_en"]
        assert offer["price"] is None or offer["price"] > 0
    quoted = [o for o in body["data"] if CLIENT_TEXTS[o["code"]].quoted]
    assert all(o["price"] is None for o in quoted)
    # why: the client's own projects, in its words (never another client's case)
    cid = uc_clients.client_id(api_demo.runtime, external_id=api_demo.clients["A"])
    with api_demo.runtime.db.session() as s:
        titles = {
            t
            for row in s.execute(
                select(Commission.title_zh, Commission.title_en).where(Commission.client_id == cid)
            )
            for t in row
            if t
        }
    why = [(zh, en) for o in body["data"] for zh, en in zip(o["why_zh"], o["why_en"], strict=True)]
    assert why, "the demo client's offers follow on from its projects"
    for zh, en in why:
        assert zh.startswith("基于您的查新项目“") and en.startswith("Follows on from your")
        assert any(f"“{t}”" in zh for t in titles) and any(f"“{t}”" in en for t in titles)


def test_portal_answer_holds_no_internal_terms(api_demo: ApiEnv) -> None:
    resp = api_demo.get("/api/v1/me/recommendations", "portal")
    body = resp.json()
    text = json.dumps(body, ensure_ascii=False)
    lowered = text.lower()
    version = resp.headers["x-model-version"]
    assert version not in text
    for key in ("model_version", "served_from", "surface", "score", "sources", "evidence"):
        assert f'"{key}"' not in text, key
    assert not [f for f in FEATURES if f in text], "feature names"
    assert not [p for p in INTERNAL_PHRASES if p in lowered], "internal reasoning"
    # source names are plain words ("content", "purpose"); the client's own project titles
    # may use them, so look where the service speaks: everything but the quoted projects
    ours = json.dumps(
        [{k: v for k, v in o.items() if not k.startswith("why_")} for o in body["data"]],
        ensure_ascii=False,
    ).lower()
    found = [s for s in _source_names() if re.search(rf"\b{re.escape(s)}\b", ours)]
    assert not found, found


@pytest.fixture
def console(api_demo: ApiEnv) -> Iterator[TestClient]:
    """A browser-like client of the demo app's console, signed in by each test."""
    with TestClient(api_demo.client.app, raise_server_exceptions=False) as http:
        yield http


def _main(html: str) -> str:
    body = html.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    return CSRF_VALUE.sub(r"\1…", body)


def test_portal_user_page_speaks_to_the_client(api_demo: ApiEnv, console: TestClient) -> None:
    a = api_demo.clients["A"]
    sign_in(console, api_demo.keys["portal"])
    version = api_demo.runtime.require_bundle().version
    for lang in ("zh", "en"):
        html = console.get(f"/console/portal/{a}").text
        labels = catalogue(lang)
        assert labels["app.footer"] not in html and "<nav" not in html
        assert "staff-banner" not in html and labels["portal.staff_banner"] not in html
        assert version not in html and labels["common.model"] not in _main(html)
        assert not [p for p in INTERNAL_PHRASES if p in _main(html).lower()]
        offers = html.count('<article class="rec offer"')
        assert offers > 0
        assert html.count(labels["portal.you_get"]) == offers
        assert html.count(f">{labels['portal.ask']}</button>") == offers
        prices = html.count(labels["portal.price"].split("{")[0]) + html.count(
            labels["portal.price_ask"]
        )
        assert prices == offers
        if lang == "zh":
            console.post(
                "/console/lang",
                data={"lang": "en", "next": f"/console/portal/{a}", "csrf_token": csrf_of(html)},
            )


def test_staff_preview_is_the_client_page_plus_a_banner(
    api_demo: ApiEnv, console: TestClient
) -> None:
    a = api_demo.clients["A"]
    sign_in(console, api_demo.keys["portal"])
    client_view = console.get(f"/console/portal/{a}").text
    console.cookies.clear()
    sign_in(console, api_demo.keys["librarian"])
    staff_view = console.get(f"/console/portal/{a}").text
    assert _main(staff_view) == _main(client_view)
    banner = staff_view.split('<aside class="staff-banner"', 1)[1].split("</aside>", 1)[0]
    assert catalogue("zh")["portal.staff_banner"] in banner
    assert f'href="/console/clients/{a}"' in banner


def _events(api_demo: ApiEnv, client: str) -> list[tuple[EventType, str, Surface]]:
    cid = uc_clients.client_id(api_demo.runtime, external_id=api_demo.clients[client])
    with api_demo.runtime.db.session() as s:
        rows = s.execute(
            select(
                RecommendationEvent.event,
                RecommendationEvent.item_code,
                RecommendationEvent.surface,
            ).where(RecommendationEvent.client_id == cid)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_ask_about_this_records_the_clients_interest(api_demo: ApiEnv, console: TestClient) -> None:
    a = api_demo.clients["A"]
    sign_in(console, api_demo.keys["librarian"])
    page = console.get(f"/console/portal/{a}").text
    code = re.search(r'name="code" value="([^"]+)"', page)
    assert code
    before = _events(api_demo, "A")
    resp = console.post(
        f"/console/portal/{a}/ask",
        data={"code": code.group(1), "rank": "1", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert _events(api_demo, "A") == before, "a staff preview records nothing"

    console.cookies.clear()
    sign_in(console, api_demo.keys["portal"])
    page = console.get(f"/console/portal/{a}").text
    resp = console.post(
        f"/console/portal/{a}/ask",
        data={"code": code.group(1), "rank": "1", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert resp.headers["location"].startswith(f"/console/portal/{a}?asked=")
    new = [e for e in _events(api_demo, "A") if e not in before]
    assert sorted(e[0] for e in new) == sorted([EventType.IMPRESSION, EventType.ACCEPTED])
    assert {(e[1], e[2]) for e in new} == {(code.group(1), Surface.PORTAL)}
    thanks = console.get(resp.headers["location"]).text
    assert 'id="asked"' in thanks

    no_csrf = console.post(f"/console/portal/{a}/ask", data={"code": code.group(1)})
    assert no_csrf.status_code == 403
    other = console.post(
        f"/console/portal/{api_demo.clients['B']}/ask",
        data={"code": code.group(1), "csrf_token": csrf_of(page)},
    )
    assert other.status_code == 403


def test_every_link_a_portal_user_can_reach_works(api_demo: ApiEnv, console: TestClient) -> None:
    """The links and forms of the portal pages, followed as the portal user; sign-out
    last. (The browser test crawls the same pages in Chromium.)"""
    a = api_demo.clients["A"]
    sign_in(console, api_demo.keys["portal"])
    start = f"/console/portal/{a}"
    html = console.get(start).text
    links = {urljoin(start, h) for h in LINK.findall(html)}
    assert f"/console/portal/{a}" in links, "the home link is the client's own page"
    for href in sorted(links):
        if urlsplit(href).netloc:
            continue
        resp = console.get(href)
        assert resp.status_code == 200, (href, resp.status_code)
    actions = set(FORM.findall(html))
    assert {"/console/lang", "/console/logout", f"/console/portal/{a}/ask"} <= actions
    lang = console.post(
        "/console/lang", data={"lang": "en", "next": start, "csrf_token": csrf_of(html)}
    )
    assert lang.status_code == 200 and "Welcome" in lang.text
    out = console.post("/console/logout", data={"csrf_token": csrf_of(lang.text)})
    assert out.status_code == 200 and 'name="key"' in out.text


def test_a_portal_users_error_page_links_home_to_its_own_page(
    api_demo: ApiEnv, console: TestClient
) -> None:
    """A portal user who strays onto a staff page gets the 403 page, whose brand link
    leads back to its own portal page, not to another 403."""
    a = api_demo.clients["A"]
    sign_in(console, api_demo.keys["portal"])
    refused = console.get("/console/")
    assert refused.status_code == 403
    assert f'class="brand" href="/console/portal/{a}"' in refused.text
    for href in LINK.findall(refused.text):
        if href.startswith("/"):
            assert console.get(href).status_code == 200, href


def test_a_service_quoted_per_project_says_ask_us_and_keeps_only_own_projects() -> None:
    from recsvc.recommend.offer import Evidence, Offer
    from recsvc.usecases.portal import _client_offer, _Product

    offer = Offer(
        code="embedded_service",
        name_zh="嵌入科研团队服务",
        name_en="Embedded research-team service",
        rank=1,
        score=0.4,
        sources={"look-alike": 0.3},
        evidence=[
            Evidence(kind="own_project", text_zh="与查新项目…", text_en="Matches…", ref="K1"),
            Evidence(kind="similar_case", text_zh="相似案例：…", text_en="Similar case: …"),
            Evidence(
                kind="factor", text_zh="常见的服务升级路径：…", text_en="A common service path"
            ),
        ],
    )
    product = _Product("嵌入科研团队服务", "Embedded research-team service", "d", "d", 120000.0)
    own = {"K1": ("基于您的查新项目“甲”（2025-01）", "Follows on from your … “A” (2025-01)")}
    out = _client_offer(offer, product, own)
    assert CLIENT_TEXTS["embedded_service"].quoted and out.price is None
    assert out.why_zh == [own["K1"][0]] and out.why_en == [own["K1"][1]]
    priced = _client_offer(offer.model_copy(update={"code": "patent_analysis"}), product, {})
    assert priced.price == 120000.0 and priced.why_zh == ["与查新项目…"]
