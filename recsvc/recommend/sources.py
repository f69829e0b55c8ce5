"""Named candidate sources, each an estimator: ``fit(context) -> self``, then
``recommend(client_ids, k, exclude) -> (codes, scores)`` with arrays ``(n, k)``.

Sources (names as in ``docs/architecture.md``):

- ``content``: the client's commissions vs past value-added cases and product texts;
- ``look-alike``: what the nearest clients (text + profile) bought;
- ``ladder``: product-to-product transitions learned from purchase sequences;
- ``purpose``: lift of each product after commissions of each purpose, learned;
- ``popular-in-segment``: purchase rate among clients of the same kind and field.

Every source scores the whole (small) catalogue through :meth:`CandidateSource.scores`;
``nan`` means "no evidence", so a chain can fall back. :class:`SourceChain` composes
sources with an exclude-set and a fallback, the way gorse chains its recommenders.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsvc.recommend.context import RecContext

log = logging.getLogger(__name__)

Exclude = Mapping[int, set[str] | frozenset[str]] | None

#: Days after a commission within which a purchase counts as "following" it.
FOLLOW_DAYS = 365
#: Purchases older than this many days do not make a client a recent buyer.
RECENT_DAYS = 3 * 365
#: Clients per block in client x case and client x buyer similarity products.
CHUNK = 2048


def top_k(
    codes: np.ndarray, scores: np.ndarray, k: int, client_ids: np.ndarray, exclude: Exclude = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` codes per row of a score matrix; ``nan`` and excluded items are dropped.

    Returns:
        ``(codes, scores)`` arrays of shape ``(n, k)``, padded with ``""`` and ``-inf``.
    """
    n = scores.shape[0]
    s = np.where(np.isnan(scores), -np.inf, scores).astype(float)
    if exclude:
        col = {c: j for j, c in enumerate(codes)}
        for i, cid in enumerate(client_ids):
            for code in exclude.get(int(cid), ()):
                if code in col:
                    s[i, col[code]] = -np.inf
    out_codes = np.full((n, k), "", dtype=object)
    out_scores = np.full((n, k), -np.inf)
    if n == 0 or k == 0:
        return out_codes, out_scores
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(s, order, axis=1)
    width = order.shape[1]
    ok = np.isfinite(picked)
    out_codes[:, :width] = np.where(ok, np.asarray(codes, dtype=object)[order], "")
    out_scores[:, :width] = np.where(ok, picked, -np.inf)
    return out_codes, out_scores


