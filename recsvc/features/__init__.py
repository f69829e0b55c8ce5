"""Point-in-time client features, shared by training and live scoring.

Example:
    >>> X = client_features(frames, "2025-01-01")          # doctest: +SKIP
    >>> FEATURES["n_commissions_12m"].en                   # doctest: +SKIP
    'commissions in the last 12 months'
"""

from __future__ import annotations

from recsvc.features.builder import client_features
from recsvc.features.docs import FEATURES, FeatureDoc
from recsvc.features.stage import STAGE_LABELS, STAGES, relationship_stage, stage_names
from recsvc.features.today import business_today

__all__ = [
    "FEATURES",
    "STAGES",
    "STAGE_LABELS",
    "FeatureDoc",
    "business_today",
    "client_features",
    "relationship_stage",
    "stage_names",
]
