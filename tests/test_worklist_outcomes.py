"""Outcomes on the work surface (issue 17, item 4), over the trained demo store: a
purchase is its order (once per impression) and the product leaves the client's next
list; a decline needs the reason picked; a recorded outcome shows after a reload."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from recsvc.errors import Conflict
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.enums import EventType, InteractionKind, Surface
from recsvc.store.models import Client, Interaction, Order, RecommendationEvent
from recsvc.usecases import events, recommendations
from tests.fixtures_api import ApiEnv
from tests.fixtures_web import csrf_of, sign_in

ONE_OFF = {e.code: e.price for e in CATALOGUE if e.one_off}
HX = {"HX-Request": "true"}


def _shown(env: ApiEnv, client_id: int) -> list[tuple[int, str]]:
    """The client's live list as a librarian sees it: (impression id, code) in rank order."""
    recs = recommendations.live(
        env.runtime, client_id=client_id, surface=Surface.LIBRARIAN, k=5, record=True
    )
    return [(int(o.impression_id or 0), o.code) for o in recs.offers]


def _client_with_one_off_offer(env: ApiEnv) -> tuple[int, int, str]:
    """A client whose live list offers a one-off product: (client id, impression, code)."""
    with env.runtime.db.session() as s:
        ids = list(s.scalars(select(Client.id).order_by(Client.id).limit(80)))
    for cid in ids:
        for imp, code in _shown(env, cid):
            if code in ONE_OFF:
                return cid, imp, code
    raise AssertionError("no demo client is offered a one-off product")


def _orders(env: ApiEnv, client_id: int) -> list[Order]:
    with env.runtime.db.session() as s:
        return list(s.scalars(select(Order).where(Order.client_id == client_id)))


def test_a_purchase_is_one_order_and_leaves_the_next_list(api_demo: ApiEnv) -> None:
    client_id, impression_id, code = _client_with_one_off_offer(api_demo)
    before = len(_orders(api_demo, client_id))

    resp = api_demo.post(
        "/api/v1/feedback",
        "librarian",
        json={"impression_id": impression_id, "outcome": "purchased"},
    )
    assert resp.status_code == 201, resp.text
    orders = _orders(api_demo, client_id)
    assert len(orders) == before + 1
    (order,) = [o for o in orders if o.external_id == f"rec-{impression_id}"]
    assert order.amount == ONE_OFF[code]
    assert order.ordered_on == dt.datetime.now(dt.UTC).date()

    # a second "purchased" on the same impression (the API, then the CLI's use case)
    again = api_demo.post(
        "/api/v1/feedback",
        "librarian",
        json={"impression_id": impression_id, "outcome": "purchased"},
    )
    assert again.status_code == 409
    with pytest.raises(Conflict):
        events.record_item_outcome(
            api_demo.runtime, client_id=client_id, item_code=code, outcome="purchased"
        )
    assert len(_orders(api_demo, client_id)) == before + 1

    assert code not in [c for _, c in _shown(api_demo, client_id)]


def test_a_decline_needs_the_reason_picked(api_demo: ApiEnv) -> None:
    body = api_demo.impression("declined")
    resp = api_demo.post("/api/v1/feedback", "librarian", json=body)
    assert resp.status_code == 422, resp.text
    assert "reason" in {e["field"] for e in resp.json()["errors"]}
    with api_demo.runtime.db.session() as s:
        declined = s.scalar(
            select(func.count()).where(
                RecommendationEvent.impression_id == body["impression_id"],
                RecommendationEvent.event == EventType.DECLINED,
            )
        )
    assert declined == 0


@pytest.fixture(scope="module")
def console(api_demo: ApiEnv) -> Iterator[TestClient]:
    """The console over the demo store, signed in with the librarian key."""
    from api.app import create_app

    app = create_app(api_demo.settings, api_demo.runtime)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield sign_in(client, api_demo.keys["librarian"])


def _forms(html: str) -> list[dict[str, str]]:
    """The hidden fields of each outcome form on a page (buttons and decline forms)."""
    found = []
    for form in re.findall(r'<form method="post" action="([^"]+/outcome)"(.*?)</form>', html, re.S):
        action, inner = form
        fields = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', inner))
        found.append({"action": action, **fields})
    return found


def _buttons(html: str) -> set[tuple[str, str, str]]:
    """``(action, item_code, outcome)`` of every outcome button on a page."""
    found = set()
    for action, inner in re.findall(
        r'<form method="post" action="([^"]+/outcome)"(.*?)</form>', html, re.S
    ):
        code = re.search(r'name="item_code" value="([^"]*)"', inner)
        for outcome in re.findall(r'name="outcome" value="(\w+)"', inner):
            found.add((action, code.group(1) if code else "", outcome))
    return found


