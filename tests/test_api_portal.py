"""Portal isolation: a portal token sees its own client's recommendations and nothing
about any other client (no name, id or commission text)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from recsvc.store.models import Client, Commission, RecommendationEvent
from recsvc.usecases import clients as uc_clients
from tests.fixtures_api import ApiEnv

STAFF_URLS = (
    "/api/v1/clients",
    "/api/v1/clients/{b}",
    "/api/v1/clients/{b}/recommendations",
    "/api/v1/clients/{b}/similar",
    "/api/v1/search?q=patent",
    "/api/v1/worklist",
    "/api/v1/models",
)


def _client_strings(env: ApiEnv) -> dict[str, set[str]]:
    """Per client: its external id, names, commission ids and titles."""
    out: dict[str, set[str]] = {}
    with env.runtime.db.session() as s:
        for c in s.scalars(select(Client)):
            out[c.external_id] = {c.external_id, *(n for n in (c.name_zh, c.name_en) if n)}
        rows = s.execute(
            select(
                Client.external_id, Commission.external_id, Commission.title_zh, Commission.title_en
            ).join(Commission, Commission.client_id == Client.id)
        ).all()
    for ext, cext, tzh, ten in rows:
        out[ext] |= {v for v in (cext, tzh, ten) if v and len(v) >= 6}
    return out


def _other_clients_strings(env: ApiEnv, own: str) -> dict[str, set[str]]:
    """What identifies every other client, less what the client shares with it: two
    clients can file identically titled projects, and quoting one's own is no leak."""
    strings = _client_strings(env)
    mine = strings.pop(own)
    return {ext: values - mine for ext, values in strings.items()}


def test_own_recommendations_only(api_demo: ApiEnv) -> None:
    a = api_demo.clients["A"]
    resp = api_demo.get("/api/v1/me/recommendations", "portal")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["client_external_id"] == a
    assert body["count"] == len(body["data"]) > 0
    assert resp.headers["x-model-version"]  # a header for operators, not in the body
    text = json.dumps(body, ensure_ascii=False)
    leaks = {
        ext: sorted(v for v in values if v in text)
        for ext, values in _other_clients_strings(api_demo, a).items()
    }
    assert not {k: v for k, v in leaks.items() if v}


@pytest.mark.parametrize("url", STAFF_URLS)
def test_portal_token_cannot_reach_staff_routes(api_demo: ApiEnv, url: str) -> None:
    b = api_demo.clients["B"]
    resp = api_demo.get(url.format(b=b), "portal")
    assert resp.status_code == 403
    body = resp.json()
    assert body.pop("instance").startswith("/api/v1/")  # echoes the caller's own path
    record = uc_clients.record(
        api_demo.runtime, client_id=uc_clients.client_id(api_demo.runtime, external_id=b)
    )
    assert b not in json.dumps(body) and str(record.name_zh) not in resp.text


def test_portal_token_in_x_api_key_header(api_demo: ApiEnv) -> None:
    resp = api_demo.client.get(
        "/api/v1/me/recommendations", headers={"X-API-Key": api_demo.keys["portal_b"]}
    )
    assert resp.status_code == 200
    assert resp.json()["client_external_id"] == api_demo.clients["B"]


def test_events_stay_with_the_token_client(api_demo: ApiEnv) -> None:
    resp = api_demo.post("/api/v1/me/events", "portal", json=api_demo.portal_event())
    assert resp.status_code == 201, resp.text
    imp = resp.json()["data"][0]
    a_id = uc_clients.client_id(api_demo.runtime, external_id=api_demo.clients["A"])
    with api_demo.runtime.db.session() as s:
        row = s.get(RecommendationEvent, imp["id"])
        assert row is not None and row.client_id == a_id and row.actor == "portal"
    # A answers its own impression …
    ok = api_demo.post(
        "/api/v1/me/events",
        "portal",
        json={"events": [{"event": "declined", "impression_id": imp["id"], "reason": "no_budget"}]},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["data"][0]["impression_id"] == imp["id"]
    # … but B's token cannot see it, and A cannot answer B's impressions
    for who, body in (
        ("portal_b", {"events": [{"event": "accepted", "impression_id": imp["id"]}]}),
        (
            "portal",
            {
                "events": [
                    {
                        "event": "accepted",
                        "impression_id": api_demo.impression(client="B")["impression_id"],
                    }
                ]
            },
        ),
    ):
        denied = api_demo.post("/api/v1/me/events", who, json=body)
        assert denied.status_code == 404, denied.text


def test_impression_needs_a_known_item(api_demo: ApiEnv) -> None:
    resp = api_demo.post(
        "/api/v1/me/events",
        "portal",
        json={"events": [{"event": "impression", "item_code": "nope"}]},
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["field"] == "events.0.item_code"


def test_admin_key_is_not_a_portal_token(api_demo: ApiEnv) -> None:
    resp = api_demo.get("/api/v1/me/recommendations", "admin")
    assert resp.status_code == 403
