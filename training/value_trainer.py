"""The value-model trainer: LightGBM plus a calibrator fitted on held-out (later) data.

Works on any numeric ``(X, y)``: the client features of a temporal backtest, or a
generic table such as the UCI bank-marketing benchmark. Calibration data is either
given (a later cutoff, the temporal way) or split off the training rows.

With a Dask cluster (:func:`training.cluster.session`) that wants the table's size,
the booster is fitted by ``lightgbm.DaskLGBMClassifier`` instead of ``lgb.train``. The
Dask estimators have no early stopping, so all ``n_estimators`` rounds are trained and
the model is cut where ``lgb.early_stopping`` would have stopped on the calibration
set (:func:`training.cluster.replay_early_stopping`); calibration is the same.

Example:
    >>> trainer = ValueTrainer().fit(X_train, y_train, X_cal, y_cal)  # doctest: +SKIP
    >>> trainer.predict_proba(X_test)                                # doctest: +SKIP
    >>> trainer.model_.save(version_dir / "value")                   # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from recsvc.value.model import ValueModel
from training.cluster_fit import fit_classifier, replay_early_stopping

if TYPE_CHECKING:
    from training.cluster import Cluster


def fit_calibrator(margin: np.ndarray, y: np.ndarray, method: str = "auto") -> dict[str, Any]:
    """Fit a Platt (sigmoid) or isotonic map from raw margins to probabilities.

    ``auto`` picks isotonic when there are at least 200 positives and 200 negatives
    (enough for a stable step function), Platt scaling otherwise.
    """
    y = np.asarray(y, dtype=int)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0 or n_neg == 0:
        return {"method": "none"}
    if method == "auto":
        method = "isotonic" if min(n_pos, n_neg) >= 200 else "sigmoid"
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4).fit(margin, y)
        return {
            "method": "isotonic",
            "x": iso.X_thresholds_.tolist(),
            "y": iso.y_thresholds_.tolist(),
        }
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), y)
    return {"method": "sigmoid", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


class ValueTrainer:
    """A calibrated LightGBM binary classifier (scikit-learn style estimator).

    Args:
        n_estimators: boosting rounds (upper bound when early stopping).
        learning_rate, num_leaves, min_child_samples, subsample, colsample_bytree,
        reg_lambda: LightGBM parameters.
        calibration: ``auto`` | ``sigmoid`` | ``isotonic`` | ``none``.
        calibration_fraction: share of rows held out for calibration when no
            calibration set is passed to ``fit``.
        early_stopping_rounds: stop when the calibration-set loss stops improving
            (0 disables).
        n_jobs: LightGBM threads.
        random_state: seed for LightGBM and the calibration split.
    """

    def __init__(
        self,
        *,
        n_estimators: int = 600,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 30,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        calibration: str = "sigmoid",
        calibration_fraction: float = 0.2,
        early_stopping_rounds: int = 50,
        n_jobs: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_fraction = calibration_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.n_jobs = n_jobs
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "num_threads": self.n_jobs,
            "seed": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _sklearn_params(self) -> dict[str, Any]:
        """:meth:`_lgb_params` under ``LGBMClassifier``'s names (for the Dask estimator)."""
        return {
            "objective": "binary",
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1 else 0,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            "random_state": self.random_state,
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _fit_booster(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        X_cal: pd.DataFrame,
        y_cal: np.ndarray,
        cluster: Cluster | None,
    ) -> lgb.Booster:
        """The booster, early-stopped on the calibration set when it has both classes."""
        stop = bool(self.early_stopping_rounds) and 0 < y_cal.sum() < len(y_cal)
        if cluster is not None and cluster.wants(len(X)):
            keys = X.index.get_level_values(-1) if isinstance(X.index, pd.MultiIndex) else None
            booster = fit_classifier(cluster, X, y, self._sklearn_params(), partition_keys=keys)
            if stop:
                best = replay_early_stopping(booster, X_cal, y_cal, self.early_stopping_rounds)
                booster = booster.model_from_string(booster.model_to_string(num_iteration=best))
            return booster
        train_set = lgb.Dataset(X, label=y, free_raw_data=False)
        callbacks: list[Any] = []
        valid = []
        if stop:
            valid = [lgb.Dataset(X_cal, label=y_cal, reference=train_set)]
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        booster = lgb.train(
            self._lgb_params(),
            train_set,
            num_boost_round=self.n_estimators,
            valid_sets=valid or None,
            callbacks=callbacks,
        )
        if valid and booster.best_iteration > 0:
            booster = booster.model_from_string(
                booster.model_to_string(num_iteration=booster.best_iteration)
            )
        return booster

    def fit(
        self,
        X: pd.DataFrame,
        y: Any,
        X_cal: pd.DataFrame | None = None,
        y_cal: Any = None,
        *,
        cluster: Cluster | None = None,
    ) -> ValueTrainer:
        """Fit the booster on ``(X, y)`` and the calibrator on ``(X_cal, y_cal)``.

        Without a calibration set, ``calibration_fraction`` of the rows (stratified)
        are held out for early stopping and calibration. With a ``cluster`` (see the
        module docstring) the booster may be fitted on it; rows of one client (the last
        index level) then stay on one worker.
        """
        X = pd.DataFrame(X).astype(float)
        y = np.asarray(y, dtype=int)
        if X_cal is None:
            X, X_cal, y, y_cal = train_test_split(
                X,
                y,
                test_size=self.calibration_fraction,
                stratify=y,
                random_state=self.random_state,
            )
        X_cal = pd.DataFrame(X_cal).reindex(columns=X.columns).astype(float)
        y_cal = np.asarray(y_cal, dtype=int)
        booster = self._fit_booster(X, y, X_cal, y_cal, cluster)
        model = ValueModel(booster, list(X.columns))
        calibrator = (
            {"method": "none"}
            if self.calibration == "none"
            else fit_calibrator(model.margin(X_cal), y_cal, self.calibration)
        )
        model.calibrator = calibrator
        model.info = {
            "params": self.get_params(),
            "n_train": len(y),
            "n_calibration": len(y_cal),
            "train_positive_rate": float(y.mean()),
            "best_iteration": int(booster.current_iteration()),
        }
        self.model_ = model
        self.feature_names_ = list(X.columns)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities of the positive class (1-D)."""
        return self.model_.predict(pd.DataFrame(X))
