"""Each metric against a naive reference implementation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from training.metrics import (
    average_precision,
    brier,
    calibration_table,
    lift_at,
    lift_curve,
    roc_auc,
)


def naive_auc(y: np.ndarray, s: np.ndarray) -> float:
    pos, neg = s[y == 1], s[y == 0]
    total = 0.0
    for a, b in itertools.product(pos, neg):
        total += 1.0 if a > b else 0.5 if a == b else 0.0
    return total / (len(pos) * len(neg))


def naive_ap(y: np.ndarray, s: np.ndarray) -> float:
    """Precision at each distinct threshold, weighted by the recall it adds."""
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(s), reverse=True):
        chosen = s >= t
        tp = float(np.sum(y[chosen]))
        recall = tp / y.sum()
        ap += (tp / chosen.sum()) * (recall - prev_recall)
        prev_recall = recall
    return ap


def naive_lift(y: np.ndarray, s: np.ndarray, fraction: float) -> float:
    k = int(np.ceil(fraction * len(y)))
    ranked = sorted(range(len(y)), key=lambda i: (-s[i], i))[:k]
    return float(np.mean([y[i] for i in ranked]) / np.mean(y))


@pytest.fixture(params=[0, 1, 2])
def data(request: pytest.FixtureRequest) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(request.param)
    y = (rng.random(120) < 0.3).astype(int)
    s = np.round(rng.random(120) + 0.5 * y, 1)  # rounding creates ties
    return y, s


def test_auc(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    assert roc_auc(y, s) == pytest.approx(naive_auc(y, s))
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))


def test_average_precision(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    assert average_precision(y, s) == pytest.approx(naive_ap(y, s))
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))


def test_brier(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    p = np.clip(s / 2, 0, 1)
    assert brier(y, p) == pytest.approx(
        sum((pi - yi) ** 2 for pi, yi in zip(p, y, strict=True)) / len(y)
    )


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5])
def test_lift(data: tuple[np.ndarray, np.ndarray], fraction: float) -> None:
    y, s = data
    assert lift_at(y, s, fraction) == pytest.approx(naive_lift(y, s, fraction))
    assert lift_at(y, s, 1.0) == pytest.approx(1.0)


def test_edges_and_tables() -> None:
    assert np.isnan(roc_auc([1, 1], [0.2, 0.3]))
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    y = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    s = np.arange(10)[::-1].astype(float)
    lc = lift_curve(y, s, bins=5)
    assert lc["lift"].iloc[0] == pytest.approx(2.5) and lc["cum_recall"].iloc[-1] == 1.0
    ct = calibration_table(y, s / 10, bins=2)
    assert ct["n"].sum() == 10 and ct["observed"].iloc[1] == pytest.approx(0.4)