class CandidateSource:
    """Base class: subclasses implement :meth:`fit` and :meth:`scores`."""

    name: str = "source"

    def fit(self, context: RecContext) -> CandidateSource:
        """Learn from the context's point-in-time snapshot."""
        self.context_ = context
        self.codes_ = context.codes
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        """Score matrix ``(n, n_products)`` in :attr:`codes_` order; ``nan`` = no evidence."""
        raise AttributeError(f"{type(self).__name__} must implement scores()")

    def recommend(
        self, client_ids: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` product codes and scores per client."""
        client_ids = np.asarray(client_ids, dtype=np.int64)
        return top_k(self.codes_, self.scores(client_ids), k, client_ids, exclude)

    def _code_index(self) -> dict[str, int]:
        return {c: j for j, c in enumerate(self.codes_)}


def _purchase_matrix(orders: pd.DataFrame, client_ids: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """0/1 matrix: did the client buy the product (any time in ``orders``)."""
    m = np.zeros((len(client_ids), len(codes)))
    if orders.empty:
        return m
    row = pd.Series(np.arange(len(client_ids)), index=pd.Index(client_ids))
    col = pd.Series(np.arange(len(codes)), index=pd.Index(codes))
    o = orders[orders["client_id"].isin(row.index) & orders["product_code"].isin(col.index)]
    m[row.loc[o["client_id"]].to_numpy(), col.loc[o["product_code"]].to_numpy()] = 1.0
    return m


def value_added_cases(commissions: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Commissions followed within :data:`FOLLOW_DAYS` by a purchase of the same client.

    Returns:
        One row per (commission, product): ``commission_id, client_id, product_code,
        commissioned_on, ordered_on``.
    """
    cols = ["commission_id", "client_id", "commissioned_on"]
    m = commissions[cols].merge(orders[["client_id", "product_code", "ordered_on"]], on="client_id")
    gap = (m["ordered_on"] - m["commissioned_on"]).dt.days
    m = m[(gap >= 0) & (gap <= FOLLOW_DAYS)]
    return m.drop_duplicates(["commission_id", "product_code"]).reset_index(drop=True)


def _top_stable(s: np.ndarray, m: int) -> np.ndarray:
    """Column positions of each row's ``m`` largest values, best first, ties by position:
    what ``np.argsort(-s, kind="stable")[:, :m]`` gives, without sorting whole rows."""
    if m >= s.shape[1]:
        return np.argsort(-s, axis=1, kind="stable")[:, :m]
    kth = np.partition(s, s.shape[1] - m, axis=1)[:, s.shape[1] - m]
    out = np.empty((s.shape[0], m), dtype=np.int64)
    for i, row in enumerate(s):
        cand = np.flatnonzero(row >= kth[i])  # the m best and any ties with the m-th
        out[i] = cand[np.argsort(-row[cand], kind="stable")[:m]]
    return out


class ContentSource(CandidateSource):
    """The client's research direction against past value-added cases and product texts.

    Score of product ``p`` = ``case_weight`` x mean of the ``top`` highest similarities
    between the client's (recency-weighted) commission vector and commissions that
    preceded a purchase of ``p`` + the rest x similarity to ``p``'s description.

    Args:
        top: how many best-matching cases of a product are averaged.
        case_weight: weight of the case channel against the description channel.
        max_cases_per_product: keep each product's most recent cases only. Every
            client is compared with every kept case (here and in explanations), so
            this bounds that cost as the history grows; the newest cases also say
            best what leads to a purchase now.
    """

    name = "content"

    def __init__(
        self, top: int = 3, case_weight: float = 0.8, max_cases_per_product: int = 1000
    ) -> None:
        self.top = top
        self.case_weight = case_weight
        self.max_cases_per_product = max_cases_per_product

    def fit(self, context: RecContext) -> ContentSource:
        super().fit(context)
        f = context.frames
        cases = value_added_cases(f.commissions, context.orders)
        cases = (
            cases.sort_values(["ordered_on", "commissioned_on", "commission_id"])
            .groupby("product_code", sort=False)
            .tail(self.max_cases_per_product)
            .sort_index()
            # each product's cases side by side (in their original order): scoring
            # takes a product's best cases from a column slice, in place, not a copy
            .sort_values("product_code", kind="stable")
            .reset_index(drop=True)
        )
        self.cases_ = cases
        self.case_vectors_ = context.text.commissions(cases["commission_id"].to_numpy())
        self.case_products_ = cases["product_code"].astype(str).to_numpy()
        starts = np.flatnonzero(np.r_[True, self.case_products_[1:] != self.case_products_[:-1]])
        ends = np.r_[starts[1:], len(cases)]
        self.case_spans_ = {
            str(self.case_products_[a]): (int(a), int(b))
            for a, b in zip(starts, ends, strict=True)
            if len(cases)
        }
        text_codes = list(context.text.product_codes_)
        rows = np.array([text_codes.index(c) if c in text_codes else -1 for c in self.codes_])
        self.product_rows_ = rows
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        ctx = self.context_
        vecs, has = ctx.text.client_vectors(ctx.frames.commissions, client_ids, ctx.cutoff)
        out = self.score_vectors(vecs)
        out[~has] = np.nan
        return out

    def recent_scores(self, client_ids: np.ndarray, days: int = 365) -> np.ndarray:
        """Per product, the best score of any single commission in the last ``days``.

        A client's averaged direction can hide one new project that triggers a need;
        this scores each recent commission alone and keeps the maximum.
        """
        ctx = self.context_
        ids = np.asarray(client_ids, dtype=np.int64)
        out = np.full((len(ids), len(self.codes_)), np.nan)
        comm = ctx.frames.commissions
        comm = comm[
            comm["client_id"].isin(ids)
            & (comm["commissioned_on"] >= ctx.cutoff - pd.Timedelta(days=days))
        ]
        if comm.empty:
            return out
        per = self.score_vectors(ctx.text.commissions(comm["commission_id"].to_numpy()))
        df = pd.DataFrame(per)
        df["client_id"] = comm["client_id"].to_numpy()
        best = df.groupby("client_id").max()
        pos = pd.Series(np.arange(len(ids)), index=pd.Index(ids))
        out[pos.loc[best.index].to_numpy()] = best.to_numpy()
        return out

    def score_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Scores for free texts (one row per text): the cold-start path."""
        return self.score_vectors(self.context_.text.encode(list(texts)))

    def score_vectors(self, vecs: Any) -> np.ndarray:
        """Scores for arbitrary client vectors (in row chunks: memory stays bounded)."""
        return np.vstack(
            [
                self._score_chunk(vecs.take(np.arange(start, min(start + CHUNK, len(vecs)))))
                for start in range(0, len(vecs), CHUNK)
            ]
            or [np.zeros((0, len(self.codes_)))]
        )

    def _score_chunk(self, vecs: Any) -> np.ndarray:
        text = self.context_.text
        n = len(vecs)
        desc_sim = text.similarity(vecs, text.products())
        desc = np.zeros((n, len(self.codes_)))
        ok = self.product_rows_ >= 0
        desc[:, ok] = desc_sim[:, self.product_rows_[ok]]
        case = np.zeros((n, len(self.codes_)))
        if len(self.case_products_):
            sim = text.similarity(vecs, self.case_vectors_)
            for j, code in enumerate(self.codes_):
                span = self.case_spans_.get(str(code))
                if span is None:
                    continue
                block = sim[:, span[0] : span[1]]  # a view: ``sim`` is ours to reorder
                t = min(self.top, block.shape[1])
                block.partition(block.shape[1] - t, axis=1)
                case[:, j] = block[:, -t:].mean(axis=1)
        return self.case_weight * case + (1.0 - self.case_weight) * desc


class LookAlikeSource(CandidateSource):
    """What clients with similar directions and profiles bought.

    Neighbours are the ``n_neighbours`` most similar clients by commission text plus
    profile (same kind, same industry field). In a live context with a semantic layer
    the FAISS neighbours of ``SemanticLayer.similar_clients`` are used instead.

    Args:
        n_neighbours: neighbours per client.
        profile_weight: bonus similarity for the same kind and for the same field.
        use_index: use the semantic layer's FAISS index when the context is live.
    """

    name = "look-alike"

    def __init__(
        self, n_neighbours: int = 20, profile_weight: float = 0.1, use_index: bool = True
    ) -> None:
        self.n_neighbours = n_neighbours
        self.profile_weight = profile_weight
        self.use_index = use_index

    def fit(self, context: RecContext) -> LookAlikeSource:
        super().fit(context)
        o = context.orders
        o = o[o["ordered_on"] >= context.cutoff - pd.Timedelta(days=RECENT_DAYS * 2)]
        buyers = np.sort(o["client_id"].unique()).astype(np.int64)
        self.buyers_ = buyers
        self.bought_ = _purchase_matrix(o, buyers, self.codes_)
        vecs, has = context.text.client_vectors(context.frames.commissions, buyers, context.cutoff)
        self.buyer_vectors_, self.buyer_has_ = vecs, has
        prof = context.clients.reindex(buyers)
        self.buyer_kind_ = prof["kind"].astype(str).to_numpy() if len(prof) else np.array([])
        field = prof.get("industry_field", pd.Series(index=prof.index, dtype=object))
        self.buyer_field_ = field.fillna("").astype(str).to_numpy()
        self.kinds_ = pd.Index(np.unique(self.buyer_kind_))
        self.fields_ = pd.Index(np.unique(self.buyer_field_[self.buyer_field_ != ""]))
        self.buyer_kind_code_ = self.kinds_.get_indexer(self.buyer_kind_)
        field_code = self.fields_.get_indexer(self.buyer_field_)
        self.buyer_field_code_ = np.where(self.buyer_field_ == "", -2, field_code)
        return self

    def _profile(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prof = self.context_.clients.reindex(client_ids)
        kind = prof["kind"].astype(str).to_numpy()
        field = prof.get("industry_field", pd.Series(index=prof.index, dtype=object))
        return kind, field.fillna("").astype(str).to_numpy()

    def _profile_codes(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kind and field as integers comparable with the buyers' (a clients x buyers
        comparison of strings cost more than the similarity itself). A kind or field
        no buyer has is -1; an empty field matches nothing (-1 here, -2 for buyers)."""
        kind, field = self._profile(client_ids)
        return self.kinds_.get_indexer(kind), self.fields_.get_indexer(field)

    def neighbours(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour client ids and similarities, ``(n, n_neighbours)``; ``-1`` pads."""
        client_ids = np.asarray(client_ids, dtype=np.int64)
        n, kk = len(client_ids), self.n_neighbours
        ids = np.full((n, kk), -1, dtype=np.int64)
        sims = np.zeros((n, kk))
        ctx = self.context_
        if ctx.live and self.use_index and ctx.semantic is not None:
            try:
                for i, cid in enumerate(client_ids):
                    nb, sc = ctx.semantic.similar_clients(int(cid), kk)
                    m = min(len(nb), kk)
                    ids[i, :m], sims[i, :m] = np.asarray(nb)[:m], np.asarray(sc)[:m]
                return ids, sims
            except Exception:
                log.info("semantic similar_clients failed; using point-in-time vectors")
        if len(self.buyers_) == 0 or n == 0:
            return ids, sims
        vecs, has = ctx.text.client_vectors(ctx.frames.commissions, client_ids, ctx.cutoff)
        kind, field = self._profile_codes(client_ids)
        m = min(kk, len(self.buyers_))
        for start in range(0, n, CHUNK):  # blocks of clients: memory stays bounded
            part = slice(start, min(start + CHUNK, n))
            rows = np.arange(part.start, part.stop)
            s = ctx.text.similarity(vecs.take(rows), self.buyer_vectors_)
            s[:, ~self.buyer_has_] = 0.0
            s[~has[part]] = 0.0
            s += self.profile_weight * (kind[part, None] == self.buyer_kind_code_[None, :])
            s += self.profile_weight * (field[part, None] == self.buyer_field_code_[None, :])
            s[client_ids[part, None] == self.buyers_[None, :]] = -np.inf  # never your own
            order = _top_stable(s, m)
            ids[part, :m] = self.buyers_[order]
            sims[part, :m] = np.take_along_axis(s, order, axis=1)
        sims[~np.isfinite(sims)] = 0.0
        ids[sims <= 0] = -1
        return ids, np.clip(sims, 0.0, None)

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        client_ids = np.asarray(client_ids, dtype=np.int64)
        out = np.full((len(client_ids), len(self.codes_)), np.nan)
        if len(self.buyers_) == 0:
            return out
        ids, sims = self.neighbours(client_ids)
        pos = pd.Series(np.arange(len(self.buyers_)), index=pd.Index(self.buyers_))
        for i in range(len(client_ids)):
            ok = (ids[i] >= 0) & np.isin(ids[i], self.buyers_)
            if not ok.any():
                continue
            rows = pos.loc[ids[i][ok]].to_numpy()
            w = sims[i][ok]
            if w.sum() <= 0:
                continue
            out[i] = (w[:, None] * self.bought_[rows]).sum(axis=0) / w.sum()
        return out


START = "novelty_search"


class LadderSource(CandidateSource):
    """The service ladder: transitions learned from purchase sequences.

    ``T[a, b]`` is the smoothed share of clients who, having bought ``a``, bought ``b``
    within ``window_days`` later; the start state ``novelty_search`` (a first
    commission) leads to first purchases. A client's score is the recency-weighted
    mix of the rows of the products it bought (the start row when it bought none).

    Args:
        window_days: how long after ``a`` a purchase of ``b`` counts as a step.
        alpha: additive smoothing of the transition rows.
        start_weight: weight of the start row for a client that already bought.
    """

    name = "ladder"

    def __init__(self, window_days: int = 730, alpha: float = 0.5, start_weight: float = 0.2):
        self.window_days = window_days
        self.alpha = alpha
        self.start_weight = start_weight

    def fit(self, context: RecContext) -> LadderSource:
        super().fit(context)
        codes = list(self.codes_)
        states = [START, *codes]
        sidx = {s: i for i, s in enumerate(states)}
        counts = np.zeros((len(states), len(codes)))
        totals = np.zeros(len(states))
        o = context.orders[context.orders["product_code"].isin(codes)]
        firsts = o.sort_values("ordered_on").drop_duplicates(["client_id", "product_code"])
        for _, g in firsts.groupby("client_id"):
            seq = list(zip(g["product_code"], g["ordered_on"], strict=True))
            counts[0, codes.index(seq[0][0])] += 1
            totals[0] += 1
            for i, (a, ta) in enumerate(seq):
                totals[sidx[a]] += 1
                for b, tb in seq[i + 1 :]:
                    if (tb - ta).days <= self.window_days and b != a:
                        counts[sidx[a], codes.index(b)] += 1
        n_clients = max(context.frames.commissions["client_id"].nunique(), 1)
        base = (counts[0] + self.alpha) / (counts[0].sum() + self.alpha * len(codes))
        self.transitions_ = (counts + self.alpha * base) / (totals[:, None] + self.alpha)
        self.start_rate_ = totals[0] / n_clients
        self.states_ = states
        self.counts_ = counts
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        client_ids = np.asarray(client_ids, dtype=np.int64)
        n = len(client_ids)
        ctx = self.context_
        codes = list(self.codes_)
        mix = np.zeros((n, len(self.states_)))
        row = pd.Series(np.arange(n), index=pd.Index(client_ids))
        o = ctx.orders[
            ctx.orders["client_id"].isin(client_ids) & ctx.orders["product_code"].isin(codes)
        ]
        if not o.empty:
            age = (ctx.cutoff - o["ordered_on"]).dt.days.to_numpy()
            w = np.power(0.5, age / 365.0)
            r = row.loc[o["client_id"]].to_numpy()
            c = np.array([codes.index(p) + 1 for p in o["product_code"]])
            np.maximum.at(mix, (r, c), w)
        bought = mix[:, 1:].sum(axis=1) > 0
        mix[:, 0] = np.where(bought, self.start_weight, 1.0)
        has_comm = np.isin(client_ids, ctx.frames.commissions["client_id"].unique())
        out = (mix @ self.transitions_) / mix.sum(axis=1, keepdims=True)
        out[~bought & ~has_comm] = np.nan
        return out


class PurposeSource(CandidateSource):
    """Commission purpose → product affinity, learned as lift.

    ``lift[u, p]`` = P(client buys ``p`` within a year after a commission of purpose
    ``u``) / P(buys ``p`` within a year after any commission), smoothed towards 1 with
    ``alpha`` pseudo-commissions. A client's score is the recency-weighted mean lift of
    its commissions in the last ``lookback_days``.

    Args:
        alpha: smoothing pseudo-count.
        lookback_days: which of the client's commissions count.
    """

    name = "purpose"

    def __init__(self, alpha: float = 20.0, lookback_days: int = 730) -> None:
        self.alpha = alpha
        self.lookback_days = lookback_days

    def fit(self, context: RecContext) -> PurposeSource:
        super().fit(context)
        comm = context.frames.commissions
        comm = comm.assign(purpose=comm["purpose"].fillna("other").astype(str))
        purposes = sorted(comm["purpose"].unique())
        codes = list(self.codes_)
        cases = value_added_cases(comm, context.orders)
        cases = cases.merge(comm[["commission_id", "purpose"]], on="commission_id")
        hits = pd.crosstab(cases["purpose"], cases["product_code"]).reindex(
            index=purposes, columns=codes, fill_value=0
        )
        n_u = comm["purpose"].value_counts().reindex(purposes, fill_value=0).to_numpy()
        base = (hits.sum(axis=0).to_numpy() + 1.0) / (max(len(comm), 1) + 1.0)
        rate = (hits.to_numpy() + self.alpha * base) / (n_u[:, None] + self.alpha)
        self.purposes_ = purposes
        self.lift_ = pd.DataFrame(rate / base, index=purposes, columns=codes)
        self.support_ = pd.Series(n_u, index=purposes)
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        client_ids = np.asarray(client_ids, dtype=np.int64)
        ctx = self.context_
        out = np.full((len(client_ids), len(self.codes_)), np.nan)
        comm = ctx.frames.commissions
        since = ctx.cutoff - pd.Timedelta(days=self.lookback_days)
        comm = comm[comm["client_id"].isin(client_ids) & (comm["commissioned_on"] >= since)]
        if comm.empty:
            return out
        purpose = comm["purpose"].fillna("other").astype(str)
        lift = self.lift_.reindex(purpose.to_numpy()).fillna(1.0).to_numpy()
        w = np.power(0.5, (ctx.cutoff - comm["commissioned_on"]).dt.days.to_numpy() / 365.0)
        df = pd.DataFrame(lift * w[:, None], columns=self.codes_)
        df["_w"] = w
        df["client_id"] = comm["client_id"].to_numpy()
        g = df.groupby("client_id").sum()
        mean = g[list(self.codes_)].to_numpy() / g[["_w"]].to_numpy()
        pos = pd.Series(np.arange(len(client_ids)), index=pd.Index(client_ids))
        out[pos.loc[g.index].to_numpy()] = mean
        return out


class PopularInSegmentSource(CandidateSource):
    """Share of recent buyers of each product among clients of the same segment.

    Segments are ``by`` columns of the client profile (default kind and industry field);
    each segment's rate is shrunk towards the global rate with ``m`` pseudo-clients.
    ``by=()`` gives plain popularity.

    Args:
        by: profile columns that define a segment (``"segment"`` = the value segment).
        m: m-estimate strength.
        window_days: how far back purchases count.
    """

    name = "popular-in-segment"

    def __init__(
        self,
        by: Sequence[str] = ("kind", "industry_field"),
        m: float = 20.0,
        window_days: int = RECENT_DAYS,
    ) -> None:
        self.by = tuple(by)
        self.m = m
        self.window_days = window_days

    def _segment_table(self, client_ids: np.ndarray) -> pd.DataFrame:
        ctx = self.context_
        prof = ctx.clients.reindex(client_ids)
        table = pd.DataFrame(index=pd.Index(client_ids, name="client_id"))
        for col in self.by:
            if col == "segment" and ctx.segments is not None:
                table[col] = ctx.segments.reindex(client_ids).fillna("").astype(str).to_numpy()
            elif col in prof:
                table[col] = prof[col].fillna("").astype(str).to_numpy()
            else:
                table[col] = ""
        return table

    def fit(self, context: RecContext) -> PopularInSegmentSource:
        super().fit(context)
        clients = context.clients["client_id"].to_numpy(dtype=np.int64)
        o = context.orders[
            context.orders["ordered_on"] >= context.cutoff - pd.Timedelta(days=self.window_days)
        ]
        bought = _purchase_matrix(o, clients, self.codes_)
        self.global_ = (bought.sum(axis=0) + 0.5) / (len(clients) + 1.0)
        seg = self._segment_table(clients)
        self.rates_: dict[str, pd.DataFrame] = {}
        for col in self.by:
            df = pd.DataFrame(bought, columns=self.codes_)
            df["_seg"] = seg[col].to_numpy()
            g = df.groupby("_seg")
            n = g.size()
            rate = (g[list(self.codes_)].sum() + self.m * self.global_) / (
                n.to_numpy()[:, None] + self.m
            )
            self.rates_[col] = rate
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        client_ids = np.asarray(client_ids, dtype=np.int64)
        if not self.by:
            return np.tile(self.global_, (len(client_ids), 1))
        seg = self._segment_table(client_ids)
        parts = []
        for col in self.by:
            r = self.rates_[col].reindex(seg[col].to_numpy()).to_numpy()
            parts.append(np.where(np.isnan(r), self.global_[None, :], r))
        return np.mean(parts, axis=0)


class PopularSource(PopularInSegmentSource):
    """Plain popularity (the baseline and the last-resort fallback)."""

    name = "popular"

    def __init__(self, window_days: int = RECENT_DAYS) -> None:
        super().__init__(by=(), window_days=window_days)


class RandomSource(CandidateSource):
    """Uniformly random scores (an evaluation baseline)."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return rng.random((len(client_ids), len(self.codes_)))


def default_sources() -> list[CandidateSource]:
    """One instance of each named source, in chain order."""
    return [
        ContentSource(),
        LookAlikeSource(),
        LadderSource(),
        PurposeSource(),
        PopularInSegmentSource(),
    ]


class SourceChain(CandidateSource):
    """Sources chained with an exclude-set and a fallback.

    Each source in turn contributes up to ``quota`` new items (skipping excluded and
    already chosen ones); a second pass lets them fill any remaining slots; the
    ``fallback`` (popularity) fills what is still empty, so a client with a single
    commission still gets ``k`` offers. Scores are ``1 / (1 + position)``;
    :meth:`recommend_with_origin` also says which source proposed each item.

    Args:
        sources: fitted-or-not sources, in priority order.
        fallback: the last resort; default :class:`PopularSource`.
        quota: first-pass items per source; default ``ceil(k / len(sources))``.
    """

    name = "chain"

    def __init__(
        self,
        sources: Sequence[CandidateSource] | None = None,
        fallback: CandidateSource | None = None,
        quota: int | None = None,
    ) -> None:
        self.sources = list(sources) if sources is not None else default_sources()
        self.fallback = fallback if fallback is not None else PopularSource()
        self.quota = quota

    def fit(self, context: RecContext) -> SourceChain:
        super().fit(context)
        for s in [*self.sources, self.fallback]:
            s.fit(context)
        return self

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        codes, scores = self.recommend(client_ids, len(self.codes_))
        out = np.full((len(client_ids), len(self.codes_)), np.nan)
        idx = self._code_index()
        for i in range(len(client_ids)):
            for c, s in zip(codes[i], scores[i], strict=True):
                if c:
                    out[i, idx[c]] = s
        return out

    def recommend(
        self, client_ids: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        codes, _origin = self.recommend_with_origin(client_ids, k, exclude)
        scores = np.where(codes != "", 1.0 / (1.0 + np.arange(k))[None, :], -np.inf)
        return codes, scores

    def recommend_with_origin(
        self, client_ids: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Codes ``(n, k)`` and the name of the source that proposed each."""
        client_ids = np.asarray(client_ids, dtype=np.int64)
        n = len(client_ids)
        chain = [*self.sources, self.fallback]
        ranked = [s.recommend(client_ids, k, exclude)[0] for s in chain]
        quota = self.quota or max(1, -(-k // max(len(self.sources), 1)))
        out = np.full((n, k), "", dtype=object)
        origin = np.full((n, k), "", dtype=object)
        for i in range(n):
            chosen: list[str] = []
            names: list[str] = []
            passes = [(quota, chain[:-1]), (k, chain[:-1]), (k, chain[-1:])]
            for limit, group in passes:
                for src in group:
                    taken = 0
                    for code in ranked[chain.index(src)][i]:
                        if len(chosen) >= k or taken >= limit:
                            break
                        if code and code not in chosen:
                            chosen.append(code)
                            names.append(src.name)
                            taken += 1
            out[i, : len(chosen)] = chosen
            origin[i, : len(names)] = names
        return out, origin
