"""Client segments of seed 000 Table 4, plus new and dormant clients, and their strategies.

Rules, first match wins (quantiles are taken over *active* clients, i.e. neither new
nor dormant, and stored with the model so one client can be scored alone):

- ``dormant``: no commission (or value-added purchase) for ``settings.dormant_months``
  (a client that never commissioned and registered that long ago is dormant too);
- ``new``: first commission less than ``settings.new_client_months`` ago (or
  registered that recently and no commission yet);
- ``key``: strong R&D (``rd_strength`` ≥ the ``segment_rd_strong_quantile``) and high
  loyalty (``loyalty_score`` ≥ the ``segment_loyalty_high_quantile``);
- ``potential``: strong R&D and at least average loyalty, or at least average R&D and
  high loyalty ("average" = at or above the ``*_average_quantile``);
- ``general``: everyone else (watch).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.store.labels import SEGMENT_CODES, VOCABULARIES

SEGMENTS: tuple[str, ...] = SEGMENT_CODES


@dataclass(frozen=True)
class Action:
    """A relationship action of a segment strategy; ``item_code`` is used in events."""

    code: str
    name_zh: str
    name_en: str

    @property
    def item_code(self) -> str:
        return f"action:{self.code}"


#: ``(zh, en)`` name of each segment as a result carries it: "重点用户", "key client".
SEGMENT_LABELS: dict[str, tuple[str, str]] = {
    code: (lab.zh, f"{lab.en.lower()} client") for code, lab in VOCABULARIES["segment"].items()
}

STRATEGY_LABELS: dict[str, tuple[str, str]] = {
    "key": ("重点服务", "focus"),
    "potential": ("重点培养", "cultivate"),
    "general": ("关注", "keep watching"),
    "new": ("引导", "onboard"),
    "dormant": ("唤醒", "win back"),
}

STRATEGIES: dict[str, list[Action]] = {
    "key": [
        Action("fixed_contact", "固定联系人", "assign a fixed contact person"),
        Action(
            "onsite_training", "免费上门信息素养培训", "free on-site information-literacy training"
        ),
        Action("return_visit", "不定期回访", "irregular return visits"),
        Action("service_agreement", "签订服务协议", "sign a service agreement"),
    ],
    "potential": [
        Action("product_push", "定期免费推送服务产品", "periodic free pushes of service products"),
        Action("holiday_greeting", "节日问候", "holiday greetings"),
        Action("steady_contact", "保持稳定联系", "keep steady contact"),
    ],
    "general": [
        Action("watch", "持续关注", "keep an eye on their needs"),
    ],
    "new": [
        Action(
            "welcome_call",
            "首次委托后回访并介绍增值服务",
            "follow-up call introducing value-added services",
        ),
        Action("product_push", "定期免费推送服务产品", "periodic free pushes of service products"),
    ],
    "dormant": [
        Action("reactivation_visit", "回访了解需求变化", "return visit to learn changed needs"),
        Action("holiday_greeting", "节日问候", "holiday greetings"),
    ],
}


def _flags(features: pd.DataFrame, settings: Settings) -> tuple[pd.Series, pd.Series]:
    first = features["months_since_first_commission"]
    idle = features["months_since_last_activity"]
    registered = features.get("months_since_registration", pd.Series(np.nan, index=features.index))
    never = features["n_commissions"].fillna(0) <= 0
    dormant = (idle >= settings.dormant_months) | (
        never & (registered.fillna(np.inf) >= settings.dormant_months)
    )
    new = ~dormant & ((first < settings.new_client_months) | never)
    return new, dormant


def segment_thresholds(features: pd.DataFrame, settings: Settings) -> dict[str, float]:
    """R&D and loyalty quantile thresholds over the active (not new/dormant) clients."""
    new, dormant = _flags(features, settings)
    active = features[~new & ~dormant]
    if active.empty:
        active = features
    rd, loyal = active["rd_strength"], active["loyalty_score"]
    return {
        "rd_strong": float(rd.quantile(settings.segment_rd_strong_quantile)),
        "rd_average": float(rd.quantile(settings.segment_rd_average_quantile)),
        "loyalty_high": float(loyal.quantile(settings.segment_loyalty_high_quantile)),
        "loyalty_average": float(loyal.quantile(settings.segment_loyalty_average_quantile)),
    }


def assign_segments(
    features: pd.DataFrame, settings: Settings, thresholds: dict[str, float] | None = None
) -> pd.Series:
    """``key | potential | general | new | dormant`` for each client (index kept).

    Args:
        features: output of :func:`recsvc.features.client_features`.
        settings: supplies ``dormant_months``, ``new_client_months`` and the quantiles.
        thresholds: stored thresholds (:func:`segment_thresholds`); computed from
            ``features`` when omitted.
    """
    th = thresholds or segment_thresholds(features, settings)
    new, dormant = _flags(features, settings)
    rd, loyal = features["rd_strength"], features["loyalty_score"]
    rd_strong, rd_avg = rd >= th["rd_strong"], rd >= th["rd_average"]
    lo_high, lo_avg = loyal >= th["loyalty_high"], loyal >= th["loyalty_average"]
    seg = np.select(
        [dormant, new, rd_strong & lo_high, (rd_strong & lo_avg) | (rd_avg & lo_high)],
        ["dormant", "new", "key", "potential"],
        default="general",
    )
    return pd.Series(seg, index=features.index, name="segment")
