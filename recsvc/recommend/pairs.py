"""The ranker's input rows: one per (client, product) pair at a cutoff.

:func:`pair_features` lays out, client-major, the candidate sources' scores and ranks,
product columns (category, price, one-off, popularity), what the client owns, past
feedback (:mod:`recsvc.recommend.feedback`) and the client columns of
:func:`client_matrix` (activity, decayed history per purpose, field and product, the
``cf_*`` client features, the value model's probability). :func:`purchase_labels`
gives the relevance of the same pairs. The ranker (:mod:`recsvc.recommend.ranker`)
trains and predicts on these rows; nothing here is learned.

Example:
    >>> X, eligible = pair_features(ctx, sources, ids, codes=codes, categories=cats,
    ...                             kinds=kinds)                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsvc.recommend.context import RecContext
from recsvc.recommend.feedback import FEEDBACK_FEATURES, feedback_features
from recsvc.recommend.rules import _as_list
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    PopularInSegmentSource,
    purchase_matrix,
)
from recsvc.store.enums import Purpose

__all__ = [
    "CATEGORICAL",
    "CLIENT_COLUMNS_PREFIX",
    "client_matrix",
    "history_block",
    "pair_features",
    "purchase_labels",
]

#: Columns LightGBM treats as categorical.
CATEGORICAL = ("product_idx", "category_idx", "kind_idx")
#: Prefixes of the client-level columns (the client model's inputs).
CLIENT_COLUMNS_PREFIX = ("basic_", "hist_", "cf_", "value_proba", "kind_idx")

PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)
#: Half-life (days) of the decayed history counts.
HIST_HALF_LIFE = 365.0


def history_block(ctx: RecContext, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Decayed (half-life one year) counts describing *what kind* of work a client does.

    Commissions per purpose, the busiest field's intensity, commissions outside the
    client's own industry field (a move into a new industry), and purchases per
    product (the ladder's state). Generic history, no product rule is written here:
    the ranker learns which of these matter for which product.
    """
    cut = ctx.cutoff
    n = len(ids)
    pos = pd.Series(np.arange(n), index=pd.Index(ids))
    out: dict[str, np.ndarray] = {}
    comm = ctx.frames.commissions
    comm = comm[comm["client_id"].isin(ids)]
    w = np.power(0.5, (cut - comm["commissioned_on"]).dt.days.to_numpy() / HIST_HALF_LIFE)
    rows = pos.loc[comm["client_id"].to_numpy()].to_numpy()
    purpose = comm["purpose"].fillna("other").astype(str).to_numpy()
    for p in PURPOSES:
        v = np.zeros(n)
        np.add.at(v, rows, w * (purpose == p))
        out[f"hist_purpose_{p}"] = v
    total = np.zeros(n)
    np.add.at(total, rows, w)
    out["hist_commissions"] = total
    field = (
        comm["industry_type"].fillna("").astype(str).to_numpy()
        if "industry_type" in comm
        else np.full(len(comm), "")
    )
    if len(comm):
        df = pd.DataFrame({"r": rows, "f": field, "w": w})
        per = df[df["f"] != ""].groupby(["r", "f"])["w"].sum()
        top = per.groupby(level=0).max()
        v = np.zeros(n)
        v[top.index.to_numpy()] = top.to_numpy()
        out["hist_field_max"] = v
        home = ctx.clients["industry_field"].reindex(comm["client_id"].to_numpy())
        off = (field != home.fillna("").astype(str).to_numpy()) & (field != "")
        v = np.zeros(n)
        np.add.at(v, rows, w * off)
        out["hist_off_field"] = v
    else:
        out["hist_field_max"] = np.zeros(n)
        out["hist_off_field"] = np.zeros(n)
    o = ctx.orders[ctx.orders["client_id"].isin(ids)]
    wo = np.power(0.5, (cut - o["ordered_on"]).dt.days.to_numpy() / HIST_HALF_LIFE)
    ro = pos.loc[o["client_id"].to_numpy()].to_numpy()
    codes = o["product_code"].astype(str).to_numpy()
    for code in ctx.codes:
        v = np.zeros(n)
        np.add.at(v, ro, wo * (codes == code))
        out[f"hist_bought_{code}"] = v
    return out


