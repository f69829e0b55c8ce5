"""Choosing the value model a version serves, on a trained demo version: training keeps
the logistic baseline and says which one serves by default; choosing the other changes
the served probabilities at once and lasts across a reload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsvc.registry import Registry
from recsvc.value.logistic import LogisticValueModel
from tests.fixtures_api import ApiEnv, open_demo


def test_training_keeps_the_baseline_and_says_which_model_serves(api_demo: ApiEnv) -> None:
    reg = api_demo.runtime.registry
    version = reg.active()
    assert version is not None
    folder = reg.path(version)
    assert (folder / "logistic" / "config.json").is_file() and (folder / "value").is_dir()
    selection = reg.metrics(version)["value_selection"]
    assert selection["default"] in ("lightgbm", "logistic")
    decision = reg.decision(version)
    assert decision is not None and "logistic baseline" in decision["reason"]
    assert reg.value_model(version) == selection["default"]


def test_choosing_the_other_model_changes_what_is_served_and_persists(
    api_demo: ApiEnv, tmp_path: Path
) -> None:
    rt = api_demo.runtime
    version = rt.registry.active()
    assert version is not None and rt.bundle is not None
    current = rt.registry.value_model(version)
    other = "lightgbm" if current == "logistic" else "logistic"
    before = rt.bundle.scores["probability"].copy()
    client = api_demo.clients["A"]

    resp = api_demo.post(f"/api/v1/models/{version}/value-model?model={other}", "analyst")
    assert resp.status_code == 200, resp.text
    listed = {v["version"]: v["value_model"] for v in resp.json()["data"]}
    assert listed[version] == other

    bundle = rt.bundle
    assert bundle is not None and bundle.value is not None
    assert bundle.value.value_model == other
    after = bundle.scores["probability"]
    assert not np.allclose(after.to_numpy(), before.reindex(after.index).to_numpy())
    if other == "logistic":
        expected = LogisticValueModel.load(rt.registry.path(version) / "logistic").predict(
            bundle.features
        )
        assert np.allclose(after.to_numpy(), expected)
    profile = api_demo.get(f"/api/v1/clients/{client}", "librarian").json()
    assert profile["score"]["value_probability"] == pytest.approx(
        float(after.loc[_client_id(api_demo, client)])
    )

    # a fresh process over the same folders serves the choice
    settings, again = open_demo(Path(api_demo.settings.models_dir).parent, tmp_path / "reloaded")
    try:
        assert Registry(settings.models_dir).value_model(version) == other
        assert again.bundle is not None and again.bundle.value is not None
        assert again.bundle.value.value_model == other
        assert np.allclose(again.bundle.scores["probability"].to_numpy(), after.to_numpy())
    finally:
        again.close()

    bad = api_demo.post(f"/api/v1/models/{version}/value-model?model=xgboost", "analyst")
    assert bad.status_code == 422
    back = api_demo.post(f"/api/v1/models/{version}/value-model?model={current}", "admin")
    assert back.status_code == 200 and rt.bundle.value.value_model == current


def _client_id(env: ApiEnv, external_id: str) -> int:
    from recsvc.usecases import clients

    return clients.client_id(env.runtime, external_id=external_id)
