"""The monthly simulation: commissions, feedback, complaints, contacts and purchases.

Every month (2011-01 … 2025-12) is one vectorised step over all clients:

1. arrivals and dormancy (R2, R3);
2. decayed states fade (half-life ``rules.HALF_LIFE_MONTHS``);
3. value-added purchases (R5): needs due this month convert into orders or lapse; then
   new needs open from the state *before* this month, each for one product, due after
   a sales cycle of 2-10 months, so whatever a model can see before a cutoff is what
   drives most purchases after it;
4. interactions (R6);
5. commissions with titles, feedback and complaints (R3, R4), which update the state.

Purchases live in :mod:`recsvc.demo.purchases`, the carried state in
:mod:`recsvc.demo.state`. The result is a :class:`History` of plain arrays;
:mod:`recsvc.demo.tables` turns it into import files.
"""

from __future__ import annotations

import numpy as np

from recsvc.demo import rules as R
from recsvc.demo.fields import FIELDS
from recsvc.demo.purchases import convert, open_needs, weights
from recsvc.demo.state import History, State, ensure_columns
from recsvc.demo.titles import compose_titles
from recsvc.demo.world import KINDS, World, choice_rows
from recsvc.store.catalogue import CATALOGUE

__all__ = ["simulate"]

_PURPOSE = {p: i for i, p in enumerate(R.PURPOSES)}
_DEV = (_PURPOSE["product_development"], _PURPOSE["market_entry"])
_AWARD = (_PURPOSE["award_application"], _PURPOSE["achievement_appraisal"])
_PATENT = _PURPOSE["patent_application"]
_PROCESS_PURPOSES = tuple(_PURPOSE[p] for p in R.PROCESS_PURPOSES)


