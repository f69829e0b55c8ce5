"""Honest model selection: the logistic baseline as a servable value model, the
registry's choice of which value model a version serves, and the gate comparing the
served models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from recsvc.errors import Conflict
from recsvc.registry import Registry
from recsvc.value.choice import compare, selection
from recsvc.value.logistic import LogisticValueModel
from recsvc.value.service import ValueService
from tests.conftest import make_settings
from training.baselines import LogisticBaseline

ROOT = Path(__file__).resolve().parent.parent


def _table(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Synthetic features with a known direction: ``a`` raises, ``c`` lowers the odds;
    ``b`` is missing for a fifth of the rows and ``e`` always."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["a", "b", "c", "d"])
    X.loc[rng.random(n) < 0.2, "b"] = np.nan
    X["e"] = np.nan
    y = ((2 * X["a"] - 1.5 * X["c"] + rng.normal(size=n)) > 0).astype(int)
    return X, y


def test_logistic_serving_model_is_the_fitted_pipeline() -> None:
    X, y = _table()
    model = LogisticBaseline().fit(X, y).model_
    reference = make_pipeline(
        SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(max_iter=2000),
    ).fit(X, y)
    assert np.allclose(model.predict(X), reference.predict_proba(X)[:, 1], atol=1e-12)

    contrib = model.contributions(X)
    assert np.allclose(contrib.sum(axis=1), model.margin(X))  # they add up to the log-odds
    # a high ``a`` raises, a high ``c`` lowers: coefficient × standardised value
    top = X["a"].idxmax()
    reasons = model.explain(X.loc[[top]], k=3)
    assert reasons[0].feature == "a" and reasons[0].contribution > 0
    assert all(r.contribution < 0 for r in reasons if r.feature == "c" and X.loc[top, "c"] > 0)
    assert list(model.importance().index[:2]) == ["a", "c"]


def test_logistic_artifact_is_plain_json_and_round_trips(tmp_path: Path) -> None:
    X, y = _table()
    model = LogisticBaseline().fit(X, y).model_
    folder = model.save(tmp_path / "logistic")
    assert sorted(p.name for p in folder.iterdir()) == ["config.json"]  # no pickle
    assert json.loads((folder / "config.json").read_text())["kind"] == "logistic"
    again = LogisticValueModel.load(folder)
    assert np.allclose(again.predict(X), model.predict(X))
    assert again.explain(X.iloc[[3]]) == model.explain(X.iloc[[3]])


def test_logistic_artifact_loads_without_importing_training(tmp_path: Path) -> None:
    X, y = _table()
    LogisticBaseline().fit(X, y).model_.save(tmp_path / "logistic")
    X.to_csv(tmp_path / "X.csv", index=False)
    code = (
        "import sys, pandas as pd\n"
        "from recsvc.value.logistic import LogisticValueModel\n"
        f"m = LogisticValueModel.load({str(tmp_path / 'logistic')!r})\n"
        f"p = m.predict(pd.read_csv({str(tmp_path / 'X.csv')!r}))\n"
        "assert len(p) == 400 and ((p > 0) & (p < 1)).all()\n"
        "bad = [k for k in sys.modules if k == 'training' or k.startswith('training.')]\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def _metrics(lgb: float, lr: float) -> dict:
    return {
        "eval_cutoff": "2025-01-01",
        "value": {"auc": lgb, "pr_auc": 0.62, "brier": 0.08},
        "baselines": {
            "logistic": {"auc": lr, "pr_auc": 0.63, "brier": 0.079},
            "rfm": {"auc": 0.81, "pr_auc": 0.4, "brier": 0.2},
        },
    }


def test_compare_and_default_follow_the_tolerance() -> None:
    close = compare(_metrics(0.9059, 0.9061), tolerance=0.005)
    assert [r.name for r in close.rows] == ["lightgbm", "logistic", "rfm"]
    assert close.simpler_as_good and close.auc_gain == pytest.approx(-0.0002)
    assert selection(_metrics(0.9059, 0.9061), 0.005)["default"] == "logistic"
    assert "does not beat its logistic baseline" in selection(_metrics(0.9, 0.897), 0.005)["reason"]
    far = selection(_metrics(0.92, 0.90), 0.005)
    assert far["default"] == "lightgbm" and not compare(_metrics(0.92, 0.90), 0.005).simpler_as_good
    assert selection({"value": {"auc": 0.9}}, 0.005)["default"] == "lightgbm"  # no baseline


def _version(reg: Registry, metrics: dict, *, logistic: bool = True) -> tuple[str, Path]:
    version, folder = reg.create()
    (folder / "value" / "config.json").write_text("{}")
    if logistic:
        X, y = _table()
        LogisticBaseline().fit(X, y).model_.save(folder / "logistic")
    reg.write_metrics(version, metrics)
    reg.write_meta(version, {"created": "2025-01-01"})
    return version, folder


def test_the_choice_is_kept_by_the_registry_not_the_version(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    plain, _ = _version(reg, _metrics(0.95, 0.90))
    close, folder = _version(
        reg, {**_metrics(0.9059, 0.9061), "value_selection": {"default": "logistic"}}
    )
    old, _ = _version(reg, _metrics(0.9, 0.9), logistic=False)
    assert reg.value_model(plain) == "lightgbm"
    assert reg.value_model(close) == "logistic"  # training's default
    before = sorted((p.name, p.stat().st_mtime_ns) for p in folder.rglob("*"))
    assert reg.choose_value_model(close, "lightgbm", by="ana") == "lightgbm"
    assert Registry(tmp_path).value_model(close) == "lightgbm"  # read again: kept
    assert Registry(tmp_path).value_model_choice(close)["by"] == "ana"
    assert sorted((p.name, p.stat().st_mtime_ns) for p in folder.rglob("*")) == before
    with pytest.raises(Conflict, match="no logistic value model"):
        reg.choose_value_model(old, "logistic")
    with pytest.raises(Conflict, match="unknown value model"):
        reg.choose_value_model(plain, "xgboost")


def test_the_gate_compares_the_value_model_each_version_serves(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    champion, _ = _version(reg, _metrics(0.90, 0.90))
    reg.promote(champion)
    # the challenger's LightGBM is better, but it serves a logistic model that is worse
    challenger, _ = _version(reg, _metrics(0.93, 0.89))
    reg.choose_value_model(challenger, "logistic")
    with pytest.raises(
        Conflict, match=r"value\.auc \(logistic vs lightgbm\) \(0\.8900 < 0\.9000\)"
    ):
        reg.promote(challenger)
    reg.choose_value_model(challenger, "lightgbm")
    reason = reg.promote(challenger, note="LightGBM beats its logistic baseline")
    assert "value.auc (lightgbm vs lightgbm) 0.9300 vs 0.9000" in reason
    decision = reg.decision(challenger)
    assert decision is not None and decision["reason"].endswith("beats its logistic baseline")


def test_the_service_serves_the_chosen_model(tmp_path: Path) -> None:
    """ValueService reads the registry's choice: logistic probabilities and reasons."""
    from training.value_trainer import ValueTrainer

    X, y = _table(600)
    reg = Registry(tmp_path / "models")
    version, folder = reg.create()
    ValueTrainer(n_estimators=30, early_stopping_rounds=0).fit(X, y).model_.save(folder / "value")
    logistic = LogisticBaseline().fit(X, y).model_
    logistic.save(folder / "logistic")
    reg.write_metrics(version, _metrics(0.9, 0.9))
    reg.write_meta(version, {"created": "2025-01-01"})
    settings = make_settings(tmp_path)

    lgb = ValueService.load(folder, settings)
    assert lgb.value_model == "lightgbm"
    reg.choose_value_model(version, "logistic")
    lr = ValueService.load(folder, settings)
    assert lr.value_model == "logistic"
    p = lr.probabilities(X)
    assert np.allclose(p, logistic.predict(X))
    assert not np.allclose(p, lgb.probabilities(X))


def test_cli_chooses_the_value_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from recsvc.cli import _common, app

    settings = make_settings(tmp_path)
    reg = Registry(settings.models_dir)
    version, _ = _version(reg, _metrics(0.9059, 0.9061))
    monkeypatch.setenv("RECSVC_MODELS_DIR", str(settings.models_dir))
    monkeypatch.setenv("RECSVC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RECSVC_DATABASE_URL", settings.database_url)
    _common.settings.cache_clear()
    try:
        runner = CliRunner()
        done = runner.invoke(app, ["models", "choose-value", version, "logistic"])
        assert done.exit_code == 0, done.output
        assert f"{version} serves its logistic value model" in done.output
        assert "* logistic" in done.output and "0.9061" in done.output
        assert Registry(settings.models_dir).value_model(version) == "logistic"
        refused = runner.invoke(app, ["models", "choose-value", version, "forest"])
        assert isinstance(refused.exception, Conflict)
    finally:
        _common.settings.cache_clear()
