"""A page, an endpoint and a command give one answer, in one shape.

- ``recsvc score --json`` equals the ``score`` of the API's client profile, and
  ``recsvc recommend --json`` the API's recommendations body, for the same client and
  the same version in service.
- The API's items, a stored portal list and a live result are all
  :class:`~recsvc.recommend.offer.Offer`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from recsvc.cli import _common, app
from recsvc.recommend.offer import OFFERS, Offer
from recsvc.store.enums import Surface
from recsvc.usecases import clients, recommendations
from tests.fixtures_api import ApiEnv


@pytest.fixture
def cli_on(api_demo: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI answering from the API's own runtime (same store, same version)."""
    monkeypatch.setattr(_common, "runtime", lambda **_: api_demo.runtime)
    return CliRunner()


def _cli_json(runner: CliRunner, args: list[str]) -> Any:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _without_impressions(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "data": [{**o, "impression_id": None} for o in body["data"]]}


def test_score_command_equals_the_profile_score(api_demo: ApiEnv, cli_on: CliRunner) -> None:
    a = api_demo.clients["A"]
    profile = api_demo.get(f"/api/v1/clients/{a}", "librarian")
    assert profile.status_code == 200, profile.text
    api_score = profile.json()["score"]
    assert api_score is not None
    cli_score = _cli_json(cli_on, ["score", a, "--json"])
    assert cli_score == api_score
    assert profile.json()["model_version"] == api_demo.runtime.bundle.version  # type: ignore[union-attr]


def test_recommend_command_prints_the_api_body(api_demo: ApiEnv, cli_on: CliRunner) -> None:
    a = api_demo.clients["A"]
    resp = api_demo.get(f"/api/v1/clients/{a}/recommendations?k=4", "librarian")
    assert resp.status_code == 200, resp.text
    api_body = resp.json()
    assert api_body["data"] and all(o["impression_id"] for o in api_body["data"])
    cli_body = _cli_json(cli_on, ["recommend", a, "-k", "4", "--json", "--no-record"])
    assert _without_impressions(cli_body) == _without_impressions(api_body)
    assert cli_body["model_version"] == resp.headers["X-Model-Version"]


def test_api_items_stored_portal_lists_and_live_results_are_one_model(api_demo: ApiEnv) -> None:
    rt = api_demo.runtime
    bundle = rt.require_bundle()
    a = api_demo.clients["A"]
    cid = clients.client_id(rt, external_id=a)

    stored = OFFERS.validate_json(bundle.portal_recs[cid][1])
    live = recommendations.live(rt, client_id=cid, surface=Surface.PORTAL).offers
    portal = api_demo.get("/api/v1/me/recommendations", "portal").json()
    librarian = api_demo.get(f"/api/v1/clients/{a}/recommendations", "librarian").json()

    assert stored and live
    assert all(isinstance(o, Offer) for o in [*stored, *live])
    # the portal answers the stored list, in client-facing words (no scores or sources)
    assert [o["code"] for o in portal["data"]] == [o.code for o in stored if o.kind == "product"]
    assert portal["count"] == len(portal["data"])
    assert all(isinstance(o, Offer) for o in OFFERS.validate_python(librarian["data"]))
