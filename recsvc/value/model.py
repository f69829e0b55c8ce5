"""The serving side of the value model: a LightGBM booster plus a probability calibrator.

Artifact folder (``version/value/``)::

    config.json      feature names, calibrator, training summary
    model.txt        LightGBM text model (no pickle)

``predict`` returns calibrated probabilities; ``explain`` turns LightGBM's per-feature
contributions (``pred_contrib``, log-odds) into short Chinese and English sentences.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from recsvc.errors import NotReady
from recsvc.features import FEATURES, FeatureDoc


@dataclass(frozen=True)
class Reason:
    """One factor of a client's score; ``contribution`` is in log-odds (+ raises)."""

    feature: str
    contribution: float
    value: float | None
    text_zh: str
    text_en: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_calibrator(calibrator: dict[str, Any], margin: np.ndarray) -> np.ndarray:
    """Map raw LightGBM margins to probabilities with a stored calibrator."""
    method = calibrator.get("method", "none")
    if method == "sigmoid":
        return 1.0 / (1.0 + np.exp(-(calibrator["a"] * margin + calibrator["b"])))
    if method == "isotonic":
        return np.interp(margin, calibrator["x"], calibrator["y"])
    return 1.0 / (1.0 + np.exp(-margin))


def reason_text(feature: str, value: float | None, contribution: float) -> tuple[str, str]:
    """A short bilingual sentence: what the factor is, its value, and its effect."""
    doc = FEATURES.get(feature, FeatureDoc(feature, feature.replace("_", " ")))
    vz, ve = doc.format(np.nan if value is None else float(value))
    up = contribution > 0
    zh = f"{doc.zh}为{vz}，{'提高' if up else '降低'}了价值评分"
    en = f"{doc.en[0].upper()}{doc.en[1:]}: {ve} ({'raises' if up else 'lowers'} the value score)"
    return zh, en


def top_reasons(contrib: pd.Series, values: pd.Series, k: int) -> list[Reason]:
    """The ``k`` largest raising and ``k`` most lowering of one client's contributions
    (log-odds by feature), as :class:`Reason` objects: raising ones first."""
    ups = contrib[contrib > 0].sort_values(ascending=False).head(k)
    downs = contrib[contrib < 0].sort_values().head(k)
    reasons = []
    for name, c in [*ups.items(), *downs.items()]:
        v = values[name]
        value = None if pd.isna(v) else float(v)
        zh, en = reason_text(str(name), value, float(c))
        reasons.append(Reason(str(name), float(c), value, zh, en))
    return reasons


class ValueModel:
    """A calibrated LightGBM classifier over :func:`recsvc.features.client_features`.

    Example:
        >>> model = ValueModel.load(version_dir / "value")      # doctest: +SKIP
        >>> p = model.predict(client_features(frames, cutoff))  # doctest: +SKIP
    """

    def __init__(
        self,
        booster: lgb.Booster,
        feature_names: list[str],
        calibrator: dict[str, Any] | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.booster = booster
        self.feature_names = list(feature_names)
        self.calibrator = calibrator or {"method": "none"}
        self.info = info or {}

    # -- scoring -------------------------------------------------------------------
    def _matrix(self, features: pd.DataFrame) -> pd.DataFrame:
        return features.reindex(columns=self.feature_names).astype(float)

    def margin(self, features: pd.DataFrame) -> np.ndarray:
        """Raw log-odds from the booster (before calibration)."""
        return np.asarray(self.booster.predict(self._matrix(features), raw_score=True), dtype=float)

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of a value-added purchase within the horizon."""
        if len(features) == 0:
            return np.zeros(0)
        return apply_calibrator(self.calibrator, self.margin(features))

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions (columns = features + ``bias``)."""
        X = self._matrix(features)
        contrib = np.asarray(self.booster.predict(X, pred_contrib=True))
        return pd.DataFrame(contrib, index=features.index, columns=[*self.feature_names, "bias"])

    def explain(self, features_row: pd.Series | pd.DataFrame, k: int = 3) -> list[Reason]:
        """The top ``k`` factors raising and the top ``k`` lowering one client's score.

        Args:
            features_row: one client's features (a Series, or a one-row DataFrame).
            k: how many factors of each sign.

        Returns:
            Raising factors first (largest first), then lowering ones (most negative first).
        """
        row = (
            features_row.to_frame().T
            if isinstance(features_row, pd.Series)
            else features_row.iloc[:1]
        )
        contrib = self.contributions(row).iloc[0].drop("bias")
        return top_reasons(contrib, self._matrix(row).iloc[0], k)

    def importance(self, kind: str = "gain") -> pd.Series:
        """Feature importance from the booster, largest first."""
        imp = self.booster.feature_importance(importance_type=kind)
        return pd.Series(imp, index=self.feature_names).sort_values(ascending=False)

    # -- persistence -----------------------------------------------------------------
    def save(self, folder: Path | str) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / "model.txt"))
        config = {
            "kind": "lightgbm-calibrated",
            "feature_names": self.feature_names,
            "calibrator": self.calibrator,
            "info": self.info,
        }
        (folder / "config.json").write_text(
            json.dumps(config, ensure_ascii=False, indent=2, default=str)
        )
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> ValueModel:
        folder = Path(folder)
        if not (folder / "model.txt").exists():
            raise NotReady(f"no value model in {folder}; run `recsvc train`")
        config = json.loads((folder / "config.json").read_text())
        booster = lgb.Booster(model_file=str(folder / "model.txt"))
        return cls(booster, config["feature_names"], config.get("calibrator"), config.get("info"))
