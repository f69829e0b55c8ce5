"""Which value model should serve: LightGBM against its own logistic baseline.

Training backtests three scorers on the same cutoff (``metrics.json``: ``value`` is
LightGBM, ``baselines.logistic`` and ``baselines.rfm``). When LightGBM's AUC does not
beat the logistic regression's by more than ``settings.simpler_model_tolerance``, the
simpler model is as good: training then records ``logistic`` as the version's default
value model (:func:`selection`), the models page says so, and the analyst may still
choose either (:meth:`recsvc.registry.Registry.choose_value_model`).

Example:
    >>> selection({"value": {"auc": 0.9059}, "baselines": {"logistic": {"auc": 0.9061}}},
    ...           tolerance=0.005)["default"]
    'logistic'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SCORERS", "ModelComparison", "ScorerRow", "compare", "selection"]

#: The scorers of a backtest: (name, path in metrics.json).
SCORERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("lightgbm", ("value",)),
    ("logistic", ("baselines", "logistic")),
    ("rfm", ("baselines", "rfm")),
)
COLUMNS = ("auc", "pr_auc", "brier")


@dataclass(frozen=True)
class ScorerRow:
    """One scorer's backtest numbers (``None`` where not measured)."""

    name: str
    auc: float | None
    pr_auc: float | None
    brier: float | None


@dataclass(frozen=True)
class ModelComparison:
    """LightGBM vs logistic vs RFM on one version's backtest.

    Attributes:
        rows: one per scorer that was measured.
        tolerance: the AUC margin LightGBM must beat the logistic baseline by.
        auc_gain: LightGBM's AUC minus the logistic baseline's (None if either is missing).
        simpler_as_good: the logistic baseline is within ``tolerance`` of LightGBM.
    """

    rows: list[ScorerRow]
    tolerance: float
    auc_gain: float | None
    simpler_as_good: bool


def _node(metrics: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any] | None:
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node if isinstance(node, dict) else None


def _number(node: dict[str, Any], key: str) -> float | None:
    value = node.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def compare(metrics: dict[str, Any], tolerance: float) -> ModelComparison:
    """The three scorers of ``metrics`` side by side, and whether the simpler is as good."""
    rows = []
    for name, path in SCORERS:
        node = _node(metrics, path)
        if node is not None:
            rows.append(ScorerRow(name, *(_number(node, c) for c in COLUMNS)))
    auc = {r.name: r.auc for r in rows}
    lgb, lr = auc.get("lightgbm"), auc.get("logistic")
    gain = None if lgb is None or lr is None else lgb - lr
    return ModelComparison(rows, tolerance, gain, gain is not None and gain <= tolerance)


def selection(metrics: dict[str, Any], tolerance: float) -> dict[str, Any]:
    """Training's default value model for a version, and why (kept in ``metrics.json``
    as ``value_selection``): ``logistic`` when LightGBM does not beat it by more than
    ``tolerance`` AUC, else ``lightgbm``."""
    c = compare(metrics, tolerance)
    if c.auc_gain is None:
        return {
            "default": "lightgbm",
            "tolerance": tolerance,
            "auc_gain": None,
            "reason": "no logistic baseline to compare with",
        }
    if c.simpler_as_good:
        reason = (
            f"LightGBM does not beat its logistic baseline by more than {tolerance:g} AUC "
            f"({c.auc_gain:+.4f}): the logistic model serves"
        )
        return {
            "default": "logistic",
            "tolerance": tolerance,
            "auc_gain": round(c.auc_gain, 6),
            "reason": reason,
        }
    reason = f"LightGBM beats its logistic baseline by {c.auc_gain:+.4f} AUC: LightGBM serves"
    return {
        "default": "lightgbm",
        "tolerance": tolerance,
        "auc_gain": round(c.auc_gain, 6),
        "reason": reason,
    }
