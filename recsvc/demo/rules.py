"""Every parameter of the demo world, in one place (documented in docs/demo-data.md).

The generator (:mod:`recsvc.demo.world`, :mod:`recsvc.demo.simulate`) reads only these
constants; :func:`rules_dict` writes them to ``truth/rules.json`` so tests and model
evaluations can check that a model recovers the rules that produced the data.

Rule numbers (R1 …, P1 …) match the sections of docs/demo-data.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from recsvc.demo.fields import FIELDS
from recsvc.store.enums import Purpose

# -- R1 time span ---------------------------------------------------------------
START = dt.date(2011, 1, 1)
END = dt.date(2025, 12, 31)
N_MONTHS = 180
"""Monthly simulation steps, 2011-01 … 2025-12."""
HALF_LIFE_MONTHS = 12.0
"""Half-life of every decayed state (field intensity, purposes, complaints)."""
DECAY = 0.5 ** (1.0 / HALF_LIFE_MONTHS)

# -- R2 clients -----------------------------------------------------------------
KIND_MIX: dict[str, float] = {
    "in_house_institute": 0.25,
    "enterprise": 0.50,
    "research_institute": 0.10,
    "university": 0.10,
    "individual": 0.03,
    "other": 0.02,
}
ACADEMIC_KINDS = ("in_house_institute", "research_institute", "university")
SHARE_BEFORE_2011 = 0.30
"""Clients already registered (2006-2010) when the data start; the rest arrive monthly."""
ARRIVAL_GROWTH = 0.04
"""Yearly log growth of the number of new clients."""
RD_LOYALTY_CORR = 0.30
"""Correlation of the latent R&D strength and loyalty (both standard normal)."""
RD_SHIFT: dict[str, float] = {
    "in_house_institute": 0.3,
    "enterprise": 0.0,
    "research_institute": 0.1,
    "university": 0.1,
    "individual": -1.5,
    "other": -0.8,
}
MAX_FIELD_LOG_GROWTH = 1.5
"""A field's popularity grows at most exp(1.5) ≈ 4.5-fold over its 2011 (or take-off) level."""
HOME_FIELD_SHARE = 0.72
SECOND_FIELD_SHARE = 0.18
"""A commission is in the home field, the client's second field, or (the rest) any field."""

# -- R3 commissions ---------------------------------------------------------------
COMMISSION_RATE: dict[str, float] = {
    "in_house_institute": 0.090,
    "enterprise": 0.075,
    "research_institute": 0.070,
    "university": 0.060,
    "individual": 0.030,
    "other": 0.035,
}
"""Base commissions per month of an active client (times the multiplier below)."""
RATE_COEF: dict[str, float] = {"loyalty": 0.45, "rd": 0.20, "demand": 0.15, "complaints": -0.35}
SEASON: tuple[float, ...] = (0.7, 0.6, 1.3, 1.3, 1.1, 1.0, 0.9, 0.8, 1.1, 1.2, 1.1, 0.9)
"""Monthly seasonality (project-approval rush in spring, year-end appraisal)."""
PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)
PURPOSE_MIX: dict[str, tuple[float, ...]] = {
    "in_house_institute": (0.40, 0.20, 0.15, 0.15, 0.03, 0.02, 0.05),
    "enterprise": (0.18, 0.12, 0.08, 0.22, 0.25, 0.10, 0.05),
    "research_institute": (0.35, 0.20, 0.15, 0.15, 0.07, 0.03, 0.05),
    "university": (0.40, 0.18, 0.20, 0.15, 0.02, 0.00, 0.05),
    "individual": (0.20, 0.10, 0.10, 0.40, 0.10, 0.05, 0.05),
    "other": (0.30, 0.20, 0.10, 0.10, 0.10, 0.10, 0.10),
}
PURPOSE_CONCENTRATION = 6.0
"""Dirichlet concentration of each client's own purpose mix around its kind's mix."""
PATENT_RD_COEF = 0.5
"""Patent-application share grows by exp(coef * rd) with R&D strength."""
PROCESS_PURPOSES = ("product_development", "project_approval")
"""A process/equipment title (工艺, 设备 …) counts as process development only with
these purposes."""
FEE_DOMESTIC = (800.0, 2500.0)
FEE_DOMESTIC_AND_FOREIGN = (1500.0, 5000.0)
"""Fee ranges in CNY by search scope (rounded to 100)."""
SHARE_ZH_ONLY = 0.10
SHARE_EN_ONLY = 0.015
DOMESTIC_SCOPE_SHARE = 0.55
DORMANCY_HAZARD = 0.006
"""Monthly probability that an active client goes dormant (times exp(-0.5 loyalty)
and 1 + complaint burden; individuals x3)."""

