"""Serving side of value discovery: calibrated value model, explanations, segments, CLV.

Example:
    >>> folder = Registry(settings.models_dir).active_path()     # doctest: +SKIP
    >>> svc = ValueService.load(folder, settings)                 # doctest: +SKIP
    >>> svc.explain_client(frames, client_id).reasons[0].text_en  # doctest: +SKIP
"""

from __future__ import annotations

from recsvc.value.clv import ClvModel, clv_summary
from recsvc.value.model import Reason, ValueModel
from recsvc.value.segments import (
    SEGMENT_LABELS,
    SEGMENTS,
    STRATEGIES,
    STRATEGY_LABELS,
    Action,
    assign_segments,
    segment_thresholds,
)
from recsvc.value.service import ClientScore, ValueService

__all__ = [
    "SEGMENTS",
    "SEGMENT_LABELS",
    "STRATEGIES",
    "STRATEGY_LABELS",
    "Action",
    "ClientScore",
    "ClvModel",
    "Reason",
    "ValueModel",
    "ValueService",
    "assign_segments",
    "clv_summary",
    "segment_thresholds",
]