def client_matrix(ctx: RecContext, client_ids: np.ndarray, kinds: Sequence[str]) -> pd.DataFrame:
    """Client-level columns: basic activity, ``cf_*`` features, value probability, kind."""
    ids = np.asarray(client_ids, dtype=np.int64)
    f = ctx.frames
    cut = ctx.cutoff
    out: dict[str, Any] = {}
    comm = f.commissions[f.commissions["client_id"].isin(ids)]
    g = comm.groupby("client_id")["commissioned_on"]
    out["basic_n_comm"] = g.size().reindex(ids).fillna(0).to_numpy()
    recent = comm[comm["commissioned_on"] >= cut - pd.Timedelta(days=730)]
    out["basic_n_comm_2y"] = recent.groupby("client_id").size().reindex(ids).fillna(0).to_numpy()
    out["basic_days_since_comm"] = (cut - g.max()).dt.days.reindex(ids).to_numpy()
    out["basic_days_since_first"] = (cut - g.min()).dt.days.reindex(ids).to_numpy()
    o = ctx.orders[ctx.orders["client_id"].isin(ids)]
    go = o.groupby("client_id")
    out["basic_n_orders"] = go.size().reindex(ids).fillna(0).to_numpy()
    out["basic_days_since_order"] = (cut - go["ordered_on"].max()).dt.days.reindex(ids).to_numpy()
    o3 = o[o["ordered_on"] >= cut - pd.Timedelta(days=1095)]
    spend = o3.groupby("client_id")["amount"].sum() if "amount" in o3 else pd.Series(dtype=float)
    out["basic_spend_3y"] = spend.reindex(ids).fillna(0).to_numpy()
    for name, col in history_block(ctx, ids).items():
        out[name] = col
    kind = ctx.clients["kind"].astype(str).reindex(ids)
    kidx = {k: i for i, k in enumerate(kinds)}
    out["kind_idx"] = kind.map(lambda k: kidx.get(k, -1)).fillna(-1).astype(int).to_numpy()
    if ctx.features is not None:
        feats = ctx.features.reindex(ids)
        for c in feats.columns:
            out[f"cf_{c}"] = pd.to_numeric(feats[c], errors="coerce").to_numpy(dtype=float)
    out["value_proba"] = (
        ctx.value_proba.reindex(ids).to_numpy(dtype=float)
        if ctx.value_proba is not None
        else np.full(len(ids), np.nan)
    )
    return pd.DataFrame(out, index=pd.Index(ids, name="client_id"))


def _align(scores: np.ndarray, have: Any, want: Any) -> np.ndarray:
    """Reorder score columns from ``have`` codes to ``want`` codes (missing = ``nan``)."""
    if list(have) == list(want):
        return scores
    pos = {c: j for j, c in enumerate(have)}
    out = np.full((scores.shape[0], len(want)), np.nan)
    for j, c in enumerate(want):
        if c in pos:
            out[:, j] = scores[:, pos[c]]
    return out


def _quantised(scores: np.ndarray) -> np.ndarray:
    """Source scores rounded to 1e-6: a matrix product's last bits depend on how many
    rows it was given (BLAS blocks them), and a client's features must not depend on
    which batch it was scored in."""
    return np.round(scores, 6)


