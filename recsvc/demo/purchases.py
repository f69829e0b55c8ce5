"""Value-added purchases of the demo simulation (rule R5): needs open, then convert.

Each month :func:`open_needs` draws which clients develop a need, for which product
(trigger weights × the client's state, eligibility by kind) and when it falls due;
:func:`convert` turns the needs falling due into orders with a probability, or lets
them lapse.
"""

from __future__ import annotations

import numpy as np

from recsvc.demo import rules as R
from recsvc.demo.state import P_INDEX, PRODUCTS, TRIGGERS, History, State
from recsvc.demo.world import KINDS, World
from recsvc.store.catalogue import CATALOGUE

#: Which commission an order links to, by the trigger that chose its product.
_LINK = {
    "field_intensity": "field",
    "patent": "patent",
    "had_patent_analysis": "patent",
    "development": "development",
    "entry": "entry",
    "process": "process",
    "award": "award",
    "had_trend_analysis": "field",
    "had_thematic_database": "field",
}


def weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Trigger→product weights, product base scores, eligibility (kinds × products)."""
    w = np.zeros((len(TRIGGERS), len(PRODUCTS)))
    for t, row in R.TRIGGER_WEIGHTS.items():
        for p, v in row.items():
            w[TRIGGERS.index(t), P_INDEX[p]] = v
    base = np.array([R.PRODUCT_BASE[p] for p in PRODUCTS])
    elig = np.ones((len(KINDS), len(PRODUCTS)), dtype=bool)
    for j, e in enumerate(CATALOGUE):
        if e.eligible_kinds is not None:
            elig[:, j] = [k in e.eligible_kinds for k in KINDS]
    return w, base, elig


def open_needs(
    w: World,
    st: State,
    h: History,
    rng: np.random.Generator,
    m: int,
    wmat: np.ndarray,
    pbase: np.ndarray,
    elig: np.ndarray,
    one_off: np.ndarray,
    growth_year: np.ndarray,
    kind_eff: np.ndarray,
    academic: np.ndarray,
    strong_loyal: np.ndarray,
) -> None:
    """Open new needs (R5): who, which product, and the month each falls due."""
    c = R.PURCHASE_COEF
    d = st.dec
    fi = np.minimum(np.maximum(st.intensity.max(axis=1) - R.FIELD_INTENSITY_OFFSET, 0), 2)
    trig = {
        "field_intensity": fi,
        "patent": np.minimum(d["patent"], 2),
        "development": np.minimum(d["development"], 2),
        "process": np.minimum(d["process"], 2),
        "entry": np.minimum(d["entry"], 1),
        "award": np.minimum(d["award"], 2) * academic,
    }
    logit = (
        R.PURCHASE_INTERCEPT
        + kind_eff
        + c["rd"] * w.rd
        + c["demand"] * w.demand
        + c["loyalty"] * w.loyalty
        + sum(c[k] * v for k, v in trig.items())
        + c["satisfaction"] * (st.sat - R.SAT_MEAN)
        + c["complaints"] * np.minimum(d["complaints"], 2)
        + c["prior_purchases"] * np.log1p(np.minimum(st.n_bought, R.PRIOR_PURCHASES_CAP))
        + c["field_growth"] * growth_year[w.home]
        + c["contact"] * np.minimum(d["contact"], 2)
        + c["dormant"] * (st.arrived & ~st.active)
        + c["just_bought"] * np.minimum(st.just_bought, 1.5)
    )
    logit = logit + c["pending"] * st.n_pending
    room = st.n_pending + ((m - st.bought_month) <= 12).sum(axis=1) < R.NEED_BUDGET
    buy = st.arrived & room & (rng.random(w.n) < 1 / (1 + np.exp(-logit)))
    idx = np.flatnonzero(buy)
    if not len(idx):
        return
    had = st.bought_month[idx] >= 0
    tv = np.stack(
        [
            trig["field_intensity"][idx],
            trig["patent"][idx],
            trig["development"][idx],
            trig["process"][idx],
            trig["entry"][idx],
            np.minimum(d["award"][idx], 2),
            academic[idx],
            strong_loyal[idx],
            had[:, P_INDEX["patent_analysis"]],
            had[:, P_INDEX["trend_analysis"]] | had[:, P_INDEX["key_tech_screening"]],
            had[:, P_INDEX["thematic_database"]],
        ],
        axis=1,
    ).astype(float)
    score = R.CHOICE_SHARPNESS * (pbase + tv @ wmat)
    recent = ((m - st.bought_month[idx]) <= 12) | st.pending_prod[idx]
    score = score + np.where(
        recent, np.where(one_off, R.RECENT_ONE_OFF_PENALTY, R.RECENT_RENEWABLE_PENALTY), 0.0
    )
    score = np.where(elig[w.kind[idx]], score, -np.inf)
    choice = np.argmax(score + rng.gumbel(size=score.shape), axis=1)
    contrib = tv * wmat[:, choice].T
    reason = np.where(contrib.max(axis=1) > 0, contrib.argmax(axis=1), -1)
    link = np.full(len(idx), -1, dtype=np.int64)
    for j, (i, r) in enumerate(zip(idx, reason, strict=True)):
        kind = _LINK.get(TRIGGERS[r]) if r >= 0 else None
        if kind == "field":
            link[j] = st.last_field[i, int(st.intensity[i].argmax())]
        elif kind is not None:
            link[j] = st.last[kind][i]
    lag = R.LAG_MIN_MONTHS + rng.binomial(R.LAG_SPAN, R.LAG_P, len(idx))
    st.n_pending[idx] += 1
    st.pending_prod[idx, choice] = True
    for d in np.unique(lag):
        sel = lag == d
        st.pending[m + int(d)].append(
            {
                "client": idx[sel],
                "product": choice[sel],
                "link": link[sel],
                "reason": reason[sel],
                "need_month": np.full(int(sel.sum()), m),
                "p": 1 / (1 + np.exp(-logit[idx[sel]])),
            }
        )


def convert(st: State, h: History, rng: np.random.Generator, m: int) -> None:
    """Needs due this month become orders (R5) with a probability, or lapse."""
    parts = st.pending.pop(m, [])
    if not parts:
        return
    need = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    idx, choice = need["client"], need["product"]
    np.subtract.at(st.n_pending, idx, 1)
    st.pending_prod[idx, choice] = False
    cc = R.CONVERT_COEF
    base = np.log(R.CONVERT_BASE / (1 - R.CONVERT_BASE))
    clogit = (
        base
        + cc["satisfaction"] * (st.sat[idx] - R.SAT_MEAN)
        + cc["complaints"] * np.minimum(st.dec["complaints"][idx], 2)
        + cc["dormant"] * (st.arrived[idx] & ~st.active[idx])
    )
    conv = rng.random(len(idx)) < 1 / (1 + np.exp(-clogit))
    if not conv.any():
        return
    idx, choice = idx[conv], choice[conv]
    u = rng.random((len(idx), 3))
    cancelled = u[:, 0] < R.CANCELLED_SHARE
    ok = ~cancelled
    st.n_bought[idx[ok]] += 1
    st.just_bought[idx[ok]] += 1.0
    st.bought_month[idx[ok], choice[ok]] = m
    o = h.orders
    o["client"].append(idx)
    o["month"].append(np.full(len(idx), m))
    o["product"].append(choice)
    for key in ("link", "reason", "need_month", "p"):
        o[key].append(need[key][conv])
    o["cancelled"].append(cancelled)
    o["u"].append(u)
