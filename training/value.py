"""Temporal backtest and final fit of the value model, with the two baselines.

With cutoffs ``C_0`` (newest with a complete label window) … ``C_n``:

- backtest: LightGBM on ``C_2 … C_n``, calibrated on ``C_1``, evaluated on ``C_0``;
  logistic regression on ``C_1 … C_n``; the RFM heuristic needs no training.
- production model: the same recipe shifted one year (trained on ``C_1 … C_n``,
  calibrated on ``C_0``), then used to score today; the production logistic model is
  trained on ``C_0 … C_n`` (it needs no calibration set) and saved beside it, so a
  version can serve either (:mod:`recsvc.value.choice`).

Every function takes an optional ``cluster`` (:func:`training.cluster.session`): the
LightGBM fits then run on it when the stacked table is large enough; the logistic
baseline and the calibrators are small and always fit here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recsvc.value.logistic import LogisticValueModel
from recsvc.value.model import ValueModel
from training.baselines import LogisticBaseline, rfm_score
from training.dataset import Snapshot, stack
from training.metrics import classification_report
from training.value_trainer import ValueTrainer

if TYPE_CHECKING:
    from training.cluster import Cluster

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 800,
    "learning_rate": 0.03,
    "num_leaves": 7,
    "min_child_samples": 50,
    "calibration": "sigmoid",
    "n_jobs": 1,
}
"""Chosen on the demo backtest (num_leaves 7/15/31, min_child_samples 20-100, isotonic
vs sigmoid): Platt scaling kept the ranking intact and gave the best Brier score."""


@dataclass
class ValueResult:
    """What the value step hands to the pipeline."""

    model: ValueModel
    metrics: dict[str, Any]
    backtest: pd.DataFrame
    logistic: LogisticValueModel | None = None


def _fit(
    params: dict[str, Any],
    train: list[Snapshot],
    cal: Snapshot | None,
    features: list[str] | None = None,
    cluster: Cluster | None = None,
) -> ValueTrainer:
    X, y = stack(train)
    if features is not None:
        X = X.reindex(columns=features)
    trainer = ValueTrainer(**params)
    if cal is None:
        return trainer.fit(X, y, cluster=cluster)
    return trainer.fit(X, y, cal.X.reindex(columns=X.columns), cal.y, cluster=cluster)


def backtest(
    snaps: list[Snapshot],
    params: dict[str, Any],
    features: list[str] | None = None,
    *,
    cluster: Cluster | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Evaluate the recipe at ``snaps[0]`` having trained only on older cutoffs."""
    ev = snaps[0]
    if len(snaps) >= 3:
        trainer = _fit(params, snaps[2:], snaps[1], features, cluster)
    else:
        trainer = _fit(params, snaps[1:], None, features, cluster)
    p_model = trainer.predict_proba(ev.X)
    X_lr, y_lr = stack(snaps[1:])
    lr = LogisticBaseline().fit(X_lr, y_lr)
    bt = pd.DataFrame(
        {
            "y": ev.y.to_numpy(),
            "p_model": p_model,
            "p_logistic": lr.predict_proba(ev.X),
            "p_rfm": rfm_score(ev.X).to_numpy(),
        },
        index=ev.X.index,
    )
    metrics = {
        "eval_cutoff": str(ev.cutoff.date()),
        "train_cutoffs": [
            str(s.cutoff.date()) for s in (snaps[2:] if len(snaps) >= 3 else snaps[1:])
        ],
        "calibration_cutoff": str(snaps[1].cutoff.date()) if len(snaps) >= 3 else None,
        "value": classification_report(bt["y"], bt["p_model"]),
        "baselines": {
            "rfm": classification_report(bt["y"], bt["p_rfm"]),
            "logistic": classification_report(bt["y"], bt["p_logistic"]),
        },
        "calibration": trainer.model_.calibrator.get("method"),
    }
    return metrics, bt


def train_value(
    snaps: list[Snapshot],
    params: dict[str, Any] | None = None,
    step: Callable[[str], None] | None = None,
    *,
    cluster: Cluster | None = None,
) -> ValueResult:
    """Backtest, then fit the production model one year later."""
    params = {**DEFAULT_PARAMS, **(params or {})}
    note = step or (lambda _msg: None)
    note("backtest at " + str(snaps[0].cutoff.date()))
    metrics, bt = backtest(snaps, params, cluster=cluster)
    note("final value model")
    final = _fit(params, snaps[1:], snaps[0], cluster=cluster)
    X_lr, y_lr = stack(snaps)
    logistic = LogisticBaseline().fit(X_lr, y_lr).model_
    logistic.info["train_cutoffs"] = [str(s.cutoff.date()) for s in snaps]
    model = final.model_
    model.info.update(
        {
            "train_cutoffs": [str(s.cutoff.date()) for s in snaps[1:]],
            "calibration_cutoff": str(snaps[0].cutoff.date()),
        }
    )
    metrics["final_model"] = {
        "train_cutoffs": model.info["train_cutoffs"],
        "calibration_cutoff": model.info["calibration_cutoff"],
        "best_iteration": model.info["best_iteration"],
    }
    return ValueResult(model=model, metrics=metrics, backtest=bt, logistic=logistic)


def rescore_champion(
    snaps: list[Snapshot], champion_meta: dict[str, Any], *, cluster: Cluster | None = None
) -> dict[str, Any]:
    """The champion's recipe (its params and feature list) on this backtest.

    Used when the champion was evaluated at another cutoff: the comparison must be on
    the same data, so the champion's configuration is re-fit on the same folds.
    """
    params = champion_meta.get("params", {}).get("value", DEFAULT_PARAMS)
    features = champion_meta.get("features")
    metrics, _ = backtest(snaps, params, features, cluster=cluster)
    return {
        "version": champion_meta.get("version"),
        "method": "refit",
        "value": metrics["value"],
        "baselines": metrics["baselines"],
    }


def lift_summary(bt: pd.DataFrame) -> dict[str, float]:
    """A compact comparison line for logs."""
    return {
        c: float(np.round(classification_report(bt["y"], bt[c])["auc"], 4))
        for c in bt
        if c.startswith("p_")
    }
