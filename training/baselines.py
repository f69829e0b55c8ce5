"""Baselines the value model must beat: an RFM heuristic and logistic regression."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from recsvc.value.logistic import LogisticValueModel


def _quintile(s: pd.Series, higher_is_better: bool) -> pd.Series:
    ranked = (s if higher_is_better else -s).rank(method="average", pct=True)
    return np.ceil(ranked * 5).clip(1, 5)


def rfm_score(features: pd.DataFrame) -> pd.Series:
    """The classic RFM heuristic: R, F and M quintile scores (1-5) summed, rescaled to [0, 1].

    R = months since the last commission or purchase (never = worst), F = commissions
    in the last 24 months, M = total spend (commission fees plus value-added spend).
    """
    recency = features["months_since_last_activity"].fillna(1e6)
    r = _quintile(recency, higher_is_better=False)
    f = _quintile(features["n_commissions_24m"].fillna(0), higher_is_better=True)
    m = _quintile(features["spend_total"].fillna(0), higher_is_better=True)
    return ((r + f + m - 3) / 12).rename("rfm")


class LogisticBaseline:
    """Median imputation (with missing indicators), standardisation, L2 logistic regression.

    Fitted with scikit-learn; ``model_`` is the serving-side
    :class:`~recsvc.value.logistic.LogisticValueModel` holding the fitted numbers, so a
    version can serve this baseline without scikit-learn or ``training``.
    """

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X: pd.DataFrame, y: Any) -> LogisticBaseline:
        self.feature_names_ = list(X.columns)
        pipeline = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(C=self.C, max_iter=self.max_iter),
        ).fit(X.astype(float), np.asarray(y, dtype=int))
        imputer, scaler, lr = (step for _, step in pipeline.steps)
        indicator = imputer.indicator_
        self.model_ = LogisticValueModel(
            self.feature_names_,
            medians=imputer.statistics_,
            indicators=[] if indicator is None else indicator.features_,
            mean=scaler.mean_,
            scale=scaler.scale_,
            coef=lr.coef_[0],
            intercept=float(lr.intercept_[0]),
            info={"params": {"C": self.C, "max_iter": self.max_iter}, "n_train": len(X)},
        )
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict(X)