def pair_features(
    ctx: RecContext,
    sources: Sequence[CandidateSource],
    client_ids: np.ndarray,
    *,
    codes: np.ndarray,
    categories: Sequence[str],
    kinds: Sequence[str],
    client: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Feature frame for every (client, product) pair, client-major; and eligibility.

    Every column is ``float32``: a block of 100,000 clients x 16 products x 140
    columns is 0.9 GB as it is, twice that in ``float64``.

    Args:
        ctx: the snapshot at the cutoff.
        sources: candidate sources fitted on ``ctx``.
        client_ids: the clients, in row order.
        codes: the products, in column order (the ranker's).
        categories: the product categories the ranker knows (their index is a column).
        kinds: the client kinds the ranker knows (likewise).
        client: :func:`client_matrix` rows of (at least) ``client_ids`` when the caller
            has them; computed here otherwise.

    Returns:
        ``(X, eligible)``: ``len(client_ids) * len(codes)`` rows, and the
        ``(n_clients, n_products)`` mask of products each client's kind may buy.
    """
    n, m = len(client_ids), len(codes)
    cols: dict[str, np.ndarray] = {}
    pop = None
    for src in sources:
        s = _quantised(_align(src.scores(client_ids), src.codes_, codes))
        cols[f"src_{src.name}"] = s.ravel()
        ranks = pd.DataFrame(s).rank(axis=1, ascending=False, method="min").to_numpy()
        cols[f"rank_{src.name}"] = ranks.ravel()
        if isinstance(src, PopularInSegmentSource):
            pop = src.global_
        if isinstance(src, ContentSource):
            recent = _quantised(_align(src.recent_scores(client_ids), src.codes_, codes))
            cols["src_content_recent"] = recent.ravel()
    prod = ctx.products.set_index("code").reindex(codes)
    cat_idx = {c: i for i, c in enumerate(categories)}
    cols["product_idx"] = np.tile(np.arange(m), n)
    cols["category_idx"] = np.tile(prod["category"].map(cat_idx).fillna(-1).to_numpy(), n)
    cols["price_log"] = np.tile(np.log1p(prod["price"].fillna(0).to_numpy(float)), n)
    cols["one_off"] = np.tile(prod["one_off"].fillna(True).astype(float).to_numpy(), n)
    cols["prod_pop"] = np.tile(pop if pop is not None else np.full(m, np.nan), n)
    client_kinds = ctx.clients["kind"].astype(str).reindex(client_ids).to_numpy()
    elig = np.ones((n, m), dtype=bool)
    for j, e in enumerate(prod["eligible_kinds"].to_numpy()):
        allowed = _as_list(e)
        if allowed:
            elig[:, j] = np.isin(client_kinds, allowed)
    cols["eligible"] = elig.ravel().astype(float)
    owned = purchase_matrix(ctx.orders, client_ids, codes)
    cols["owned"] = owned.ravel()
    last = (
        ctx.orders[ctx.orders["client_id"].isin(client_ids)]
        .groupby(["client_id", "product_code"])["ordered_on"]
        .max()
    )
    days = np.full((n, m), np.nan)
    if len(last):
        rpos = pd.Series(np.arange(n), index=pd.Index(client_ids))
        cpos = pd.Series(np.arange(m), index=pd.Index(codes))
        keep = last.index.get_level_values(1).isin(cpos.index)
        last = last[keep]
        days[
            rpos.loc[last.index.get_level_values(0)].to_numpy(),
            cpos.loc[last.index.get_level_values(1)].to_numpy(),
        ] = (ctx.cutoff - last).dt.days.to_numpy()
    cols["days_since_owned"] = days.ravel()
    fb = feedback_features(ctx.frames.events, client_ids, codes, ctx.cutoff)
    for name in FEEDBACK_FEATURES:
        cols[name] = fb[name].ravel()
    client = client_matrix(ctx, client_ids, kinds) if client is None else client.reindex(client_ids)
    values = client.to_numpy(dtype=np.float32)
    for j, name in enumerate(client.columns):
        cols[name] = np.repeat(values[:, j], m)
    X = pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in cols.items()}, copy=False)
    return X, elig


def purchase_labels(
    ctx: RecContext, client_ids: np.ndarray, codes: np.ndarray, horizon_months: int
) -> np.ndarray:
    """``(n_clients, n_products)``: bought (paid or delivered) in the ``horizon_months``
    after the cutoff."""
    end = ctx.cutoff + pd.DateOffset(months=horizon_months)
    o = ctx.history.orders
    if "status" in o:
        o = o[o["status"].astype(str).isin(("paid", "delivered"))]
    o = o[(o["ordered_on"] >= ctx.cutoff) & (o["ordered_on"] < end)]
    return purchase_matrix(o, client_ids, codes)
