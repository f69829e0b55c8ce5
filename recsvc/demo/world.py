"""The static demo world: clients with latent traits, their profiles and contacts.

:func:`make_world` draws one block of clients at once (numpy arrays, one row per
client); the monthly simulation (:mod:`recsvc.demo.simulate`) then plays their
behaviour out. Clients never interact, so a large clientele is drawn block by block
(:func:`recsvc.demo.generate`); :class:`Numbering` places a block's external ids after
those of the blocks before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsvc.demo import names as nm
from recsvc.demo import organisations as org
from recsvc.demo import rules as R
from recsvc.demo.fields import FIELDS

KINDS: tuple[str, ...] = tuple(R.KIND_MIX)
#: Per field (FIELDS order): the institutes and universities that work in it.
_FIT_INSTITUTES = [org.fitting(org.ACADEMY_INSTITUTES, f.code) for f in FIELDS]
_FIT_UNIVERSITIES = [org.fitting(org.UNIVERSITIES, f.code) for f in FIELDS]
#: Per field: the topics a client's core technologies and products come from.
_PROFILE_TOPICS = [tuple(t for t in f.topics if t.made) or f.topics for f in FIELDS]
_MONTH0 = np.datetime64(R.START.isoformat()[:7], "M")


def choice_rows(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    return np.minimum((cdf < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def month_dates(month: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random day inside each simulation month (0 = 2011-01) as ``datetime64[D]``."""
    start = (_MONTH0 + month.astype("timedelta64[M]")).astype("datetime64[D]")
    return start + rng.integers(0, 28, len(month)).astype("timedelta64[D]")


@dataclass(frozen=True)
class Numbering:
    """Where a block's clients and contacts sit in the whole clientele.

    Attributes:
        first_client: Clients of the blocks before this one (``C…`` ids continue after).
        first_contact: Contacts of the blocks before this one (``P…`` ids continue after).
        total_clients: Clients of the whole dataset; fixes the width of every id, so ids
            sort alike whatever the block size.
    """

    first_client: int = 0
    first_contact: int = 0
    total_clients: int | None = None

    def client_width(self, n: int) -> int:
        return max(6, len(str(self.total_clients or n)))

    def contact_width(self, n: int) -> int:
        # at most 4 contacts per client (see _contacts), so the width is known up front
        return max(7, len(str(4 * (self.total_clients or n))))


@dataclass
class World:
    """Clients as aligned arrays (latent traits) plus their import-file tables."""

    n: int
    external_id: np.ndarray
    kind: np.ndarray
    home: np.ndarray
    second: np.ndarray
    rd: np.ndarray
    loyalty: np.ndarray
    demand: np.ndarray
    sat_latent: np.ndarray
    arrival: np.ndarray
    """Arrival month (negative: registered before 2011)."""
    purpose_mix: np.ndarray
    clients: pd.DataFrame
    contacts: pd.DataFrame
    contact_start: np.ndarray
    contact_count: np.ndarray

    @property
    def academic(self) -> np.ndarray:
        ids = [KINDS.index(k) for k in R.ACADEMIC_KINDS]
        return np.isin(self.kind, ids)


def _field_probs(years: np.ndarray) -> np.ndarray:
    """Popularity of each field in each (fractional) year: weight · growth since 2011."""
    w = np.array([f.weight for f in FIELDS])
    g = np.array([f.growth for f in FIELDS])
    since = np.array([max(f.since, 2011) for f in FIELDS])
    span = np.clip(years[:, None] - since[None, :], 0, None)
    return w[None, :] * np.exp(np.clip(g[None, :] * span, None, R.MAX_FIELD_LOG_GROWTH))


