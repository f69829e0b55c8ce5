"""The champion/challenger gate: does a newly trained version beat the one in service?

A challenger is compared with the champion on :data:`GATE_METRICS` (value model AUC,
recommender NDCG@5), each read from ``metrics.json``; the value metrics are those of
the value model each version serves (:func:`served_metrics`). It wins when no gate
metric is worse and at least one is strictly better. :class:`~recsvc.registry.Registry`
finds the two versions' metrics and keeps the decision; this module only compares.

Example:
    >>> a = {"value": {"auc": 0.91}, "ranker": {"ndcg@5": 0.70}}
    >>> b = {"value": {"auc": 0.90}, "ranker": {"ndcg@5": 0.70}}
    >>> compare_metrics(a, b, challenger="v2", champion="v1")[0]
    True
"""

from __future__ import annotations

from typing import Any

__all__ = ["GATE_METRICS", "compare_metrics", "metric_at", "served_metrics"]

#: Metrics compared by the champion/challenger gate: (alternative paths in metrics.json,
#: higher is better). The first path found in both versions is compared.
GATE_METRICS: tuple[tuple[tuple[tuple[str, ...], ...], bool], ...] = (
    ((("value", "auc"),), True),
    ((("ranker", "ndcg@5"), ("ranker", "ranker_holdout_ndcg5"), ("ranker", "ndcg5")), True),
)


def metric_at(metrics: dict[str, Any], path: tuple[str, ...]) -> float | None:
    """The number at ``path`` in ``metrics``, or None when it is missing or not a number."""
    node: Any = metrics
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) else None


def served_metrics(metrics: dict[str, Any], value_model: str) -> dict[str, Any]:
    """``metrics`` with ``value`` holding the numbers of the value model that serves
    (the logistic baseline's when it does and they were measured)."""
    logistic = (metrics.get("baselines") or {}).get("logistic")
    if value_model == "logistic" and isinstance(logistic, dict):
        return {**metrics, "value": logistic}
    return metrics


def compare_metrics(
    ch: dict[str, Any],
    cm: dict[str, Any],
    *,
    challenger: str,
    champion: str,
    models: dict[str, tuple[str, str]] | None = None,
) -> tuple[bool, str]:
    """Whether metrics ``ch`` (of ``challenger``) beat ``cm`` (of ``champion``).

    Args:
        models: per metric group (``value``), the (challenger, champion) model each
            version serves; its metrics are compared and named in the reason.

    Returns:
        ``(wins, reason)``: the reason names the compared numbers or the first that is worse.
    """
    models = models or {"value": ("lightgbm", "lightgbm")}
    ch, cm = served_metrics(ch, models["value"][0]), served_metrics(cm, models["value"][1])
    better, compared = [], []
    for paths, higher in GATE_METRICS:
        found: list[tuple[tuple[str, ...], float, float]] = []
        for p in paths:
            va, vb = metric_at(ch, p), metric_at(cm, p)
            if va is not None and vb is not None:
                found.append((p, va, vb))
        if not found:
            continue
        path, a, b = found[0]
        name = ".".join(path)
        if path[0] in models:
            name += " ({} vs {})".format(*models[path[0]])
        compared.append(f"{name} {a:.4f} vs {b:.4f}")
        diff = (a - b) if higher else (b - a)
        if diff < 0:
            return False, f"{challenger} is worse on {name} ({a:.4f} < {b:.4f})"
        better.append(diff > 0)
    if not compared:
        return False, "no common metric to compare (use --force)"
    if not any(better):
        return False, f"{challenger} does not beat {champion}: " + ", ".join(compared)
    return True, ", ".join(compared)