# -- R4 satisfaction, complaints ----------------------------------------------------
SAT_MEAN = 4.0
SAT_LATENT_COEF = 0.45
REPORT_FEEDBACK_SHARE = 0.6
QUARTERLY_RESPONSE = 0.30
COMPLAINT_RATE = 0.03
"""Complaints per commission (times exp(-0.8 satisfaction latent))."""
SEVERITY_MIX = {"general": 0.70, "serious": 0.22, "critical": 0.08}
SEVERITY_BURDEN = {"general": 0.5, "serious": 1.0, "critical": 1.5}
LATE_RESPONSE_SHARE = 0.25
UNRESOLVED_SHARE = 0.12
BAD_HANDLING_FACTOR = 2.0
"""A late or unresolved complaint weighs this much more on the complaint burden."""

# -- R5 purchases (value-added orders) ------------------------------------------------
PURCHASE_INTERCEPT = -6.3
PURCHASE_COEF: dict[str, float] = {
    "rd": 1.3,
    "demand": 0.3,
    "loyalty": 0.0,
    "field_intensity": 0.5,
    "patent": 0.5,
    "development": 0.4,
    "process": 0.4,
    "entry": 1.2,
    "award": 0.4,
    "satisfaction": 2.0,
    "complaints": -2.0,
    "prior_purchases": 0.8,
    "field_growth": 5.0,
    "contact": 0.35,
    "dormant": -0.3,
    "just_bought": -2.5,
    "pending": -2.5,
}
"""Monthly *need* logit = intercept + kind effect + Σ coef · state (see the docs)."""
KIND_EFFECT: dict[str, float] = {
    "in_house_institute": 0.2,
    "enterprise": 0.0,
    "research_institute": 0.0,
    "university": -0.1,
    "individual": -1.5,
    "other": -0.5,
}
FIELD_INTENSITY_OFFSET = 1.5
"""Field intensity counts as ``min(max(intensity - offset, 0), 2)``: about three
commissions in one field within two years switch the trigger on."""
PRODUCT_BASE: dict[str, float] = {
    "industry_analysis": 0.0,
    "trend_analysis": 0.0,
    "key_tech_screening": -0.2,
    "thematic_database": -0.6,
    "literature_patent_analysis": 0.0,
    "patent_analysis": 0.0,
    "competitor_intelligence": -0.1,
    "market_research": -0.1,
    "patent_navigation": -0.9,
    "patent_pre_assessment": -0.3,
    "tech_matching": 0.2,
    "citation_certification": -0.4,
    "discipline_report": -0.3,
    "embedded_service": -0.3,
    "literacy_training": 0.0,
    "literature_alerts": -0.2,
}
PRIOR_PURCHASES_CAP = 4
"""Prior purchases count as ``log1p(min(n, cap))``."""
JUST_BOUGHT_HALF_LIFE = 4.0
"""A purchase suppresses the next one (``just_bought`` decays with this half-life)."""
CHOICE_SHARPNESS = 3.0
"""Multiplies base + trigger scores before the softmax: higher = more deterministic."""
TRIGGER_WEIGHTS: dict[str, dict[str, float]] = {
    "field_intensity": {
        "trend_analysis": 2.4,
        "thematic_database": 2.1,
        "key_tech_screening": 1.9,
        "literature_alerts": 1.4,
    },
    "patent": {"patent_analysis": 2.6, "patent_pre_assessment": 1.7, "patent_navigation": 0.6},
    "development": {"market_research": 2.3, "competitor_intelligence": 2.3, "tech_matching": 2.0},
    "process": {"literature_patent_analysis": 3.0, "patent_analysis": 0.5},
    "entry": {
        "industry_analysis": 4.0,
        "market_research": 1.0,
        "competitor_intelligence": 0.8,
        "tech_matching": 1.0,
    },
    "award": {"citation_certification": 2.0},
    "academic": {
        "discipline_report": 2.8,
        "citation_certification": 0.8,
        "embedded_service": 0.9,
        "patent_navigation": 0.5,
    },
    "strong_loyal": {"literacy_training": 2.2, "embedded_service": 1.6, "literature_alerts": 0.8},
    "had_patent_analysis": {
        "patent_navigation": 2.6,
        "patent_pre_assessment": 1.4,
        "patent_analysis": -1.0,
    },
    "had_trend_analysis": {"key_tech_screening": 1.3, "thematic_database": 1.2},
    "had_thematic_database": {"literature_alerts": 1.8},
}
"""Which product a buyer chooses: softmax over base + Σ trigger value · weight."""
RECENT_ONE_OFF_PENALTY = -3.0
"""A one-off product bought in the last 12 months is rarely bought again."""
RECENT_RENEWABLE_PENALTY = -1.0
"""A renewable product (database, alerts, training …) bought in the last 12 months."""
NEED_BUDGET = 2
"""A client opens a new need only while it has fewer than this many needs pending plus
orders in the last 12 months (budget: one or two different products a year)."""
LAG_MIN_MONTHS = 2
LAG_SPAN = 8
LAG_P = 0.4
"""Sales cycle: a need converts ``LAG_MIN_MONTHS + Binomial(LAG_SPAN, LAG_P)`` months
after the trigger (2-10 months, mean 5.2)."""
CONVERT_BASE = 0.7
"""Probability that a due need becomes an order (at average satisfaction, no
complaints); the rest lapse."""
CONVERT_COEF: dict[str, float] = {"satisfaction": 1.0, "complaints": -1.0, "dormant": -1.0}
"""Conversion logit = logit(base) + Σ coef · state at the due month."""
ORDER_LINK_MONTHS = 18
"""An order links to the triggering commission when it is at most this old."""
CANCELLED_SHARE = 0.06
RECENT_QUOTED_SHARE = 0.3
"""Share of orders of the last three months still quoted (not yet paid)."""
OLD_PAID_SHARE = 0.15
"""Share of older orders paid but not yet marked delivered."""
AMOUNT_SIGMA = 0.15