def make_world(n: int, rng: np.random.Generator, numbering: Numbering | None = None) -> World:
    """Draw ``n`` clients with latent traits, observable profiles and contacts.

    Args:
        n: Clients in this block.
        rng: The block's random stream.
        numbering: Where the block sits in the whole clientele (default: it is all of it).
    """
    num = numbering or Numbering()
    width = num.client_width(n)
    first = num.first_client
    ext = np.array([f"C{first + i + 1:0{width}d}" for i in range(n)], dtype=object)
    kind = rng.choice(len(KINDS), size=n, p=np.array(list(R.KIND_MIX.values())))
    # arrival: some already registered (2006-2010), the rest arrive month by month
    before = rng.random(n) < R.SHARE_BEFORE_2011
    mw = np.exp(R.ARRIVAL_GROWTH * np.arange(R.N_MONTHS) / 12.0)
    arrival = rng.choice(R.N_MONTHS, size=n, p=mw / mw.sum())
    arrival = np.where(before, -rng.integers(1, 60, n), arrival)
    # latent traits
    z = rng.standard_normal((n, 4))
    rd = z[:, 0] + np.array([R.RD_SHIFT[k] for k in KINDS])[kind]
    c = R.RD_LOYALTY_CORR
    loyalty = c * z[:, 0] + np.sqrt(1 - c * c) * z[:, 1]
    demand, sat_latent = z[:, 2], z[:, 3]
    # fields: popular (and growing) fields at arrival; academic kinds prefer academic fields
    fp = _field_probs(2011 + np.maximum(arrival, 0) / 12.0)
    acad = np.array([f.academic for f in FIELDS])
    is_acad = np.isin(kind, [KINDS.index(k) for k in R.ACADEMIC_KINDS])
    fp = fp * np.where(is_acad[:, None], acad[None, :], 1.0 - acad[None, :]) * 2.0
    home = choice_rows(fp, rng.random(n))
    fp2 = fp.copy()
    fp2[np.arange(n), home] = 0.0
    second = choice_rows(fp2, rng.random(n))
    # each client's own purpose mix around its kind's
    base = np.array([R.PURPOSE_MIX[k] for k in KINDS])[kind] + 1e-3
    base[:, 3] *= np.exp(R.PATENT_RD_COEF * rd)
    base /= base.sum(axis=1, keepdims=True)
    purpose_mix = rng.gamma(base * R.PURPOSE_CONCENTRATION)
    purpose_mix /= purpose_mix.sum(axis=1, keepdims=True)

    registered = month_dates(arrival, rng)
    clients = _profiles(ext, kind, home, rd, registered, rng, first)
    contacts, cstart, ccount = _contacts(ext, kind, rd, rng, num)
    return World(
        n,
        ext,
        kind,
        home,
        second,
        rd,
        loyalty,
        demand,
        sat_latent,
        arrival,
        purpose_mix,
        clients,
        contacts,
        cstart,
        ccount,
    )


def _pick(rng: np.random.Generator, seq: tuple, n: int, p: tuple | None = None) -> np.ndarray:
    w = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return rng.choice(len(seq), size=n, p=w)


