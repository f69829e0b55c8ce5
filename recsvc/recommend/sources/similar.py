"""Sources that compare texts and profiles: ``content`` (the client's commissions vs
past value-added cases and product texts) and ``look-alike`` (what the nearest clients
bought)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pandas as pd

from recsvc.recommend.context import RecContext
from recsvc.recommend.sources.base import (
    RECENT_DAYS,
    CandidateSource,
    keyed_vectors,
    purchase_matrix,
    save_columns,
    save_keyed_vectors,
    saved_columns,
)

__all__ = ["CHUNK", "ContentSource", "LookAlikeSource"]

#: Clients per block in client x case similarity products.
CHUNK = 2048
#: Clients per block of the look-alike candidates' scoring (their vectors are gathered:
#: 256 clients x 81 candidates x 512 floats are 42 MB, twice that in float64).
NEIGHBOUR_CHUNK = 256
#: Candidates per neighbour the look-alike search finds before scoring them.
CANDIDATES = 4


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
        return self.fit_from(context, None)

    def fit_from(self, context: RecContext, saved: Path | None) -> ContentSource:
        """:meth:`fit`; the cases and their vectors read from ``saved`` when it has them
        (no server merges every commission with the orders: 0.5 s at 100k clients)."""
        super().fit(context)
        cases = saved_columns(saved, "cases")
        if cases is None:
            cases = (
                context.value_added.sort_values(["ordered_on", "commissioned_on", "commission_id"])
                .groupby("product_code", sort=False)
                .tail(self.max_cases_per_product)
                .sort_index()
                # each product's cases side by side (in their original order): scoring
                # takes a product's best cases from a column slice, in place, not a copy
                .sort_values("product_code", kind="stable")
                .reset_index(drop=True)
            )
        self.cases_ = cases
        ids = cases["commission_id"].to_numpy()
        self.case_vectors_ = keyed_vectors(
            saved, "cases", ids, lambda: context.text.commissions(ids)
        )
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

    def save_fitted(self, folder: Path) -> None:
        """The cases and their vectors (looked up among every commission's: 87k at 100k
        clients)."""
        ids = self.cases_["commission_id"].to_numpy()
        save_keyed_vectors(folder, "cases", ids, self.case_vectors_)
        save_columns(folder, "cases", self.cases_)

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

    Neighbours are the ``n_neighbours`` recent buyers most similar to the client by
    point-in-time commission text plus profile (same kind, same industry field): the
    same comparison at a past cutoff (the ranker's training rows) as today (its scores
    for the portal lists and live calls). Serving once took the semantic index's
    nearest clients instead; those are neighbours among all clients, mostly not
    buyers, without the profile bonus, so the ranker scored features of another
    distribution than it was trained on. (At 100,000 clients the two cost about the
    same: 124 s of the portal step's scoring, before the profile bonus became a
    product, against 135 s for the HNSW searches.)

    Args:
        n_neighbours: neighbours per client.
        profile_weight: bonus similarity for the same kind and for the same field.
    """

    name = "look-alike"

    def __init__(self, n_neighbours: int = 20, profile_weight: float = 0.1) -> None:
        self.n_neighbours = n_neighbours
        self.profile_weight = profile_weight

    def fit(self, context: RecContext) -> LookAlikeSource:
        return self.fit_from(context, None)

    def fit_from(self, context: RecContext, saved: Path | None) -> LookAlikeSource:
        """:meth:`fit`; the buyers' vectors mapped from ``saved`` when it has them."""
        super().fit(context)
        o = context.orders
        o = o[o["ordered_on"] >= context.cutoff - pd.Timedelta(days=RECENT_DAYS * 2)]
        buyers = np.sort(o["client_id"].unique()).astype(np.int64)
        self.buyers_ = buyers
        self.bought_ = purchase_matrix(o, buyers, self.codes_)
        commissions = context.frames.commissions
        self.buyer_vectors_ = keyed_vectors(
            saved,
            "buyers",
            buyers,
            lambda: context.text.client_vectors(commissions, buyers, context.cutoff)[0],
        )
        # client_vectors' mask: the buyers with a commission
        self.buyer_has_ = np.isin(buyers, commissions["client_id"].to_numpy())
        kind, field = self._profile(buyers)
        self.kinds_ = pd.Index(np.unique(kind))
        self.fields_ = pd.Index(np.unique(field[field != ""]))
        weight = np.float32(self.profile_weight)
        self.buyer_profile_ = self._one_hot(*self._profile_codes(buyers)) * weight
        self.__dict__.pop("buyer_search_", None)  # of the buyers fitted before
        return self

    @cached_property
    def buyer_search_(self) -> np.ndarray:
        """What :meth:`neighbours` searches: each buyer's text and profile in one row.
        Built at the first search, not at fit: a server opening a version at 100,000
        clients would spend 50-200 ms on it, and only live calls of clients without
        saved scores search."""
        text = self.context_.text.search_vectors(self.buyer_vectors_)
        return np.hstack([text, self.buyer_profile_])

    def save_fitted(self, folder: Path) -> None:
        """The buyers' vectors (each a weighted mean of its commissions')."""
        save_keyed_vectors(folder, "buyers", self.buyers_, self.buyer_vectors_)

    def _profile(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prof = self.context_.clients.reindex(client_ids)
        kind = prof["kind"].astype(str).to_numpy()
        field = prof.get("industry_field", pd.Series(index=prof.index, dtype=object))
        return kind, field.fillna("").astype(str).to_numpy()

    def _profile_codes(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Kind and field as positions among the buyers' kinds and (non-empty) fields;
        -1 for one no buyer has and for an empty field, which so matches nothing."""
        kind, field = self._profile(client_ids)
        return self.kinds_.get_indexer(kind), self.fields_.get_indexer(field)

    def _one_hot(self, kind: np.ndarray, field: np.ndarray) -> np.ndarray:
        """Kind and field codes as one float32 row of indicators each (a negative code,
        unknown or empty, sets none): the product of a client's row and a buyer's is
        how many of the two they share."""
        nk = len(self.kinds_)
        out = np.zeros((len(kind), nk + len(self.fields_)), dtype=np.float32)
        rows = np.arange(len(kind))
        out[rows[kind >= 0], kind[kind >= 0]] = 1.0
        out[rows[field >= 0], nk + field[field >= 0]] = 1.0
        return out

    def neighbours(self, client_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour client ids and similarities, ``(n, n_neighbours)``, best first
        (ties by buyer order); ``-1`` pads.

        An exact inner-product search (FAISS) finds each client's
        :data:`CANDIDATES` per neighbour buyers by text plus profile without the
        similarity's clipping of each channel at zero; the candidates are then scored
        as :meth:`TextSpace.similarity <recsvc.recommend.text.TextSpace.similarity>`
        scores them. A dense clients x buyers product with a top-k over every row took
        58 of the 72 s of every client's neighbours at 100,000 clients.
        """
        client_ids = np.asarray(client_ids, dtype=np.int64)
        n, kk = len(client_ids), self.n_neighbours
        ids = np.full((n, kk), -1, dtype=np.int64)
        sims = np.zeros((n, kk))
        ctx = self.context_
        if len(self.buyers_) == 0 or n == 0:
            return ids, sims
        vecs, has = ctx.text.client_vectors(ctx.frames.commissions, client_ids, ctx.cutoff)
        profile = self._one_hot(*self._profile_codes(client_ids))
        query = np.hstack([ctx.text.search_vectors(vecs), profile])
        # each client's own column, found by binary search, is never its neighbour
        own = np.minimum(np.searchsorted(self.buyers_, client_ids), len(self.buyers_) - 1)
        own[self.buyers_[own] != client_ids] = -1
        m = min(kk, len(self.buyers_))
        k = min(len(self.buyers_), CANDIDATES * kk + 1)  # one more: the client itself
        # every client at once: FAISS blocks the queries itself (in blocks of 256 the
        # search took 80 s instead of 12 s for 100,000 clients)
        _, cands = faiss.knn(query, self.buyer_search_, k, metric=faiss.METRIC_INNER_PRODUCT)
        for start in range(0, n, NEIGHBOUR_CHUNK):  # candidates scored in bounded blocks
            part = slice(start, min(start + NEIGHBOUR_CHUNK, n))
            cand = cands[part]
            found = cand >= 0
            cand = np.where(found, cand, 0)
            block = vecs.take(np.arange(start, part.stop))
            s = ctx.text.pair_similarity(block, self.buyer_vectors_, cand)
            s[~self.buyer_has_[cand] | ~has[part, None]] = 0.0
            s += np.einsum("nd,nkd->nk", profile[part], self.buyer_profile_[cand])
            s[~found | (cand == own[part, None])] = -np.inf
            order = np.lexsort((cand, -s))[:, :m]
            ids[part, :m] = self.buyers_[np.take_along_axis(cand, order, axis=1)]
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
        # every client's neighbours at once (a loop of isin and .loc per client was a
        # third of binding the ranker at 100k clients): a neighbour that is no buyer
        # weighs nothing, and so contributes what skipping it did
        rows = pd.Index(self.buyers_).get_indexer(ids.ravel()).reshape(ids.shape)
        w = np.where((ids >= 0) & (rows >= 0), sims, 0.0)
        total = w.sum(axis=1)
        some = np.flatnonzero(total > 0)
        for start in range(0, len(some), CHUNK):  # (clients x neighbours x products) blocks
            at = some[start : start + CHUNK]
            bought = self.bought_[np.maximum(rows[at], 0)]
            out[at] = np.einsum("cn,cnp->cp", w[at], bought) / total[at, None]
        return out
