"""Relationship stage (Dwyer et al., via seed 003): rules on point-in-time features.

Stages and the rules that assign them, first match wins:

0. ``awareness``   — registered, no commission yet.
4. ``dissolution`` — has done business, but none (commission or purchase) for
   ``dormant_months``.
3. ``commitment``  — two or more value-added purchases, or one purchase and five or
   more commissions: the client depends on the centre beyond single reports.
2. ``expansion``   — three or more commissions, or one value-added purchase.
1. ``exploration`` — one or two commissions and no value-added purchase: trying us out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.store.labels import STAGE_CODES, VOCABULARIES

#: ``Settings.dormant_months``' default, for callers that pass no settings.
DORMANT_MONTHS: int = Settings.model_fields["dormant_months"].default

STAGES: tuple[str, ...] = STAGE_CODES
#: ``(zh, en)`` name of each stage as a result carries it: "认知", "awareness".
STAGE_LABELS: dict[str, tuple[str, str]] = {
    code: (lab.zh, lab.en.lower()) for code, lab in VOCABULARIES["stage"].items()
}


def relationship_stage(
    features: pd.DataFrame, *, dormant_months: int = DORMANT_MONTHS
) -> pd.Series:
    """The stage code (index into :data:`STAGES`) for each row of ``features``."""
    n_comm = features["n_commissions"].fillna(0)
    n_buy = features["n_purchases"].fillna(0)
    idle = features["months_since_last_activity"]
    conditions = [
        n_comm <= 0,
        idle >= dormant_months,
        (n_buy >= 2) | ((n_buy >= 1) & (n_comm >= 5)),
        (n_comm >= 3) | (n_buy >= 1),
    ]
    codes = np.select(conditions, [0, 4, 3, 2], default=1)
    return pd.Series(codes, index=features.index, name="relationship_stage")


def stage_names(codes: pd.Series) -> pd.Series:
    """Stage codes as names."""
    return codes.astype(int).map(dict(enumerate(STAGES)))
