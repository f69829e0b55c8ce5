"""Evaluation metrics as pure functions of ``(y_true, score)`` (tested against naive loops)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def _arrays(y: object, s: object) -> tuple[np.ndarray, np.ndarray]:
    y_arr, s_arr = np.asarray(y, dtype=float).ravel(), np.asarray(s, dtype=float).ravel()
    if y_arr.shape != s_arr.shape:
        raise ValueError("y and score differ in length")
    return y_arr, s_arr


def roc_auc(y: object, score: object) -> float:
    """Area under the ROC curve (Mann-Whitney U with ties counted as one half)."""
    y_arr, s_arr = _arrays(y, score)
    pos = y_arr == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s_arr)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: object, score: object) -> float:
    """PR-AUC as average precision: mean of precision at each positive, ties grouped."""
    y_arr, s_arr = _arrays(y, score)
    n_pos = y_arr.sum()
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-s_arr, kind="mergesort")
    ys, ss = y_arr[order], s_arr[order]
    # evaluate only at the last index of each block of tied scores
    last = np.r_[ss[1:] != ss[:-1], True]
    tp = np.cumsum(ys)[last]
    k = (np.arange(1, len(ys) + 1))[last]
    precision = tp / k
    recall_gain = np.diff(np.r_[0.0, tp]) / n_pos
    return float(np.sum(precision * recall_gain))


def brier(y: object, prob: object) -> float:
    """Mean squared error of probabilities."""
    y_arr, p_arr = _arrays(y, prob)
    return float(np.mean((p_arr - y_arr) ** 2))


def lift_at(y: object, score: object, fraction: float = 0.1) -> float:
    """Positive rate in the top ``fraction`` by score divided by the overall rate.

    The top group is ``ceil(fraction * n)`` rows; ties at the boundary are broken by
    the original order (stable sort), as a librarian's list would be.
    """
    y_arr, s_arr = _arrays(y, score)
    base = y_arr.mean()
    if base == 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * len(y_arr))))
    top = np.argsort(-s_arr, kind="mergesort")[:k]
    return float(y_arr[top].mean() / base)


def lift_curve(y: object, score: object, bins: int = 10) -> pd.DataFrame:
    """Positive rate and lift per score decile (decile 1 = highest scores)."""
    y_arr, s_arr = _arrays(y, score)
    order = np.argsort(-s_arr, kind="mergesort")
    groups = np.array_split(y_arr[order], bins)
    base = y_arr.mean()
    rate = np.array([g.mean() if len(g) else np.nan for g in groups])
    cum = np.cumsum([g.sum() for g in groups]) / max(y_arr.sum(), 1)
    return pd.DataFrame(
        {"decile": np.arange(1, bins + 1), "rate": rate, "lift": rate / base, "cum_recall": cum}
    )


def calibration_table(y: object, prob: object, bins: int = 10) -> pd.DataFrame:
    """Mean predicted vs observed rate in equal-count bins of predicted probability."""
    y_arr, p_arr = _arrays(y, prob)
    order = np.argsort(p_arr, kind="mergesort")
    rows = [
        {"predicted": p_arr[idx].mean(), "observed": y_arr[idx].mean(), "n": len(idx)}
        for idx in np.array_split(order, bins)
        if len(idx)
    ]
    return pd.DataFrame(rows)


def classification_report(y: object, prob: object) -> dict[str, float]:
    """The four headline numbers: AUC, PR-AUC, Brier, lift in the top 10%."""
    y_arr, p_arr = _arrays(y, prob)
    return {
        "auc": roc_auc(y_arr, p_arr),
        "pr_auc": average_precision(y_arr, p_arr),
        "brier": brier(y_arr, p_arr),
        "lift@10%": lift_at(y_arr, p_arr, 0.1),
        "n": len(y_arr),
        "positive_rate": float(y_arr.mean()) if len(y_arr) else float("nan"),
    }
