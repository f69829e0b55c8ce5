"""Console sign-in, sessions, CSRF, roles and error pages (no browser, no model)."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient

from api.web import SESSION_COOKIE
from recsvc.auth import revoke_key
from recsvc.config import Settings
from recsvc.store import Database
from tests.fixtures_web import Keys, csrf_of, sign_in


def read_session(client: TestClient, settings: Settings) -> dict[str, Any]:
    """The console session ``client`` holds, unsigned and decoded."""
    signer = itsdangerous.TimestampSigner(settings.secret_key)
    raw = signer.unsign(client.cookies[SESSION_COOKIE].encode("utf-8"))
    data: dict[str, Any] = json.loads(b64decode(raw))
    return data


def write_session(client: TestClient, settings: Settings, data: dict[str, Any]) -> None:
    """Replace ``client``'s console session with ``data``, signed as the app signs it."""
    signer = itsdangerous.TimestampSigner(settings.secret_key)
    value = signer.sign(b64encode(json.dumps(data).encode("utf-8"))).decode("utf-8")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, value)


def test_unauthenticated_pages_redirect_to_sign_in(web_app: TestClient) -> None:
    for path in ("/console/", "/console/clients/C001", "/console/search", "/console/models"):
        resp = web_app.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/console/login?next=")


def test_root_redirects_to_console(web_app: TestClient) -> None:
    resp = web_app.get("/", follow_redirects=False)
    assert resp.status_code in (307, 308) or resp.status_code == 200
    if resp.status_code != 200:
        assert resp.headers["location"] == "/console/"


def test_sign_in_form_is_accessible_and_utf8(web_app: TestClient) -> None:
    resp = web_app.get("/console/login")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html; charset=utf-8")
    assert '<html lang="zh-CN">' in resp.text
    assert '<label for="key">' in resp.text and 'id="key"' in resp.text


def test_wrong_key_is_refused(web_app: TestClient, web_keys: Keys) -> None:
    page = web_app.get("/console/login")
    resp = web_app.post(
        "/console/login", data={"key": "rck_nope", "csrf_token": csrf_of(page.text)}
    )
    assert resp.status_code == 401
    assert "密钥无效" in resp.text


def test_post_without_csrf_token_is_refused(web_app: TestClient, web_keys: Keys) -> None:
    web_app.get("/console/login")
    resp = web_app.post("/console/login", data={"key": web_keys.librarian})
    assert resp.status_code == 403
    assert web_app.get("/console/", follow_redirects=False).status_code == 303
    sign_in(web_app, web_keys.librarian)
    for path, data in (
        ("/console/logout", {}),
        ("/console/lang", {"lang": "en"}),
        ("/console/clients/C001/outcome", {"impression_id": "1", "outcome": "accepted"}),
        ("/console/models/train", {}),
    ):
        resp = web_app.post(path, data=data, follow_redirects=False)
        assert resp.status_code == 403, path
        resp = web_app.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert resp.status_code == 403, path


