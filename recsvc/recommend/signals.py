"""Why now: timing signals of a client, read from the serving context.

The fields of the client's recent projects gaining commissions faster than most
clients' (``client_fields_momentum``), or its satisfaction falling more than most
(``satisfaction_trend``), read from the context's client features and told against
every client's value (a percentile computed at serve time); and, per product, a
decline whose cool-down (``decline_cooldown_days``) has just ended.
"""

from __future__ import annotations

import pandas as pd

from recsvc.features.phrasing import Population, as_float
from recsvc.recommend import reasons
from recsvc.recommend.context import RecContext
from recsvc.recommend.offer import Evidence

__all__ = ["WHY_NOW_PERCENTILE", "cooldown_ended", "feature_value", "why_now"]

#: Percentile from which a field's momentum or a satisfaction dip is a "why now".
WHY_NOW_PERCENTILE = 75


def feature_value(
    context: RecContext, client_id: int, feature: str
) -> tuple[float | None, Population | None]:
    """One client's value of a client feature and every client's (its population);
    ``(None, None)`` without features, the column or the client."""
    value = context.feature(feature, client_id)
    if value is None:
        return None, None
    return as_float(value), context.population(feature)


def why_now(context: RecContext, client_id: int) -> list[Evidence]:
    """The client's timing signals (see the module docstring), strongest kinds first."""
    out: list[Evidence] = []
    value, population = feature_value(context, client_id, "client_fields_momentum")
    if value is not None and value > 0 and population is not None:
        share = population.below(value)
        if share >= WHY_NOW_PERCENTILE:
            out.append(reasons.momentum(share))
    value, population = feature_value(context, client_id, "satisfaction_trend")
    if value is not None and value < 0 and population is not None:
        share = population.above(value)
        if share >= WHY_NOW_PERCENTILE:
            out.append(reasons.satisfaction_dip(share))
    return out


def cooldown_ended(context: RecContext, client_id: int, code: str) -> Evidence | None:
    """The client declined ``code`` and the cool-down has ended within as long again:
    the product may be offered again now (the decline's month is told)."""
    when = context.declines.get((int(client_id), str(code)))
    if when is None:
        return None
    days = int(getattr(context.settings, "decline_cooldown_days", 90))
    since = context.cutoff - when
    if not pd.Timedelta(days=days) <= since <= pd.Timedelta(days=2 * days):
        return None
    return reasons.cooldown_ended(when, days)
