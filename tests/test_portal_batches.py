"""Portal event batches are all or nothing, and action codes must be known actions.

A batch rejected with 422 for its second event used to have stored its first, and any
item code starting with ``action:`` was stored as free text.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from recsvc.errors import InvalidInput
from recsvc.store.models import RecommendationEvent
from recsvc.usecases import clients, events
from recsvc.value import STRATEGIES
from tests.fixtures_api import ApiEnv

KNOWN_ACTION = STRATEGIES["key"][0].item_code  # action:fixed_contact


def _stored(env: ApiEnv) -> int:
    with env.runtime.db.session() as s:
        return s.scalar(select(func.count()).select_from(RecommendationEvent)) or 0


def _post(env: ApiEnv, batch: list[dict[str, Any]]) -> Any:
    return env.post("/api/v1/me/events", "portal", json={"events": batch})


def test_a_bad_second_event_stores_nothing(api_env: ApiEnv) -> None:
    good = {"event": "impression", "item_code": api_env.product_codes()[0], "rank": 1}
    bad = {"event": "impression", "item_code": "no-such-product", "rank": 2}
    resp = _post(api_env, [good, bad])
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == ["events.1.item_code"]
    assert _stored(api_env) == 0


def test_unknown_action_is_refused_and_a_known_one_accepted(api_env: ApiEnv) -> None:
    resp = _post(api_env, [{"event": "impression", "item_code": "action:foo"}])
    assert resp.status_code == 422, resp.text
    (problem,) = resp.json()["errors"]
    assert problem["field"] == "events.0.item_code" and "unknown action" in problem["reason"]
    assert _stored(api_env) == 0
    resp = _post(api_env, [{"event": "impression", "item_code": KNOWN_ACTION, "rank": 1}])
    assert resp.status_code == 201, resp.text
    assert resp.json()["data"][0]["item_code"] == KNOWN_ACTION
    assert _stored(api_env) == 1


def test_an_outcome_that_fails_late_in_the_batch_stores_nothing(api_env: ApiEnv) -> None:
    shown = _post(api_env, [{"event": "impression", "item_code": KNOWN_ACTION}])
    impression = shown.json()["data"][0]["id"]
    before = _stored(api_env)
    fresh = {"event": "impression", "item_code": api_env.product_codes()[0]}
    accept = {"event": "accepted", "impression_id": impression}
    missing = {"event": "accepted", "impression_id": impression + 1000}
    assert _post(api_env, [fresh, accept, missing]).status_code == 404
    twice = _post(api_env, [fresh, accept, accept])
    assert twice.status_code == 409 and "events[2]" in twice.json()["detail"]
    reason = {"event": "accepted", "impression_id": impression, "reason": "no_budget"}
    resp = _post(api_env, [fresh, reason])
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "events.1.reason"
    assert _stored(api_env) == before
    resp = _post(api_env, [fresh, accept])
    assert resp.status_code == 201, resp.text
    data = resp.json()["data"]
    assert [(e["event"], e["impression_id"]) for e in data] == [
        ("impression", None),
        ("accepted", impression),
    ]
    assert data[1]["item_code"] == KNOWN_ACTION
    assert _stored(api_env) == before + 2


def test_item_outcomes_take_known_codes_only(api_env: ApiEnv) -> None:
    rt = api_env.runtime
    client_id = clients.client_id(rt, external_id="CA-001")
    with pytest.raises(InvalidInput) as info:
        events.record_item_outcome(
            rt, client_id=client_id, item_code="action:foo", outcome="accepted"
        )
    assert info.value.problems[0].field == "item_code"
    recorded = events.record_item_outcome(
        rt, client_id=client_id, item_code=KNOWN_ACTION, outcome="accepted"
    )
    assert recorded.item_code == KNOWN_ACTION
    assert KNOWN_ACTION in events.ACTION_CODES and "action:foo" not in events.ACTION_CODES
