"""Console sign-in, sessions, CSRF, roles and error pages (no browser, no model)."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Any

import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.web import SESSION_COOKIE
from recsvc.auth import revoke_key, rotate_key
from recsvc.config import Settings
from recsvc.store import Database
from recsvc.store.enums import Role
from recsvc.store.models import ApiKey
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


def test_session_keeps_a_key_id_and_nonce_never_the_key_or_role(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    sign_in(web_app, web_keys.portal)
    session = read_session(web_app, settings)
    assert set(session["auth"]) == {"key_id", "nonce"}
    assert isinstance(session["auth"]["key_id"], int)
    dumped = json.dumps(session)
    for leaked in (web_keys.portal, "portal", "C001", "portal-c"):
        assert leaked not in dumped, leaked
    first = session["auth"]["nonce"]
    web_app.cookies.clear()
    sign_in(web_app, web_keys.portal)
    assert read_session(web_app, settings)["auth"]["nonce"] != first


def test_forged_admin_cookie_for_a_portal_key_is_refused(
    web_app: TestClient, web_keys: Keys, settings: Settings, small_store: Database
) -> None:
    """The attack of issue 16: a cookie signed with the app's secret for a portal
    token's key id, claiming the admin role (the session layout of the release that
    trusted it, and today's layout with a made-up nonce)."""
    portal_id = _key_id(small_store, "portal-c")
    claims = {
        "key_id": portal_id,
        "name": "portal-c",
        "prefix": web_keys.portal[:12],
        "role": "admin",
        "client_id": None,
        "client_external_id": None,
    }
    for forged in (
        {"user": claims, "csrf_token": "x"},
        {"auth": {"key_id": portal_id, "nonce": "made-up.0000"}, "user": claims},
    ):
        write_session(web_app, settings, forged)
        resp = web_app.get("/console/models", follow_redirects=False)
        assert resp.status_code in (303, 403), resp.status_code
        assert "模型版本" not in resp.text
    # a real portal session is still a portal session, whatever else the cookie says
    web_app.cookies.clear()
    sign_in(web_app, web_keys.portal)
    session = read_session(web_app, settings)
    session["user"] = claims
    write_session(web_app, settings, session)
    assert web_app.get("/console/models").status_code == 403
    assert web_app.get("/console/portal/C001").status_code == 200


def test_session_nonce_of_one_key_does_not_open_another(
    web_app: TestClient, web_keys: Keys, settings: Settings, small_store: Database
) -> None:
    sign_in(web_app, web_keys.portal)
    session = read_session(web_app, settings)
    session["auth"]["key_id"] = _key_id(small_store, "adm-zhao")
    write_session(web_app, settings, session)
    resp = web_app.get("/console/models", follow_redirects=False)
    assert resp.status_code == 303


@pytest.mark.parametrize(
    "stale",
    [
        {"drop": "nonce"},
        {"drop": "key_id"},
        {"set": {"key_id": "1"}},
        {"set": {"key_id": 10_000}},
        {"legacy": True},
    ],
    ids=["no-nonce", "no-key-id", "key-id-text", "unknown-key", "old-layout"],
)
def test_stale_session_counts_as_signed_out(
    web_app: TestClient, web_keys: Keys, settings: Settings, stale: dict[str, Any]
) -> None:
    sign_in(web_app, web_keys.admin)
    session = read_session(web_app, settings)
    write_session(web_app, settings, session)
    assert web_app.get("/console/models", follow_redirects=False).status_code == 200
    if stale.get("legacy"):
        session["user"] = session.pop("auth")
    session.get("auth", {}).pop(stale.get("drop", ""), None)
    session.get("auth", {}).update(stale.get("set", {}))
    write_session(web_app, settings, session)
    for path in ("/console/", "/console/models", "/console/portal/C001"):
        resp = web_app.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/console/login?next=")
    assert web_app.get("/console/login").status_code == 200


class _Clock:
    """A hand-moved clock for the key cache."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _key_id(db: Database, name: str) -> int:
    with db.session() as s:
        key_id = s.scalar(select(ApiKey.id).where(ApiKey.name == name))
    assert key_id is not None
    return int(key_id)


def _cache_clock(web_app: TestClient) -> _Clock:
    clock = _Clock()
    web_app.app.state.runtime.keys.clock = clock  # type: ignore[attr-defined]
    return clock


def test_revoked_key_ends_the_session_within_the_cache_time(
    web_app: TestClient, web_keys: Keys, small_store: Database
) -> None:
    clock = _cache_clock(web_app)
    sign_in(web_app, web_keys.librarian)
    assert web_app.get("/console/search").status_code == 200
    revoke_key(small_store, "lib-wang")  # another process: this one's cache lags
    seconds = web_app.app.state.runtime.keys.seconds  # type: ignore[attr-defined]
    assert 0 < seconds <= 10
    clock.now += seconds
    assert web_app.get("/console/search", follow_redirects=False).status_code == 303


def test_role_change_is_honoured_within_the_cache_time(
    web_app: TestClient, web_keys: Keys, small_store: Database
) -> None:
    clock = _cache_clock(web_app)
    sign_in(web_app, web_keys.analyst)
    assert web_app.get("/console/models").status_code == 200
    with small_store.session() as s:
        s.execute(update(ApiKey).where(ApiKey.name == "ana-li").values(role=Role.LIBRARIAN))
    clock.now += 60
    assert web_app.get("/console/models").status_code == 403
    assert web_app.get("/console/search").status_code == 200
    assert 'href="/console/models"' not in web_app.get("/console/search").text


def test_rotation_ends_sessions_of_the_old_secret(
    web_app: TestClient, web_keys: Keys, small_store: Database
) -> None:
    clock = _cache_clock(web_app)
    sign_in(web_app, web_keys.admin)
    assert web_app.get("/console/models").status_code == 200
    _, fresh = rotate_key(small_store, "adm-zhao")
    clock.now += 60
    assert web_app.get("/console/models", follow_redirects=False).status_code == 303
    web_app.cookies.clear()
    sign_in(web_app, fresh)
    assert web_app.get("/console/models").status_code == 200


def test_revocation_through_this_process_is_immediate(web_app: TestClient, web_keys: Keys) -> None:
    from recsvc.usecases import access

    _cache_clock(web_app)
    sign_in(web_app, web_keys.librarian)
    assert web_app.get("/console/search").status_code == 200
    access.revoke_key(web_app.app.state.runtime, name="lib-wang")  # type: ignore[attr-defined]
    assert web_app.get("/console/search", follow_redirects=False).status_code == 303
