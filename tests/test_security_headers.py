"""Security headers on every response: API, problems, console pages, static files,
errors, docs; ``Cache-Control: no-store`` where client data can be."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.security import DOCS_CSP, STRICT_CSP
from recsvc.config import Settings
from recsvc.store import Database
from tests.fixtures_web import Keys, sign_in

COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _assert_secure(resp: object, *, private: bool, csp: str = STRICT_CSP) -> None:
    headers = resp.headers  # type: ignore[attr-defined]
    where = f"{resp.request.method} {resp.request.url.path} → {resp.status_code}"  # type: ignore[attr-defined]
    for name, value in COMMON.items():
        assert headers.get(name) == value, (where, name)
    assert headers.get("content-security-policy") == csp, where
    if private:
        assert headers.get("cache-control") == "no-store", where
    else:
        assert headers.get("cache-control") != "no-store", where


def test_strict_csp_forbids_inline_and_framing() -> None:
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    ):
        assert directive in STRICT_CSP
    assert "unsafe" not in STRICT_CSP


def test_api_responses_carry_security_headers(web_app: TestClient, web_keys: Keys) -> None:
    lib = {"Authorization": f"Bearer {web_keys.librarian}"}
    for resp in (
        web_app.get("/api/v1/clients", headers=lib),
        web_app.get("/api/v1/clients/C001", headers=lib),
        web_app.get("/api/v1/clients"),  # 401 problem
        web_app.get("/api/v1/clients/NOPE", headers=lib),  # 404 problem
        web_app.get("/api/v1/models", headers=lib),  # 403 problem
        web_app.get("/api/v1/no-such-route"),
    ):
        assert resp.status_code in (200, 401, 403, 404)
        _assert_secure(resp, private=True)
    for path in ("/healthz", "/openapi.json"):
        _assert_secure(web_app.get(path), private=False)
    _assert_secure(web_app.get("/docs"), private=False, csp=DOCS_CSP)


def test_console_pages_static_and_errors_carry_security_headers(
    web_app: TestClient, web_keys: Keys
) -> None:
    _assert_secure(web_app.get("/console/login"), private=True)
    _assert_secure(web_app.get("/console/", follow_redirects=False), private=True)
    sign_in(web_app, web_keys.admin)
    for path in ("/console/", "/console/clients/C001", "/console/search", "/console/models"):
        _assert_secure(web_app.get(path), private=True)
    for path in ("/console/clients/NOPE", "/console/?page=abc", "/console/worklist.csv"):
        resp = web_app.get(path)
        assert resp.status_code >= 400
        _assert_secure(resp, private=True)
    _assert_secure(web_app.get("/console/static/console.css"), private=False)
    _assert_secure(web_app.get("/console/static/htmx.min.js"), private=False)


@pytest.fixture
def boom_app(settings: Settings, small_store: Database) -> TestClient:
    from api.app import create_app

    app = create_app(settings)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("unexpected")

    return TestClient(app, raise_server_exceptions=False)


def test_unexpected_500_carries_security_headers(boom_app: TestClient) -> None:
    resp = boom_app.get("/api/v1/boom")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith("application/problem+json")
    _assert_secure(resp, private=True)
