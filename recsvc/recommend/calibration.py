"""Calibration maps of the ranker: raw scores to observed purchase frequencies.

A table is ``{"x": [...], "y": [...]}`` (isotonic steps) plus, when the labels have
both classes, ``"platt": [a, b]`` (a logistic map of ``logit(x)``); :func:`fit_table`
fits one and :func:`apply_table` applies it. Tables are plain JSON values, saved in
the ranker's ``config.json``.

Example:
    >>> table = fit_table(np.array([0.1, 0.4, 0.8]), np.array([0.0, 0.0, 1.0]))
    >>> apply_table(table, np.array([0.5])).shape
    (1,)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression

__all__ = ["apply_table", "fit_table", "softmax_rows"]


def softmax_rows(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Each row's softmax over its ``valid`` cells (the others ``0``)."""
    z = np.where(valid, raw, -np.inf)
    z = z - np.max(np.where(valid, z, -np.inf), axis=1, keepdims=True)
    e = np.where(valid, np.exp(z), 0.0)
    s = e.sum(axis=1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def _logit(x: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(x, dtype=float), 1e-6, 1.0 - 1e-6)
    return np.log(p / (1.0 - p))


def _platt(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Logistic (Platt) map ``[a, b]`` of ``logit(x)`` to ``y`` (strictly monotone)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4).fit(_logit(x).reshape(-1, 1), y.astype(int))
    return [float(lr.coef_[0, 0]), float(lr.intercept_[0])]


def fit_table(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Isotonic steps plus a Platt map; :func:`apply_table` blends the two.

    Isotonic regression alone is a step function: its top step is fitted on few pairs
    (often reaching 1.0) and every step is a tie. Averaging it with the smooth,
    strictly increasing Platt map keeps the observed frequencies on average and keeps
    scores ordered and below 1.
    """
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(x, y)
    table: dict[str, Any] = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    if len(np.unique(y)) == 2:
        table["platt"] = _platt(x, y)
    return table


def apply_table(table: dict[str, Any] | None, x: np.ndarray) -> np.ndarray:
    """``x`` mapped by ``table`` (clipped to ``[0, 1]`` without one)."""
    if not table or not table["x"]:
        return np.clip(x, 0.0, 1.0)
    iso = np.interp(x, table["x"], table["y"])
    platt = table.get("platt")
    if not platt:
        return iso
    a, b = platt
    return 0.5 * iso + 0.5 / (1.0 + np.exp(-(a * _logit(x) + b)))