def simulate(w: World, rng: np.random.Generator) -> History:
    """Play the world out month by month; see the module docstring for the order."""
    st = State(w)
    h = History()
    wmat, pbase, elig = weights()
    one_off = np.array([e.one_off for e in CATALOGUE])
    growth = np.array(
        [[R.field_growth(f.code, 2011 + y) for f in FIELDS] for y in range(R.N_MONTHS // 12)]
    )
    cum_growth = np.cumsum(growth, axis=0)
    rate_kind = np.array([R.COMMISSION_RATE[k] for k in KINDS])[w.kind]
    kind_eff = np.array([R.KIND_EFFECT[k] for k in KINDS])[w.kind]
    is_ind = w.kind == KINDS.index("individual")
    academic = w.academic.astype(float)
    strong_loyal = np.minimum(np.clip(w.rd, 0, None) * np.clip(w.loyalty, 0, None), 1.5)
    n_comm = 0
    for m in range(R.N_MONTHS):
        y = m // 12
        arrive = (w.arrival == m) | ((m == 0) & (w.arrival < 0))
        st.active |= arrive
        st.arrived |= arrive
        hz = R.DORMANCY_HAZARD * np.exp(-0.5 * w.loyalty) * (1 + st.dec["complaints"])
        hz = np.where(is_ind, 3 * hz, hz)
        gone = st.active & ~arrive & (rng.random(w.n) < hz)
        st.active &= ~gone
        st.dormant_month[gone] = m
        st.decay()
        convert(st, h, rng, m)
        open_needs(
            w,
            st,
            h,
            rng,
            m,
            wmat,
            pbase,
            elig,
            one_off,
            growth[y],
            kind_eff,
            academic,
            strong_loyal,
        )
        _interactions(w, st, h, rng, m)
        # commissions
        home_trend = np.clip(0.5 * cum_growth[y, w.home], -0.5, 0.7)
        lam = (
            rate_kind
            * np.exp(
                R.RATE_COEF["loyalty"] * w.loyalty
                + R.RATE_COEF["rd"] * w.rd
                + R.RATE_COEF["demand"] * w.demand
                + R.RATE_COEF["complaints"] * np.minimum(st.dec["complaints"], 2)
                + home_trend
            )
            * R.SEASON[m % 12]
        )
        k = np.where(st.active, np.minimum(rng.poisson(lam), 3), 0)
        k = np.where(arrive & (w.arrival >= 0), np.maximum(k, 1), k)
        idx = np.repeat(np.arange(w.n), k)
        if len(idx):
            n_comm = _commissions(w, st, h, rng, m, idx, n_comm)
        if m % 3 == 2:
            _quarterly(w, st, h, rng, m)
    st.dormant_month[~st.active & (st.dormant_month < 0)] = R.N_MONTHS
    h.dormant_month = st.dormant_month
    ensure_columns(h)
    return h


def _commissions(
    w: World, st: State, h: History, rng: np.random.Generator, m: int, idx: np.ndarray, n0: int
) -> int:
    b = len(idx)
    gid = np.arange(n0, n0 + b)
    y = 2011 + m // 12
    u = rng.random((b, 8))
    pop = np.array([f.weight for f in FIELDS]) * np.exp(
        [
            min(R.field_growth(f.code, y) * max(0, y - max(f.since, 2011)), R.MAX_FIELD_LOG_GROWTH)
            for f in FIELDS
        ]
    )
    anyf = choice_rows(np.broadcast_to(pop, (b, len(pop))).copy(), u[:, 0])
    fld = np.where(
        u[:, 1] < R.HOME_FIELD_SHARE,
        w.home[idx],
        np.where(u[:, 1] < R.HOME_FIELD_SHARE + R.SECOND_FIELD_SHARE, w.second[idx], anyf),
    )
    purpose = choice_rows(w.purpose_mix[idx], u[:, 2])
    t = compose_titles(fld, rng)
    # state updates
    np.add.at(st.intensity, (idx, fld), 1.0)
    st.last_field[idx, fld] = gid
    is_pat = purpose == _PATENT
    is_dev = np.isin(purpose, _DEV)
    is_award = np.isin(purpose, _AWARD)
    is_entry = is_dev & (w.kind[idx] == KINDS.index("enterprise")) & (fld != w.home[idx])
    for name, mask in (
        ("patent", is_pat),
        ("development", is_dev),
        ("process", t.is_process & np.isin(purpose, _PROCESS_PURPOSES)),
        ("entry", is_entry),
        ("award", is_award),
    ):
        np.add.at(st.dec[name], idx[mask], 1.0)
        st.last[name][idx[mask]] = gid[mask]
    np.add.at(st.dec["recent"], idx, 1.0)
    # report feedback and complaints
    s_true = (
        R.SAT_MEAN
        + R.SAT_LATENT_COEF * w.sat_latent[idx]
        - 0.4 * np.minimum(st.dec["complaints"][idx], 2)
    )
    overall = np.clip(np.round(s_true + rng.normal(0, 0.6, b)), 1, 5)
    has_fb = u[:, 3] < R.REPORT_FEEDBACK_SHARE
    st.sat[idx[has_fb]] = 0.7 * st.sat[idx[has_fb]] + 0.3 * overall[has_fb]
    p_comp = R.COMPLAINT_RATE * np.exp(-0.8 * w.sat_latent[idx])
    comp = u[:, 4] < p_comp
    cols = h.commissions
    cols["gid"].append(gid)
    cols["client"].append(idx)
    cols["month"].append(np.full(b, m))
    cols["field"].append(fld)
    cols["purpose"].append(purpose)
    cols["u_lang"].append(u[:, 5])
    cols["u_scope"].append(u[:, 6])
    cols["recognition"].append(
        np.clip(np.round(3.4 + 0.7 * w.loyalty[idx] + rng.normal(0, 0.5, b)), 1, 5)
    )
    cols["cooperation"].append(
        np.clip(
            np.round(3.6 + 0.5 * w.loyalty[idx] + 0.2 * w.sat_latent[idx] + rng.normal(0, 0.5, b)),
            1,
            5,
        )
    )
    for key, vals in (
        ("title_zh", t.title_zh),
        ("title_en", t.title_en),
        ("kw_zh", t.keywords_zh),
        ("kw_en", t.keywords_en),
    ):
        h.titles[key].append(vals)
    fb = h.feedback
    nfb = int(has_fb.sum())
    fb["client"].append(idx[has_fb])
    fb["commission"].append(gid[has_fb])
    fb["month"].append(np.full(nfb, m))
    fb["quarterly"].append(np.zeros(nfb, dtype=bool))
    fb["overall"].append(overall[has_fb])
    for key in ("experience", "quality", "attitude"):
        fb[key].append(np.clip(np.round(overall[has_fb] + rng.normal(0, 0.5, nfb)), 1, 5))
    if comp.any():
        _complaints(w, st, h, rng, m, idx[comp], gid[comp])
    return n0 + b


def _complaints(
    w: World,
    st: State,
    h: History,
    rng: np.random.Generator,
    m: int,
    idx: np.ndarray,
    gid: np.ndarray,
) -> None:
    c = len(idx)
    sev = rng.choice(3, size=c, p=np.array(list(R.SEVERITY_MIX.values())))
    target = np.array([48.0, 24.0, 8.0])[sev]
    late = rng.random(c) < R.LATE_RESPONSE_SHARE
    hours = np.where(late, target * rng.uniform(1.1, 3.0, c), target * rng.uniform(0.1, 0.95, c))
    unresolved = rng.random(c) < R.UNRESOLVED_SHARE
    burden = np.array(list(R.SEVERITY_BURDEN.values()))[sev]
    burden = np.where(late | unresolved, burden * R.BAD_HANDLING_FACTOR, burden)
    np.add.at(st.dec["complaints"], idx, burden)
    st.sat[idx] -= 0.3 * burden
    cc = h.complaints
    cc["client"].append(idx)
    cc["commission"].append(gid)
    cc["month"].append(np.full(c, m))
    cc["severity"].append(sev)
    cc["response_hours"].append(hours)
    cc["unresolved"].append(unresolved)
    cc["resolve_days"].append(rng.uniform(0.5, 15.0, c))
    cc["u"].append(rng.random((c, 3)))


def _quarterly(w: World, st: State, h: History, rng: np.random.Generator, m: int) -> None:
    resp = st.active & (st.dec["recent"] > 0.3) & (rng.random(w.n) < R.QUARTERLY_RESPONSE)
    idx = np.flatnonzero(resp)
    b = len(idx)
    s_true = (
        R.SAT_MEAN
        + R.SAT_LATENT_COEF * w.sat_latent[idx]
        - 0.4 * np.minimum(st.dec["complaints"][idx], 2)
    )
    overall = np.clip(np.round(s_true + rng.normal(0, 0.5, b)), 1, 5)
    st.sat[idx] = 0.8 * st.sat[idx] + 0.2 * overall
    fb = h.feedback
    fb["client"].append(idx)
    fb["commission"].append(np.full(b, -1))
    fb["month"].append(np.full(b, m))
    fb["quarterly"].append(np.ones(b, dtype=bool))
    fb["overall"].append(overall)
    for key in ("experience", "quality", "attitude"):
        fb[key].append(np.clip(np.round(overall + rng.normal(0, 0.5, b)), 1, 5))


def _interactions(w: World, st: State, h: History, rng: np.random.Generator, m: int) -> None:
    rate = R.INTERACTION_BASE + R.INTERACTION_VALUE * np.exp(
        0.5 * w.rd + 0.3 * w.loyalty
    ) * np.where(st.n_bought > 0, 1.5, 1.0)
    k = np.where(st.active, np.minimum(rng.poisson(rate), 3), 0)
    idx = np.repeat(np.arange(w.n), k)
    kinds = rng.choice(
        len(R.INTERACTION_MIX), size=len(idx), p=np.array(list(R.INTERACTION_MIX.values()))
    )
    personal = np.isin(kinds, [0, 3, 6])  # visit, training, meeting
    np.add.at(st.dec["contact"], idx, np.where(personal, 1.0, 0.3))
    h.interactions["client"].append(idx)
    h.interactions["month"].append(np.full(len(idx), m))
    h.interactions["kind"].append(kinds)