def test_sign_in_then_logout(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.librarian)
    page = web_app.get("/console/search")
    assert page.status_code == 200
    assert "lib-wang" in page.text
    resp = web_app.post(
        "/console/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert resp.status_code == 303
    assert web_app.get("/console/search", follow_redirects=False).status_code == 303


def test_sign_in_keeps_next_but_not_foreign_urls(web_app: TestClient, web_keys: Keys) -> None:
    for target, expected in (
        ("/console/search?q=x", "/console/search?q=x"),
        ("https://evil.example/", "/console/"),
        ("//evil.example/", "/console/"),
    ):
        web_app.cookies.clear()
        page = web_app.get("/console/login")
        resp = web_app.post(
            "/console/login",
            data={"key": web_keys.librarian, "csrf_token": csrf_of(page.text), "next": target},
            follow_redirects=False,
        )
        assert resp.headers["location"] == expected


def test_revoked_key_ends_the_session(
    web_app: TestClient, web_keys: Keys, small_store: Database
) -> None:
    sign_in(web_app, web_keys.librarian)
    assert web_app.get("/console/search").status_code == 200
    revoke_key(small_store, "lib-wang")
    assert web_app.get("/console/search", follow_redirects=False).status_code == 303


def test_librarian_cannot_open_models_page(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.librarian)
    resp = web_app.get("/console/models")
    assert resp.status_code == 403
    assert "无权访问" in resp.text
    assert web_app.get("/console/models/v20250101-000000/plots/x.png").status_code == 403


@pytest.mark.parametrize("role", ["analyst", "admin"])
def test_analyst_and_admin_open_models_page(web_app: TestClient, web_keys: Keys, role: str) -> None:
    sign_in(web_app, getattr(web_keys, role))
    resp = web_app.get("/console/models")
    assert resp.status_code == 200
    assert "模型版本" in resp.text


def test_portal_token_lands_on_its_own_portal_preview_only(
    web_app: TestClient, web_keys: Keys
) -> None:
    page = web_app.get("/console/login")
    resp = web_app.post(
        "/console/login",
        data={"key": web_keys.portal, "csrf_token": csrf_of(page.text), "next": "/console/"},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/console/portal/C001"
    assert web_app.get("/console/portal/C001").status_code == 200
    assert web_app.get("/console/portal/C002").status_code == 403
    for path in ("/console/", "/console/clients/C001", "/console/search", "/console/models"):
        assert web_app.get(path).status_code == 403, path


def test_bad_parameters_get_friendly_4xx_pages(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.admin)
    for path, status in (
        ("/console/?page=abc", 400),
        ("/console/?page=0", 400),
        ("/console/?page=51", 400),
        ("/console/?segment=bogus", 400),
        ("/console/search?kind=nope", 400),
        ("/console/search?q=" + "x" * 600, 400),
        ("/console/clients/NOPE", 404),
        ("/console/clients/C001?recorded=zzz", 400),
        ("/console/portal/NOPE", 404),
        ("/console/models?job=%3Cscript%3E", 400),
        ("/console/models?job=abc", 404),
        ("/console/models/nope/plots/x.png", 404),
        ("/console/models/v20250101-000000/plots/..%2Fmeta.json", 404),
        ("/console/no-such-page", 404),
        ("/console/worklist.pdf", 400),
        ("/console/worklist.csv", 503),
    ):
        resp = web_app.get(path)
        assert resp.status_code == status, (path, resp.status_code)
        assert resp.headers["content-type"].startswith("text/html"), path
        assert "<main" in resp.text


def test_language_switch_changes_labels(web_app: TestClient, web_keys: Keys) -> None:
    sign_in(web_app, web_keys.librarian)
    page = web_app.get("/console/search")
    assert "语义检索" in page.text
    resp = web_app.post(
        "/console/lang",
        data={"lang": "en", "next": "/console/search", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/console/search"
    page = web_app.get("/console/search")
    assert '<html lang="en">' in page.text and "Semantic search" in page.text
    assert "语义检索" not in page.text


def test_session_keeps_the_principal_never_the_key(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    sign_in(web_app, web_keys.portal)
    user = read_session(web_app, settings)["user"]
    assert user["name"] == "portal-c" and user["role"] == "portal"
    assert user["client_external_id"] == "C001" and isinstance(user["client_id"], int)
    assert web_keys.portal.startswith(user["prefix"]) and user["prefix"] != web_keys.portal
    assert web_keys.portal not in web_app.cookies[SESSION_COOKIE]
    assert web_keys.portal not in json.dumps(read_session(web_app, settings))


@pytest.mark.parametrize(
    "stale",
    [
        {"drop": "prefix"},
        {"drop": "role"},
        {"set": {"role": "superuser"}},
        {"set": {"legacy": True}},
    ],
    ids=["no-prefix", "no-role", "unknown-role", "extra-field"],
)
def test_stale_session_counts_as_signed_out(
    web_app: TestClient, web_keys: Keys, settings: Settings, stale: dict[str, Any]
) -> None:
    sign_in(web_app, web_keys.admin)
    session = read_session(web_app, settings)
    write_session(web_app, settings, session)
    assert web_app.get("/console/models", follow_redirects=False).status_code == 200
    session["user"].pop(stale.get("drop", ""), None)
    session["user"].update(stale.get("set", {}))
    write_session(web_app, settings, session)
    for path in ("/console/", "/console/models", "/console/portal/C001"):
        resp = web_app.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/console/login?next=")
    assert web_app.get("/console/login").status_code == 200


def test_rebuilt_session_still_enforces_roles(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    sign_in(web_app, web_keys.librarian)
    assert web_app.get("/console/models").status_code == 403
    assert 'href="/console/models"' not in web_app.get("/console/search").text
    web_app.cookies.clear()
    sign_in(web_app, web_keys.analyst)
    assert 'href="/console/models"' in web_app.get("/console/search").text
    session = read_session(web_app, settings)
    session["user"]["role"] = "librarian"  # a signed session is trusted as written
    write_session(web_app, settings, session)
    assert web_app.get("/console/models").status_code == 403
    assert web_app.get("/console/search").status_code == 200