# -- R6 interactions ------------------------------------------------------------------
INTERACTION_BASE = 0.02
INTERACTION_VALUE = 0.06
"""Monthly touch points = base + value · exp(0.5 rd + 0.3 loyalty) · (1.5 if a buyer)."""
INTERACTION_MIX = {
    "visit": 0.15,
    "call": 0.30,
    "email": 0.25,
    "training": 0.05,
    "greeting": 0.10,
    "push": 0.12,
    "meeting": 0.03,
}

# -- R7 segments (truth only) ------------------------------------------------------------
SEGMENT_STRONG_Q = 0.70
SEGMENT_AVERAGE_Q = 0.35


def field_growth(field_code: str, year: float) -> float:
    """Yearly log growth of a field's commission volume in ``year`` (R3)."""
    f = next(x for x in FIELDS if x.code == field_code)
    if f.since and year < f.since:
        return 0.0
    return f.growth


def rules_dict() -> dict[str, Any]:
    """All parameters as a JSON-ready dict (written to ``truth/rules.json``)."""
    out: dict[str, Any] = {}
    for name, value in globals().items():
        if name.isupper() and not name.startswith("_"):
            out[name.lower()] = value.isoformat() if isinstance(value, dt.date) else value
    out["fields"] = [
        {
            "code": f.code,
            "name_zh": f.name_zh,
            "name_en": f.name_en,
            "growth": f.growth,
            "since": f.since,
            "weight": f.weight,
            "academic": f.academic,
        }
        for f in FIELDS
    ]
    return out
