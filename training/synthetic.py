"""A small, fast synthetic :class:`~recsvc.store.frames.Frames` builder with known signal.

Used by the value-model tests (and for development before demo data exists). Each
client has a latent R&D strength and loyalty; commissions arrive as a Poisson process
whose rate grows with both; a value-added order follows a burst of commissions with a
probability that grows with R&D strength, loyalty and recent activity. So a model that
reads recency/frequency, R&D and loyalty features should beat chance clearly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsvc.store.frames import Frames

FIELDS = ("biomedicine", "new_materials", "environment", "agriculture", "electronics", "energy")
KINDS = ("enterprise", "in_house_institute", "research_institute", "university", "other")
PRODUCTS = ("industry_analysis", "field_trend", "key_tech_screening", "patent_analysis")
PURPOSES = (
    "project_approval",
    "achievement_appraisal",
    "patent_application",
    "product_development",
)


def synthetic_frames(
    n_clients: int = 400,
    seed: int = 0,
    start: str = "2015-01-01",
    end: str = "2025-12-31",
) -> Frames:
    """Build frames shaped exactly like :func:`recsvc.store.load_frames` output."""
    rng = np.random.default_rng(seed)
    t0, t1 = pd.Timestamp(start), pd.Timestamp(end)
    span = (t1 - t0).days
    ids = np.arange(1, n_clients + 1)
    rd = rng.normal(size=n_clients)
    loyal = 0.5 * rd + rng.normal(size=n_clients) * 0.85
    reg_day = rng.integers(0, int(span * 0.8), size=n_clients)
    registered = t0 + pd.to_timedelta(reg_day, unit="D")
    fields = rng.choice(FIELDS, size=n_clients)
    clients = pd.DataFrame(
        {
            "client_id": ids,
            "external_id": [f"C{i:05d}" for i in ids],
            "name_zh": [f"客户{i}" for i in ids],
            "name_en": [f"Client {i}" for i in ids],
            "kind": rng.choice(KINDS, size=n_clients, p=[0.5, 0.2, 0.1, 0.15, 0.05]),
            "enterprise_type": None,
            "park": None,
            "region": None,
            "industry_field": fields,
            "core_technologies": None,
            "core_products": None,
            "talent_count": np.maximum(0, np.round(np.exp(1.5 + 0.8 * rd))).astype(int),
            "patents_invention": rng.poisson(np.exp(1.0 + 0.9 * rd)),
            "patents_utility": rng.poisson(np.exp(1.2 + 0.5 * rd)),
            "patents_design": rng.poisson(0.5, size=n_clients),
            "patents_in_force": rng.poisson(np.exp(1.3 + 0.8 * rd)),
            "honours": [";".join(["award"] * k) or None for k in rng.poisson(np.exp(0.5 * rd))],
            "registered_on": registered,
            "account_manager": None,
            "extra": None,
        }
    )
    # commissions: Poisson process from registration to end, with a churn time
    rate = np.exp(-0.3 + 0.45 * loyal + 0.3 * rd)  # per year
    churn_days = rng.exponential(365 * 6 * np.exp(0.4 * loyal))
    active_days = np.minimum(span - reg_day, churn_days)
    n_comm = rng.poisson(rate * active_days / 365.25)
    cid = np.repeat(ids, n_comm)
    offs = rng.random(len(cid)) * np.repeat(active_days, n_comm)
    comm_day = np.repeat(reg_day, n_comm) + offs.astype(int)
    commissioned = t0 + pd.to_timedelta(comm_day, unit="D")
    idx = cid - 1
    commissions = pd.DataFrame(
        {
            "commission_id": np.arange(1, len(cid) + 1),
            "external_id": [f"K{i:06d}" for i in range(1, len(cid) + 1)],
            "client_id": cid,
            "title_zh": "项目",
            "title_en": "project",
            "keywords": None,
            "subject_area": np.where(rng.random(len(cid)) < 0.8, fields[idx], "other"),
            "search_scope": rng.choice(["domestic", "domestic_and_foreign"], size=len(cid)),
            "purpose": rng.choice(PURPOSES, size=len(cid)),
            "fee": np.round(rng.gamma(4, 600, size=len(cid)), 0),
            "industry_type": fields[idx],
            "commissioned_on": commissioned,
            "completed_on": commissioned + pd.to_timedelta(rng.integers(5, 40, len(cid)), "D"),
            "searcher": None,
            "recognition_score": np.clip(
                np.round(3.5 + 0.6 * loyal[idx] + rng.normal(0, 0.6, len(cid))), 1, 5
            ),
            "cooperation_score": np.clip(
                np.round(3.6 + 0.5 * loyal[idx] + rng.normal(0, 0.6, len(cid))), 1, 5
            ),
        }
    ).sort_values(["commissioned_on", "commission_id"], ignore_index=True)
    # orders follow commissions with a propensity driven by rd, loyalty and the field
    field_boost = {f: b for f, b in zip(FIELDS, np.linspace(-0.5, 0.7, len(FIELDS)), strict=True)}
    ci = commissions["client_id"].to_numpy() - 1
    logit = (
        -2.6
        + 0.9 * rd[ci]
        + 0.6 * loyal[ci]
        + commissions["industry_type"].map(field_boost).to_numpy()
    )
    buys = rng.random(len(ci)) < 1 / (1 + np.exp(-logit))
    src = commissions[buys]
    lag = rng.integers(20, 200, size=len(src))
    orders = pd.DataFrame(
        {
            "order_id": np.arange(1, len(src) + 1),
            "external_id": [f"O{i:06d}" for i in range(1, len(src) + 1)],
            "client_id": src["client_id"].to_numpy(),
            "product_id": 0,
            "commission_id": src["commission_id"].to_numpy(),
            "ordered_on": src["commissioned_on"].to_numpy() + pd.to_timedelta(lag, "D").to_numpy(),
            "amount": np.round(rng.gamma(3, 8000, size=len(src)), 0),
            "status": rng.choice(
                ["paid", "delivered", "cancelled"], size=len(src), p=[0.3, 0.65, 0.05]
            ),
            "product_code": rng.choice(PRODUCTS, size=len(src)),
        }
    )
    orders = orders[orders["ordered_on"] <= t1].sort_values("ordered_on", ignore_index=True)
    orders["product_id"] = orders["product_code"].map({p: i + 1 for i, p in enumerate(PRODUCTS)})
    products = pd.DataFrame(
        {
            "product_id": np.arange(1, len(PRODUCTS) + 1),
            "code": PRODUCTS,
            "name_zh": PRODUCTS,
            "name_en": PRODUCTS,
            "description_zh": "",
            "description_en": "",
            "category": "analysis",
            "price": 20000.0,
            "one_off": True,
            "eligible_kinds": None,
            "active": True,
        }
    )
    # interactions, feedback, complaints: a few per client, more for loyal ones
    n_int = rng.poisson(np.exp(0.8 + 0.4 * loyal) * active_days / 365.25 / 2)
    iid = np.repeat(ids, n_int)
    iday = np.repeat(reg_day, n_int) + (
        rng.random(len(iid)) * np.repeat(active_days, n_int)
    ).astype(int)
    interactions = pd.DataFrame(
        {
            "interaction_id": np.arange(1, len(iid) + 1),
            "external_id": [f"I{i:06d}" for i in range(1, len(iid) + 1)],
            "client_id": iid,
            "kind": rng.choice(
                ["visit", "call", "email", "training", "greeting", "push"], size=len(iid)
            ),
            "occurred_on": t0 + pd.to_timedelta(iday, unit="D"),
            "staff": None,
        }
    ).sort_values("occurred_on", ignore_index=True)
    fb = commissions.sample(frac=0.6, random_state=seed)
    fi = fb["client_id"].to_numpy() - 1
    score = np.clip(np.round(4.0 + 0.4 * loyal[fi] + rng.normal(0, 0.5, len(fb)), 1), 1, 5)
    feedback = pd.DataFrame(
        {
            "feedback_id": np.arange(1, len(fb) + 1),
            "external_id": [f"F{i:06d}" for i in range(1, len(fb) + 1)],
            "client_id": fb["client_id"].to_numpy(),
            "commission_id": fb["commission_id"].to_numpy(),
            "kind": "report",
            "received_on": fb["completed_on"].to_numpy() + np.timedelta64(3, "D"),
            "channel": "email",
            "overall": score,
            "experience": score,
            "quality": score,
            "attitude": score,
        }
    ).sort_values("received_on", ignore_index=True)
    cp = commissions.sample(frac=0.05, random_state=seed + 1)
    opened = cp["completed_on"].to_numpy() + np.timedelta64(2, "D")
    hours = rng.gamma(2, 12, size=len(cp))
    complaints = pd.DataFrame(
        {
            "complaint_id": np.arange(1, len(cp) + 1),
            "external_id": [f"P{i:05d}" for i in range(1, len(cp) + 1)],
            "client_id": cp["client_id"].to_numpy(),
            "commission_id": cp["commission_id"].to_numpy(),
            "severity": rng.choice(
                ["general", "serious", "critical"], size=len(cp), p=[0.6, 0.3, 0.1]
            ),
            "opened_at": opened,
            "responded_at": opened + pd.to_timedelta(hours, unit="h").to_numpy(),
            "resolved_at": opened + pd.to_timedelta(hours * 3, unit="h").to_numpy(),
            "category": "quality",
        }
    ).sort_values("opened_at", ignore_index=True)
    events = pd.DataFrame(
        {
            "event_id": pd.Series(dtype="int64"),
            "event": pd.Series(dtype="object"),
            "client_id": pd.Series(dtype="int64"),
            "item_code": pd.Series(dtype="object"),
            "impression_id": pd.Series(dtype="float64"),
            "surface": pd.Series(dtype="object"),
            "model_version": pd.Series(dtype="object"),
            "rank": pd.Series(dtype="float64"),
            "score": pd.Series(dtype="float64"),
            "reason": pd.Series(dtype="object"),
            "actor": pd.Series(dtype="object"),
            "occurred_at": pd.Series(dtype="datetime64[ns]"),
        }
    )
    return Frames(
        clients=clients,
        commissions=commissions,
        products=products,
        orders=orders,
        interactions=interactions,
        feedback=feedback,
        complaints=complaints,
        events=events,
    )
