"""The models page compares LightGBM with its logistic baseline and RFM, says when the
simpler model is as good, and lets an analyst choose which value model serves."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from recsvc.config import Settings
from recsvc.registry import Registry
from tests.fixtures_web import Keys, csrf_of, sign_in
from training.baselines import LogisticBaseline


def _version(settings: Settings, lgb_auc: float, lr_auc: float) -> str:
    """A registered version with constructed backtest metrics and a logistic model."""
    reg = Registry(settings.models_dir)
    version, folder = reg.create()
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    LogisticBaseline().fit(X, (X["a"] > 0).astype(int)).model_.save(folder / "logistic")
    (folder / "value" / "config.json").write_text("{}")
    reg.write_metrics(
        version,
        {
            "eval_cutoff": "2025-01-01",
            "value": {"auc": lgb_auc, "pr_auc": 0.622, "brier": 0.0812},
            "baselines": {
                "logistic": {"auc": lr_auc, "pr_auc": 0.631, "brier": 0.0807},
                "rfm": {"auc": 0.8123, "pr_auc": 0.41, "brier": 0.2},
            },
        },
    )
    reg.write_meta(version, {"created": "2025-01-01T00:00:00"})
    return version


def _switch(web_app: TestClient, page: str, lang: str) -> None:
    web_app.post("/console/lang", data={"csrf_token": csrf_of(page), "lang": lang})


def test_page_shows_the_baselines_and_says_the_simpler_model_is_as_good(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    version = _version(settings, 0.9059, 0.9061)
    sign_in(web_app, web_keys.analyst)
    page = web_app.get(f"/console/models?version={version}").text
    for scorer, auc in (("lightgbm", "0.9059"), ("logistic", "0.9061"), ("rfm", "0.8123")):
        row = re.search(rf'<tr data-scorer="{scorer}".*?</tr>', page, re.S)
        assert row is not None and auc in row.group(0), scorer
    assert "0.6310" in page and "0.0807" in page  # PR-AUC and Brier of the baseline
    assert 'id="simpler-as-good"' in page and "更简单的模型同样好" in page
    _switch(web_app, page, "en")
    page = web_app.get(f"/console/models?version={version}").text
    assert "The simpler model is as good" in page and "Logistic regression" in page
    assert "tolerance of 0.005 AUC" in page


def test_page_says_nothing_of_the_kind_when_lightgbm_is_clearly_better(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    version = _version(settings, 0.93, 0.90)
    sign_in(web_app, web_keys.analyst)
    page = web_app.get(f"/console/models?version={version}").text
    assert 'data-scorer="logistic"' in page
    assert 'id="simpler-as-good"' not in page and 'id="lightgbm-better"' in page


def test_analyst_chooses_the_value_model_on_the_page(
    web_app: TestClient, web_keys: Keys, settings: Settings
) -> None:
    version = _version(settings, 0.9059, 0.9061)
    sign_in(web_app, web_keys.analyst)
    page = web_app.get(f"/console/models?version={version}").text
    assert re.search(r'id="value-model">LightGBM', page)
    resp = web_app.post(
        f"/console/models/{version}/value-model",
        data={"csrf_token": csrf_of(page), "model": "logistic"},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    assert Registry(settings.models_dir).value_model(version) == "logistic"
    page = web_app.get(resp.headers["location"]).text
    assert re.search(r'id="value-model">逻辑回归<', page) and "由 ana-li" in page
    assert f'data-version="{version}"' in page and 'data-value-model="logistic"' in page

    no_csrf = web_app.post(f"/console/models/{version}/value-model", data={"model": "lightgbm"})
    assert no_csrf.status_code == 403
    web_app.cookies.clear()
    sign_in(web_app, web_keys.librarian)
    page = web_app.get("/console/worklist").text
    denied = web_app.post(
        f"/console/models/{version}/value-model",
        data={"csrf_token": csrf_of(page), "model": "lightgbm"},
        follow_redirects=False,
    )
    assert denied.status_code == 403
    assert Registry(settings.models_dir).value_model(version) == "logistic"
