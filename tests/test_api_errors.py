"""Pins the one error shape: every error is an RFC 9457 problem document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from recsvc.registry import Registry
from recsvc.usecases import open_runtime
from tests.conftest import make_settings
from tests.fixtures_api import ApiEnv

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    """The response is a problem document with ``status``; returns its body."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert set(body) >= PROBLEM_KEYS, body
    assert set(body) <= PROBLEM_KEYS | {"errors"}
    assert body["status"] == status
    assert body["type"].startswith("https://recsvc.dev/problems/")
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


def test_shape_of_a_recsvc_error(api_env: ApiEnv) -> None:
    body = assert_problem(api_env.get("/api/v1/clients/NOPE", "librarian"), 404)
    assert body == {
        "type": "https://recsvc.dev/problems/notfound",
        "title": "Not found",
        "status": 404,
        "detail": "no client 'NOPE'",
        "instance": "/api/v1/clients/NOPE",
    }


def test_unauthorized_and_forbidden(api_env: ApiEnv) -> None:
    r = api_env.get("/api/v1/clients")
    body = assert_problem(r, 401)
    assert body["type"].endswith("/unauthorized") and r.headers["www-authenticate"] == "Bearer"
    assert_problem(api_env.client.get("/api/v1/clients", headers={"X-API-Key": "rck_wrong"}), 401)
    body = assert_problem(api_env.get("/api/v1/models", "librarian"), 403)
    assert body["type"].endswith("/forbidden")


def test_validation_errors_name_the_field(api_env: ApiEnv) -> None:
    body = assert_problem(api_env.get("/api/v1/clients?limit=0&offset=-1", "librarian"), 422)
    assert body["type"].endswith("/invalidinput")
    assert {e["field"] for e in body["errors"]} == {"limit", "offset"}
    body = assert_problem(api_env.post("/api/v1/feedback", "librarian", json={"outcome": "x"}), 422)
    assert {e["field"] for e in body["errors"]} == {"impression_id", "outcome"}
    body = assert_problem(
        api_env.post(
            "/api/v1/feedback",
            "librarian",
            content=b"{not json",
            headers={"content-type": "application/json"},
        ),
        422,
    )
    assert body["errors"]


def test_unknown_route_and_method(api_env: ApiEnv) -> None:
    assert_problem(api_env.get("/api/v1/nowhere"), 404)
    body = assert_problem(api_env.client.delete("/healthz"), 405)
    assert body["title"] == "Method not allowed"


def test_not_ready_without_a_model(api_env: ApiEnv) -> None:
    body = assert_problem(api_env.get("/api/v1/me/recommendations", "portal"), 503)
    assert body["type"].endswith("/notready")


@pytest.mark.parametrize("who", ["librarian", "portal"])
def test_conflict_and_not_found_outcomes(api_env: ApiEnv, who: str) -> None:
    if who == "portal":
        r = api_env.post(
            "/api/v1/me/events", who, json={"events": [{"event": "accepted", "impression_id": 999}]}
        )
    else:
        r = api_env.post(
            "/api/v1/feedback", who, json={"impression_id": 999, "outcome": "accepted"}
        )
    assert_problem(r, 404)


def test_a_model_that_fails_to_load_leaves_the_service_up(tmp_path: Path) -> None:
    """A broken active version: the app still starts; readiness and 503s say why."""
    settings = make_settings(tmp_path)
    registry = Registry(settings.models_dir)
    version, _ = registry.create()
    registry.write_meta(version, {"created": "now"})  # no value/ model inside
    registry.promote(version)
    runtime = open_runtime(settings)
    assert runtime.bundle is None and runtime.load_error
    with TestClient(create_app(settings, runtime)) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded" and ready["model_error"]
        assert client.get("/healthz").status_code == 200
    runtime.close()