def test_worklist_outcomes_show_after_reload_and_refuse_a_decline_without_reason(
    api_demo: ApiEnv, console: TestClient
) -> None:
    page = console.get("/console/")
    assert page.status_code == 200
    assert "接受" in page.text and "拒绝…" in page.text and "记录来电" in page.text
    reasons = re.findall(r'<select id="reason-[^"]*" name="reason">(.*?)</select>', page.text, re.S)
    assert reasons  # every decline form offers the reasons, none of them preselected
    assert not [r for r in reasons if re.search(r'<option value="[a-z_]+" selected', r)]
    forms = [f for f in _forms(page.text) if f.get("where") == "worklist"]
    first, second = forms[0], forms[2]  # rows have two outcome forms each
    token = csrf_of(page.text)

    refused = console.post(
        first["action"],
        data={**first, "csrf_token": token, "outcome": "declined", "reason": ""},
        headers=HX,
    )
    assert refused.status_code == 422
    assert "请先选择客户给出的拒绝原因" in refused.text

    accepted = console.post(
        first["action"], data={**first, "csrf_token": token, "outcome": "accepted"}, headers=HX
    )
    assert accepted.status_code == 200, accepted.text
    today = dt.datetime.now(dt.UTC).strftime("%m-%d")
    assert f"{today} 由 test-librarian 接受" in accepted.text
    declined = console.post(
        second["action"],
        data={**second, "csrf_token": token, "outcome": "declined", "reason": "no_budget"},
        headers=HX,
    )
    assert declined.status_code == 200 and f"{today} 由 test-librarian 记录拒绝" in declined.text

    reloaded = console.get("/console/")
    assert f"{today} 由 test-librarian 接受" in reloaded.text
    assert f"{today} 由 test-librarian 记录拒绝" in reloaded.text
    still = _buttons(reloaded.text)
    assert (first["action"], first["item_code"], "accepted") not in still
    assert (first["action"], first["item_code"], "purchased") in still  # may still be bought
    assert not {b for b in still if b[:2] == (second["action"], second["item_code"])}


def test_client_page_shows_the_outcome_after_reload(api_demo: ApiEnv, console: TestClient) -> None:
    with api_demo.runtime.db.session() as s:
        external_id = s.scalars(select(Client.external_id).order_by(Client.id.desc())).first()
    page = console.get(f"/console/clients/{external_id}")
    forms = [f for f in _forms(page.text) if f.get("impression_id")]
    assert forms, "a librarian gets outcome buttons for each offer"
    first = forms[0]
    resp = console.post(
        first["action"],
        data={**first, "csrf_token": csrf_of(page.text), "outcome": "accepted"},
        headers=HX,
    )
    assert resp.status_code == 200, resp.text
    reloaded = console.get(f"/console/clients/{external_id}")
    assert "由 test-librarian 接受" in reloaded.text
    assert first["item_code"] not in {b[1] for b in _buttons(reloaded.text) if b[2] == "accepted"}


def test_log_call_records_a_call_interaction(api_demo: ApiEnv, console: TestClient) -> None:
    with api_demo.runtime.db.session() as s:
        client_id, external_id = s.execute(
            select(Client.id, Client.external_id).order_by(Client.id)
        ).first()
    page = console.get(f"/console/clients/{external_id}")
    resp = console.post(
        f"/console/clients/{external_id}/call",
        data={"csrf_token": csrf_of(page.text), "where": "client"},
        headers=HX,
    )
    assert resp.status_code == 200 and "由 test-librarian 记录来电" in resp.text
    with api_demo.runtime.db.session() as s:
        calls = list(
            s.scalars(
                select(Interaction).where(
                    Interaction.client_id == client_id, Interaction.staff == "test-librarian"
                )
            )
        )
    assert [(c.kind, c.occurred_on, c.note) for c in calls] == [
        (InteractionKind.CALL, dt.datetime.now(dt.UTC).date(), None)
    ]


def test_the_cli_path_records_the_order_once(api_env: ApiEnv) -> None:
    """``recsvc feedback CLIENT PRODUCT purchased`` calls ``record_item_outcome``: the
    purchase answers the client's latest impression and is one order at the amount
    given; a second one on that impression is refused and adds no order."""
    rt = api_env.runtime
    body = api_env.impression("purchased")
    with rt.db.session() as s:
        shown = s.get(RecommendationEvent, body["impression_id"])
        assert shown is not None
        client_id, code = shown.client_id, shown.item_code
    event = events.record_item_outcome(
        rt, client_id=client_id, item_code=code, outcome="purchased", amount=123.0
    )
    assert event.impression_id == body["impression_id"]
    with pytest.raises(Conflict):
        events.record_item_outcome(rt, client_id=client_id, item_code=code, outcome="purchased")
    with rt.db.session() as s:
        orders = [(o.external_id, o.amount) for o in s.scalars(select(Order))]
    assert orders == [(f"rec-{body['impression_id']}", 123.0)]
