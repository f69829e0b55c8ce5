"""The role matrix: every route, called by every role and without a key.

The table below is the contract; a test also checks that it lists every route the
app exposes, so a new route cannot ship without declaring who may call it.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

from tests.fixtures_api import PRINCIPALS, ApiEnv

PUBLIC = frozenset({"librarian", "analyst", "admin", "portal", None})
STAFF_READ = frozenset({"librarian", "analyst", "admin"})
LIBRARIAN = frozenset({"librarian", "admin"})
ANALYST = frozenset({"analyst", "admin"})
PORTAL = frozenset({"portal"})
ADMIN = frozenset({"admin"})

_CSV = "external_id,kind,name_zh\nCNEW-1,enterprise,新客户\n"

#: (method, path template, who may call it, request kwargs builder)
ROUTES: list[tuple[str, str, frozenset[str | None], Any]] = [
    ("GET", "/healthz", PUBLIC, None),
    ("GET", "/readyz", PUBLIC, None),
    ("GET", "/metrics", PUBLIC, None),
    ("GET", "/api/v1/clients", STAFF_READ, None),
    ("GET", "/api/v1/clients/{external_id}", STAFF_READ, None),
    ("GET", "/api/v1/clients/{external_id}/recommendations", LIBRARIAN, None),
    ("GET", "/api/v1/clients/{external_id}/similar", STAFF_READ, None),
    ("GET", "/api/v1/search", STAFF_READ, lambda env: {"params": {"q": "patent"}}),
    ("GET", "/api/v1/worklist", LIBRARIAN, None),
    ("POST", "/api/v1/feedback", LIBRARIAN, lambda env: {"json": env.impression("accepted")}),
    ("GET", "/api/v1/me/recommendations", PORTAL, None),
    ("POST", "/api/v1/me/events", PORTAL, lambda env: {"json": env.portal_event()}),
    (
        "POST",
        "/api/v1/imports",
        ANALYST,
        lambda env: {"files": {"file": ("clients.csv", io.BytesIO(_CSV.encode()), "text/csv")}},
    ),
    ("POST", "/api/v1/jobs/training", ANALYST, lambda env: env.no_running_job()),
    ("GET", "/api/v1/jobs/{job_id}", ANALYST, None),
    ("GET", "/api/v1/models", ANALYST, None),
    ("POST", "/api/v1/models/{version}/promote", ANALYST, None),
    ("POST", "/api/v1/models/rollback", ANALYST, None),
    ("GET", "/api/v1/models/{version}/report", ANALYST, None),
    ("POST", "/api/v1/models/{version}/value-model", ANALYST, lambda env: _same_value_model(env)),
    ("GET", "/api/v1/models/{version}/plots/{name}", ANALYST, None),
    ("GET", "/api/v1/audit", ADMIN, None),
    ("DELETE", "/api/v1/clients/{external_id}", ADMIN, lambda env: _erasable(env)),
    ("GET", "/api/v1/erasures", ADMIN, None),
]


def _same_value_model(env: ApiEnv) -> dict[str, Any]:
    """Choose the value model the active version already serves (nothing changes)."""
    registry = env.runtime.registry
    version = registry.active()
    assert version is not None
    return {"params": {"model": registry.value_model(version)}}


def _erasable(env: ApiEnv) -> dict[str, Any]:
    """A fresh client to erase (the matrix's shared clients must stay)."""
    from recsvc.store.enums import ClientKind
    from recsvc.store.models import Client

    with env.runtime.db.session() as s:
        client = Client(external_id=f"ERASE-{uuid.uuid4().hex[:12]}", kind=ClientKind.OTHER)
        s.add(client)
    return {"params": {"reason": "role matrix"}, "path": {"external_id": client.external_id}}


def test_the_table_lists_every_route(api_demo: ApiEnv) -> None:
    schema = api_demo.client.get("/openapi.json").json()
    exposed = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert exposed == {(m, p) for m, p, _, _ in ROUTES}


@pytest.mark.parametrize("who", PRINCIPALS, ids=lambda w: w or "no-key")
@pytest.mark.parametrize(
    ("method", "path", "allowed", "extra"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_role_matrix(
    api_demo: ApiEnv,
    method: str,
    path: str,
    allowed: frozenset[str | None],
    extra: Any,
    who: str | None,
) -> None:
    kwargs = extra(api_demo) if extra else {}
    url = path.format(**{**api_demo.path_params(), **kwargs.pop("path", {})})
    resp = api_demo.client.request(method, url, headers=api_demo.headers(who), **kwargs)
    if who in allowed:
        # 409: rollback with nothing to roll back to is a state answer, not a denial
        assert resp.status_code in (200, 201, 202, 409), (who, url, resp.text)
        assert resp.status_code != 409 or path.endswith("rollback")
    elif who is None:
        assert resp.status_code == 401, resp.text
        assert resp.json()["type"].endswith("/unauthorized")
    else:
        assert resp.status_code == 403, resp.text
        assert resp.json()["type"].endswith("/forbidden")
