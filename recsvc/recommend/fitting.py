"""Who fits the ranker's LightGBM models: here, or (training's choice) on a cluster.

:class:`~recsvc.recommend.ranker.Ranker` hands its stacked matrices to a
:class:`BoosterFitter`; :class:`LocalFitter` is LightGBM's own estimators in this process.
Training passes ``training.cluster.ClusterFitter`` to fit on a Dask cluster; the serving
side never imports Dask.
"""

from __future__ import annotations

from typing import Any, Protocol

import lightgbm as lgb
import numpy as np
import pandas as pd

__all__ = ["BoosterFitter", "LocalFitter"]


class BoosterFitter(Protocol):
    """Fits the ranker's two LightGBM models; training may fit them on a cluster."""

    def ranker(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        params: dict[str, Any],
        categorical: list[str],
    ) -> lgb.Booster:
        """A lambdarank booster over query groups of consecutive rows."""
        ...

    def classifier(
        self, X: pd.DataFrame, y: np.ndarray, params: dict[str, Any], categorical: list[str]
    ) -> lgb.Booster:
        """A binary classifier booster."""
        ...


class LocalFitter:
    """LightGBM's own estimators in this process."""

    def ranker(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        groups: np.ndarray,
        params: dict[str, Any],
        categorical: list[str],
    ) -> lgb.Booster:
        model = lgb.LGBMRanker(objective="lambdarank", **params)
        model.fit(X, y, group=groups, categorical_feature=categorical)
        return model.booster_

    def classifier(
        self, X: pd.DataFrame, y: np.ndarray, params: dict[str, Any], categorical: list[str]
    ) -> lgb.Booster:
        model = lgb.LGBMClassifier(objective="binary", **params)
        model.fit(X, y, categorical_feature=categorical)
        return model.booster_
