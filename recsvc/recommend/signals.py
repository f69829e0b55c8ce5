"""Why now: timing signals of a client that do not depend on the offered product.

The fields of the client's recent projects gaining commissions faster than most
clients' (``client_fields_momentum``), or its satisfaction falling more than most
(``satisfaction_trend``), read from the serving context's client features and told
against every client's value (a percentile computed at serve time).
"""

from __future__ import annotations

from typing import Any

from recsvc.features.phrasing import as_float, share_above, share_below
from recsvc.recommend import reasons
from recsvc.recommend.context import RecContext
from recsvc.recommend.offer import Evidence

__all__ = ["WHY_NOW_PERCENTILE", "feature_value", "why_now"]

#: Percentile from which a field's momentum or a satisfaction dip is a "why now".
WHY_NOW_PERCENTILE = 75


def feature_value(context: RecContext, client_id: int, feature: str) -> tuple[float | None, Any]:
    """One client's value of a client feature and every client's (its population);
    ``(None, None)`` without features, the column or the client."""
    feats = context.features
    if feats is None or feature not in feats or client_id not in feats.index:
        return None, None
    column = feats[feature]
    return as_float(column.loc[client_id]), column.to_numpy()


def why_now(context: RecContext, client_id: int) -> list[Evidence]:
    """The client's timing signals (see the module docstring), strongest kinds first."""
    out: list[Evidence] = []
    value, population = feature_value(context, client_id, "client_fields_momentum")
    if value is not None and value > 0 and population is not None:
        share = share_below(value, population)
        if share >= WHY_NOW_PERCENTILE:
            out.append(reasons.momentum(share))
    value, population = feature_value(context, client_id, "satisfaction_trend")
    if value is not None and value < 0 and population is not None:
        share = share_above(value, population)
        if share >= WHY_NOW_PERCENTILE:
            out.append(reasons.satisfaction_dip(share))
    return out
