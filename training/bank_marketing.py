"""The value trainer on real data: UCI Bank Marketing (Moro, Cortez & Rita, 2014).

A single-product propensity task like ours (will this client buy?). ``duration`` is
dropped because it is only known after the call. The same :class:`ValueTrainer`
(LightGBM + calibration on a held-out part of each training fold) is cross-validated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from training.metrics import classification_report
from training.value_trainer import ValueTrainer

LEAKY = ("duration",)
BANK_PARAMS: dict[str, Any] = {
    "n_estimators": 1500,
    "learning_rate": 0.02,
    "num_leaves": 15,
    "min_child_samples": 50,
    "calibration": "sigmoid",
    "n_jobs": 1,
}


def load_bank_marketing(path: Path | str) -> tuple[pd.DataFrame, pd.Series]:
    """Read ``bank-additional-full.csv`` (``;``-separated); one-hot categoricals; y = subscribed."""
    df = pd.read_csv(path, sep=";")
    y = (df.pop("y") == "yes").astype(int)
    df = df.drop(columns=[c for c in LEAKY if c in df.columns])
    df["pdays"] = df["pdays"].replace(999, np.nan)  # 999 = never contacted before
    categorical = [
        c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c])
    ]
    X = pd.get_dummies(df, columns=categorical, dtype=float)
    X.columns = [str(c).replace(".", "_").replace("-", "_") for c in X.columns]
    return X.astype(float), y


def cross_validate(
    X: pd.DataFrame,
    y: pd.Series,
    folds: int = 5,
    params: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Stratified k-fold metrics of :class:`ValueTrainer` (mean and per fold)."""
    params = {**BANK_PARAMS, **(params or {})}
    per_fold = []
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        trainer = ValueTrainer(**params).fit(X.iloc[train_idx], y.iloc[train_idx])
        per_fold.append(
            classification_report(y.iloc[test_idx], trainer.predict_proba(X.iloc[test_idx]))
        )
    keys = ("auc", "pr_auc", "brier", "lift@10%")
    return {
        "folds": folds,
        "mean": {k: float(np.mean([f[k] for f in per_fold])) for k in keys},
        "per_fold": per_fold,
        "params": params,
    }
