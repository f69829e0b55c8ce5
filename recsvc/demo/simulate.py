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

The result is a :class:`History` of plain arrays; :mod:`recsvc.demo.tables` turns it
into import files.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from recsvc.demo import rules as R
from recsvc.demo.fields import FIELDS
from recsvc.demo.titles import compose_titles
from recsvc.demo.world import KINDS, World, choice_rows
from recsvc.store.catalogue import CATALOGUE

PRODUCTS: tuple[str, ...] = tuple(e.code for e in CATALOGUE)
TRIGGERS: tuple[str, ...] = tuple(R.TRIGGER_WEIGHTS)
P_INDEX = {c: i for i, c in enumerate(PRODUCTS)}
_PURPOSE = {p: i for i, p in enumerate(R.PURPOSES)}
_DEV = (_PURPOSE["product_development"], _PURPOSE["market_entry"])
_AWARD = (_PURPOSE["award_application"], _PURPOSE["achievement_appraisal"])
_PATENT = _PURPOSE["patent_application"]
_PROCESS_PURPOSES = tuple(_PURPOSE[p] for p in R.PROCESS_PURPOSES)
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


@dataclass
class History:
    """Everything that happened, as column arrays per entity (see tables.py)."""

    commissions: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    titles: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    orders: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    feedback: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    complaints: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    interactions: dict[str, list[np.ndarray]] = field(default_factory=lambda: defaultdict(list))
    dormant_month: np.ndarray | None = None


def _weights() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


class _State:
    """Per-client dynamic state (decayed counts, pointers to the latest commissions)."""

    def __init__(self, w: World) -> None:
        n, nf = w.n, len(FIELDS)
        self.active = np.zeros(n, dtype=bool)
        self.arrived = np.zeros(n, dtype=bool)
        self.dormant_month = np.full(n, -1, dtype=np.int64)
        self.intensity = np.zeros((n, nf), dtype=np.float32)
        self.last_field = np.full((n, nf), -1, dtype=np.int64)
        self.dec = {
            k: np.zeros(n)
            for k in (
                "patent",
                "development",
                "process",
                "entry",
                "award",
                "complaints",
                "contact",
                "recent",
            )
        }
        self.last = {
            k: np.full(n, -1, dtype=np.int64)
            for k in ("patent", "development", "process", "entry", "award")
        }
        self.sat = R.SAT_MEAN + R.SAT_LATENT_COEF * w.sat_latent
        self.n_bought = np.zeros(n, dtype=np.int64)
        self.just_bought = np.zeros(n)
        self.bought_month = np.full((n, len(PRODUCTS)), -999, dtype=np.int64)
        self.n_pending = np.zeros(n, dtype=np.int64)
        self.pending_prod = np.zeros((n, len(PRODUCTS)), dtype=bool)
        self.pending: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        """Open needs by due month: client, product, link, reason, need month, p."""

    def decay(self) -> None:
        self.intensity *= np.float32(R.DECAY)
        for v in self.dec.values():
            v *= R.DECAY
        self.just_bought *= 0.5 ** (1.0 / R.JUST_BOUGHT_HALF_LIFE)


def simulate(w: World, rng: np.random.Generator) -> History:
    """Play the world out month by month; see the module docstring for the order."""
    st = _State(w)
    h = History()
    wmat, pbase, elig = _weights()
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
        _convert(st, h, rng, m)
        _purchases(
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
    _ensure_columns(h)
    return h


#: Every column of every History table with its dtype and trailing shape, so tiny
#: worlds (a handful of clients, maybe no orders at all) still give complete tables.
_COLUMNS: dict[str, dict[str, tuple[type, tuple[int, ...]]]] = {
    "commissions": {
        **{k: (np.int64, ()) for k in ("gid", "client", "month", "field", "purpose")},
        **{k: (float, ()) for k in ("u_lang", "u_scope", "recognition", "cooperation")},
    },
    "titles": {k: (object, ()) for k in ("title_zh", "title_en", "kw_zh", "kw_en")},
    "orders": {
        **{
            k: (np.int64, ())
            for k in ("client", "month", "product", "link", "reason", "need_month")
        },
        "cancelled": (bool, ()),
        "u": (float, (3,)),
        "p": (float, ()),
    },
    "feedback": {
        **{k: (np.int64, ()) for k in ("client", "commission", "month")},
        "quarterly": (bool, ()),
        **{k: (float, ()) for k in ("overall", "experience", "quality", "attitude")},
    },
    "interactions": {k: (np.int64, ()) for k in ("client", "month", "kind")},
}


def _ensure_columns(h: History) -> None:
    for table, cols in _COLUMNS.items():
        parts = getattr(h, table)
        for key, (dtype, shape) in cols.items():
            if not parts[key]:
                parts[key].append(np.empty((0, *shape), dtype=dtype))


def _commissions(
    w: World, st: _State, h: History, rng: np.random.Generator, m: int, idx: np.ndarray, n0: int
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
    st: _State,
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


def _quarterly(w: World, st: _State, h: History, rng: np.random.Generator, m: int) -> None:
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


def _interactions(w: World, st: _State, h: History, rng: np.random.Generator, m: int) -> None:
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


def _purchases(
    w: World,
    st: _State,
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


def _convert(st: _State, h: History, rng: np.random.Generator, m: int) -> None:
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
