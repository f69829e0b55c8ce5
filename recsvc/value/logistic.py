"""The serving side of the logistic value model: plain coefficients, no scikit-learn.

Training fits the baseline with scikit-learn (:class:`training.baselines.LogisticBaseline`:
median imputation with missing-value indicators, standardisation, L2 logistic
regression) and keeps what prediction needs here. Artifact folder
(``version/logistic/``)::

    config.json      feature names, medians, indicator columns, scaler mean and scale,
                     coefficients and intercept (plain JSON: no pickle)

A feature's contribution to one client's score is its coefficient times its
standardised value (log-odds relative to the average client); a missing value's
indicator adds to the same feature. ``explain`` phrases the largest ones like the
LightGBM model's.

Example:
    >>> model = LogisticValueModel.load(version_dir / "logistic")     # doctest: +SKIP
    >>> model.predict(client_features(frames, cutoff))                # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.errors import NotReady
from recsvc.value.model import Reason, top_reasons

__all__ = ["LogisticValueModel"]

KIND = "logistic"


class LogisticValueModel:
    """A fitted logistic regression over :func:`recsvc.features.client_features`.

    Args:
        feature_names: input columns, in order.
        medians: the value imputed for a missing input, per feature.
        indicators: indices (into ``feature_names``) of the features that get a
            missing-value indicator column after the imputed ones.
        mean, scale: the standardisation of the imputed columns followed by the
            indicator columns.
        coef, intercept: the regression on the standardised columns.
        info: a training summary (kept in ``config.json``).
    """

    def __init__(
        self,
        feature_names: list[str],
        medians: Any,
        indicators: Any,
        mean: Any,
        scale: Any,
        coef: Any,
        intercept: float,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.feature_names = list(feature_names)
        self.medians = np.asarray(medians, dtype=float)
        self.indicators = np.asarray(indicators, dtype=int)
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.coef = np.asarray(coef, dtype=float)
        self.intercept = float(intercept)
        self.info = info or {}
        width = len(self.feature_names) + len(self.indicators)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == width):
            raise ValueError(f"logistic model columns do not add up to {width}")

    # -- scoring -------------------------------------------------------------------
    def _standardised(self, features: pd.DataFrame) -> np.ndarray:
        """Imputed inputs, then indicator columns, standardised (rows × columns)."""
        X = features.reindex(columns=self.feature_names).to_numpy(dtype=float)
        missing = np.isnan(X)
        imputed = np.where(missing, self.medians, X)
        wide = np.hstack([imputed, missing[:, self.indicators].astype(float)])
        return (wide - self.mean) / self.scale

    def margin(self, features: pd.DataFrame) -> np.ndarray:
        """Log-odds of a purchase within the horizon."""
        return self._standardised(features) @ self.coef + self.intercept

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Probability of a value-added purchase within the horizon."""
        if len(features) == 0:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.margin(features)))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions (coefficient × standardised value; a missing
        value's indicator is added to its feature) plus ``bias`` (the intercept)."""
        terms = self._standardised(features) * self.coef
        n = len(self.feature_names)
        per_feature = terms[:, :n].copy()
        for j, feature in enumerate(self.indicators):
            per_feature[:, feature] += terms[:, n + j]
        out = pd.DataFrame(per_feature, index=features.index, columns=self.feature_names)
        out["bias"] = self.intercept
        return out

    def explain(self, features_row: pd.Series | pd.DataFrame, k: int = 3) -> list[Reason]:
        """The top ``k`` factors raising and the top ``k`` lowering one client's score
        (raising ones first), as :meth:`recsvc.value.ValueModel.explain` gives them."""
        row = (
            features_row.to_frame().T
            if isinstance(features_row, pd.Series)
            else features_row.iloc[:1]
        )
        contrib = self.contributions(row).iloc[0].drop("bias")
        values = row.reindex(columns=self.feature_names).astype(float).iloc[0]
        return top_reasons(contrib, values, k)

    def importance(self, kind: str = "coef") -> pd.Series:
        """Absolute standardised coefficients per feature (indicators added), largest first."""
        weight = np.abs(self.coef[: len(self.feature_names)]).copy()
        for j, feature in enumerate(self.indicators):
            weight[feature] += abs(self.coef[len(self.feature_names) + j])
        return pd.Series(weight, index=self.feature_names).sort_values(ascending=False)

    # -- persistence -----------------------------------------------------------------
    def save(self, folder: Path | str) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": KIND,
            "feature_names": self.feature_names,
            "medians": self.medians.tolist(),
            "indicators": self.indicators.tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept,
            "info": self.info,
        }
        (folder / "config.json").write_text(
            json.dumps(config, ensure_ascii=False, indent=2, default=str)
        )
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> LogisticValueModel:
        folder = Path(folder)
        path = folder / "config.json"
        if not path.exists():
            raise NotReady(f"no logistic value model in {folder}; run `recsvc train`")
        c = json.loads(path.read_text())
        if c.get("kind") != KIND:
            raise NotReady(f"{path} is not a logistic value model")
        return cls(
            c["feature_names"],
            c["medians"],
            c["indicators"],
            c["mean"],
            c["scale"],
            c["coef"],
            c["intercept"],
            c.get("info"),
        )