def _profiles(
    ext: np.ndarray,
    kind: np.ndarray,
    home: np.ndarray,
    rd: np.ndarray,
    registered: np.ndarray,
    rng: np.random.Generator,
    first: int,
) -> pd.DataFrame:
    n = len(ext)
    region = _pick(rng, nm.REGIONS, n, nm.REGION_WEIGHTS)
    ba, bb = _pick(rng, org.BRAND_A, n), _pick(rng, org.BRAND_B, n)
    # one of all institutes and universities, mapped onto those of the client's field
    inst, univ, other = (
        _pick(rng, org.ACADEMY_INSTITUTES, n),
        _pick(rng, org.UNIVERSITIES, n),
        _pick(rng, org.OTHER_ORGS, n),
    )
    ri_suffix = _pick(
        rng, (("研究院", "Academy of"), ("工程技术研究中心", "Engineering Center of")), n
    )
    plc = rng.random(n) < 0.15
    names_zh, names_en = [], []
    for i in range(n):
        k, f = KINDS[kind[i]], FIELDS[home[i]]
        rz, re_, _ = nm.REGIONS[region[i]]
        fz, fe = f.name_zh, org.title_case(f.name_en)
        if k == "enterprise":
            iz, ie = org.INDUSTRY_WORDS[f.code]
            brand_zh = org.BRAND_A[ba[i]][0] + org.BRAND_B[bb[i]][0]
            brand_en = org.BRAND_A[ba[i]][1] + org.BRAND_B[bb[i]][1]
            names_zh.append(f"{rz}{brand_zh}{iz}{'股份' if plc[i] else ''}有限公司")
            names_en.append(f"{re_} {brand_en} {ie} Co., Ltd.")
        elif k == "in_house_institute":
            fit = _FIT_INSTITUTES[home[i]]
            institutes = org.ACADEMY_INSTITUTES
            iz, ie, _ = institutes[fit[inst[i] * len(fit) // len(institutes)]]
            names_zh.append(f"{iz}{fz}研究组")
            names_en.append(f"{fe} Group, {ie}")
        elif k == "research_institute":
            sz, se = (("研究院", "Academy of"), ("工程技术研究中心", "Engineering Center of"))[
                ri_suffix[i]
            ]
            names_zh.append(f"{rz}{fz}{sz}")
            names_en.append(f"{re_} {se} {fe}")
        elif k == "university":
            fit = _FIT_UNIVERSITIES[home[i]]
            uz, ue, _ = org.UNIVERSITIES[fit[univ[i] * len(fit) // len(org.UNIVERSITIES)]]
            names_zh.append(f"{uz}{f.subject_zh}研究团队")
            names_en.append(f"{fe} Research Team, {ue}")
        elif k == "other":
            oz, oe = org.OTHER_ORGS[other[i]]
            names_zh.append(f"{rz}{oz}")
            names_en.append(f"{re_} {oe}")
        else:
            names_zh.append(f"个人委托（{ext[i]}）")
            names_en.append(f"Individual client {ext[i]}")
    is_ent = kind == KINDS.index("enterprise")
    is_ind = kind == KINDS.index("individual")
    etype = _pick(rng, nm.ENTERPRISE_TYPES, n, nm.ENTERPRISE_TYPE_WEIGHTS)
    park = _pick(rng, nm.PARKS, n)
    has_park = is_ent & (rng.random(n) < 0.7)
    noise = rng.normal(0, 0.35, (n, 5))
    scale = np.where(is_ind, 0.1, np.where(is_ent, 1.0, 1.6))
    talent = np.round(scale * np.exp(1.3 + 0.8 * rd + noise[:, 0])).astype(int)
    inv = rng.poisson(scale * np.exp(1.4 + 0.9 * rd + noise[:, 1]))
    util = rng.poisson(np.where(is_ent, 1.0, 0.3) * np.exp(1.6 + 0.6 * rd + noise[:, 2]))
    design = rng.poisson(np.where(is_ent, 1.0, 0.05) * np.exp(0.2 + 0.3 * rd + noise[:, 3]))
    in_force = rng.binomial(inv + util + design, 0.7)
    n_hon = np.minimum(rng.poisson(np.exp(-0.6 + 0.8 * rd)), 4)
    hon_pick = rng.random((n, len(nm.HONOURS))).argsort(axis=1)
    tech_pick = rng.random((n, 3))
    prod_pick = rng.random((n, 2))
    staff = _pick(rng, nm.STAFF, n)
    employees = np.round(np.where(is_ind, 1, np.exp(4.0 + 0.7 * rd + noise[:, 4]))).astype(int)
    rows_tech, rows_prod, rows_hon, extras = [], [], [], []
    for i in range(n):
        # core technologies and products: one topic of the client's own field, one
        # whose objects are made (a vaccine maker sells vaccines, not viruses); the
        # third technique's draw picks the topic, what is left of it the technique
        topics = _PROFILE_TOPICS[home[i]]
        scaled = tech_pick[i, 2] * len(topics)
        k = min(int(scaled), len(topics) - 1)
        t = topics[k]
        draws = (tech_pick[i, 0], tech_pick[i, 1], scaled - k)
        techs = {t.tech[int(x * len(t.tech))][0] for x in draws}
        prods = {t.obj[int(prod_pick[i, j] * len(t.obj))][0] for j in range(2)}
        rows_tech.append(";".join(sorted(techs)))
        rows_prod.append(";".join(sorted(prods)))
        rows_hon.append(";".join(nm.HONOURS[j] for j in sorted(hon_pick[i, : n_hon[i]])))
        pc = nm.REGIONS[region[i]][2] + f"{((first + i) * 7919) % 10000:04d}"
        extras.append(
            json.dumps(
                {"postcode": pc, "employees": int(employees[i]), "source": "demo"},
                ensure_ascii=False,
                sort_keys=True,
            )
        )
    return pd.DataFrame(
        {
            "external_id": ext,
            "name_zh": names_zh,
            "name_en": names_en,
            "kind": [KINDS[k] for k in kind],
            "enterprise_type": [
                nm.ENTERPRISE_TYPES[etype[i]] if is_ent[i] else "" for i in range(n)
            ],
            "park": [nm.PARKS[park[i]] if has_park[i] else "" for i in range(n)],
            "region": [nm.REGIONS[r][0] for r in region],
            "industry_field": [FIELDS[h].name_zh for h in home],
            "core_technologies": rows_tech,
            "core_products": rows_prod,
            "talent_count": talent,
            "patents_invention": inv,
            "patents_utility": util,
            "patents_design": design,
            "patents_in_force": in_force,
            "honours": ["" if is_ind[i] else h for i, h in enumerate(rows_hon)],
            "registered_on": pd.to_datetime(registered).strftime("%Y-%m-%d"),
            "account_manager": [nm.STAFF[s] for s in staff],
            "extra": extras,
        }
    )


def _contacts(
    ext: np.ndarray,
    kind: np.ndarray,
    rd: np.ndarray,
    rng: np.random.Generator,
    numbering: Numbering,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    n = len(ext)
    count = np.clip(1 + rng.poisson(np.exp(-0.5 + 0.3 * rd)), 1, 4)
    count[kind == KINDS.index("individual")] = 1
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    m = int(count.sum())
    owner = np.repeat(np.arange(n), count)
    sur = _pick(rng, nm.SURNAMES, m)
    g1, g2 = _pick(rng, nm.GIVEN, m), _pick(rng, nm.GIVEN, m)
    two = rng.random(m) < 0.6
    title = _pick(rng, nm.TITLES, m)
    dom = _pick(rng, nm.MAIL_DOMAINS, m)
    num = rng.integers(10, 999, m)
    phone = rng.integers(0, 10**9, m)
    prefix = rng.choice(np.array([3, 5, 7, 8, 9]), m)
    active = rng.random(m) < 0.85
    active[start] = True
    staff = set(nm.STAFF) | set(nm.SEARCHERS)
    names, logins, emails, phones = [], [], [], []
    for j in range(m):
        sz, sp = nm.SURNAMES[sur[j]]
        gz = nm.GIVEN[g1[j]][0] + (nm.GIVEN[g2[j]][0] if two[j] else "")
        gp = nm.GIVEN[g1[j]][1] + (nm.GIVEN[g2[j]][1] if two[j] else "")
        name = sz + gz
        if name in staff:
            name, gp = name + "然", gp + "ran"
        names.append(name)
        logins.append(f"{sp}{gp}{num[j]}")
        emails.append(f"{gp}.{sp}{num[j]}@{nm.MAIL_DOMAINS[dom[j]]}")
        phones.append(f"1{prefix[j]}{phone[j]:09d}")
    width, first = numbering.contact_width(len(ext)), numbering.first_contact
    df = pd.DataFrame(
        {
            "external_id": [f"P{first + j + 1:0{width}d}" for j in range(m)],
            "client_external_id": ext[owner],
            "name": names,
            "registered_name": logins,
            "email": emails,
            "phone": phones,
            "title": [nm.TITLES[t] for t in title],
            "active": np.where(active, "true", "false"),
        }
    )
    return df, start, count
