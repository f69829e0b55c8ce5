"""The ranker's training data at one cutoff, built once, batch by batch.

A :class:`PairBlock` holds what the ranker's fit and its held-out checks read at one
historical cutoff, and nothing more:

* one client row per known client (the client model's inputs, and who bought
  anything in the label window after the cutoff);
* (client, product) pair rows only for the clients the fit reads them for: every
  buyer (their eligible products form one lambdarank query group) and, where asked,
  a seeded sample of non-buyers (the held-out Brier score also covers clients who
  bought nothing; each sampled one stands for ``1 / rate`` of them).

Pair rows of non-buyers are most of a cutoff's pairs and no lambdarank group uses
them, so a block costs the candidate sources' scores of its buyers, not of every
client. Every array is ``float32``.

:func:`stack_groups` lays blocks out as one lambdarank matrix; beyond a budget of
rows it keeps each query group's positives and a seeded sample of its negatives
(documented in ``docs/recommender.md``).

Example:
    >>> block = build_block(ctx, sources, codes=codes, categories=cats, kinds=kinds,
    ...                     horizon_months=12)                          # doctest: +SKIP
    >>> block.X.shape[0] == len(block.rows) * len(codes)               # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsvc.recommend.context import RecContext
from recsvc.recommend.metrics import ndcg_at_k
from recsvc.recommend.pairs import client_matrix, pair_features, purchase_labels
from recsvc.recommend.sources import CandidateSource

__all__ = [
    "PairBlock",
    "StackedGroups",
    "build_block",
    "holdout_metrics",
    "known_clients",
    "stack_groups",
]


@dataclass(frozen=True)
class PairBlock:
    """One cutoff's training rows.

    Attributes:
        cutoff: the cutoff.
        ids: the clients known at the cutoff (with a commission before it).
        client: :func:`~recsvc.recommend.pairs.client_matrix` of ``ids`` (``float32``).
        buyer: per client of ``ids``, bought anything in the label window.
        rows: positions in ``ids`` of the clients with pair rows, buyers first.
        weight: per client of ``rows``, how many clients it stands for (1 for buyers).
        X: pair features of ``rows``, client-major (``len(rows) * n_products`` rows).
        y: ``(len(rows), n_products)`` labels.
        elig: ``(len(rows), n_products)`` eligibility.
    """

    cutoff: pd.Timestamp
    ids: np.ndarray
    client: pd.DataFrame
    buyer: np.ndarray
    rows: np.ndarray
    weight: np.ndarray
    X: pd.DataFrame
    y: np.ndarray
    elig: np.ndarray

    @property
    def n_buyers(self) -> int:
        """Clients with a purchase in the label window (the query groups)."""
        return int(self.buyer.sum())


def known_clients(ctx: RecContext) -> np.ndarray:
    """Clients with a commission before the cutoff, sorted."""
    ids = np.sort(ctx.frames.commissions["client_id"].unique()).astype(np.int64)
    return ids[np.isin(ids, ctx.clients.index.to_numpy())]


def build_block(
    ctx: RecContext,
    sources: Sequence[CandidateSource],
    *,
    codes: np.ndarray,
    categories: Sequence[str],
    kinds: Sequence[str],
    horizon_months: int,
    non_buyers: int = 0,
    seed: int = 0,
) -> PairBlock:
    """The block of ``ctx``'s cutoff: client rows of everyone, pair rows of buyers and
    of ``non_buyers`` sampled others (seeded)."""
    ids = known_clients(ctx)
    client = client_matrix(ctx, ids, kinds).astype(np.float32)
    labels = purchase_labels(ctx, ids, codes, horizon_months)
    buyer = labels.sum(axis=1) > 0
    bought = np.flatnonzero(buyer)
    others = np.flatnonzero(~buyer)
    take = min(non_buyers, len(others))
    sampled = np.sort(np.random.default_rng(seed).choice(others, take, replace=False))
    rows = np.concatenate([bought, sampled]).astype(np.int64)
    weight = np.ones(len(rows))
    if take:
        weight[len(bought) :] = len(others) / take
    X, elig = pair_features(
        ctx,
        sources,
        ids[rows],
        codes=codes,
        categories=categories,
        kinds=kinds,
        client=client,
    )
    return PairBlock(
        cutoff=pd.Timestamp(ctx.cutoff),
        ids=ids,
        client=client,
        buyer=buyer,
        rows=rows,
        weight=weight,
        X=X,
        y=labels[rows].astype(np.float32),
        elig=elig,
    )


@dataclass(frozen=True)
class StackedGroups:
    """Blocks laid out for LightGBM: lambdarank rows with their query groups, and the
    client model's rows."""

    X: pd.DataFrame
    y: np.ndarray
    groups: np.ndarray
    client_X: pd.DataFrame
    client_y: np.ndarray
    sampled: bool


def stack_groups(
    blocks: Sequence[PairBlock],
    features: Sequence[str],
    client_features: Sequence[str],
    *,
    max_rows: int | None = None,
    min_negatives: int = 3,
    seed: int = 0,
) -> StackedGroups:
    """Each buyer's eligible products as one query group, over all ``blocks``.

    Beyond ``max_rows`` pair rows, each group keeps its positives and a seeded sample of
    its negatives, as many as the budget allows and at least ``min_negatives``
    (lambdarank learns from the order of positives over negatives inside a group, so
    thinning negatives evenly keeps every group's signal).
    """
    rng = np.random.default_rng(seed)
    group_sizes: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    parts: list[pd.DataFrame] = []
    cX, cy = [], []
    total = sum(int(b.elig[: b.n_buyers].sum()) for b in blocks)
    sampled = max_rows is not None and total > max_rows
    for b in blocks:
        cX.append(b.client.reindex(columns=client_features).reset_index(drop=True))
        cy.append(b.buyer.astype(int))
        m = b.y.shape[1]
        nb = b.n_buyers
        elig, y = b.elig[:nb], b.y[:nb]
        keep = elig.copy()
        if sampled:
            assert max_rows is not None
            neg = elig & (y <= 0)
            share = max(0.0, (max_rows - float((elig & (y > 0)).sum())) / max(neg.sum(), 1))
            draw = rng.random(neg.shape) < share
            # at least ``min_negatives`` per group, the first ones by a random order
            order = np.argsort(np.where(neg, rng.random(neg.shape), 2.0), axis=1)
            floor = np.zeros_like(neg)
            np.put_along_axis(floor, order[:, :min_negatives], True, axis=1)
            keep = (elig & (y > 0)) | (neg & (draw | floor))
        r, c = np.nonzero(keep)  # row-major: groups stay contiguous, products in order
        labels.append(y[r, c])
        group_sizes.append(keep.sum(axis=1))
        X = b.X.reindex(columns=features)
        parts.append(X.iloc[r * m + c].reset_index(drop=True))
    sizes = np.concatenate(group_sizes) if group_sizes else np.zeros(0, dtype=int)
    return StackedGroups(
        X=pd.concat(parts, ignore_index=True),
        y=np.concatenate(labels),
        groups=sizes[sizes > 0],
        client_X=pd.concat(cX, ignore_index=True),
        client_y=np.concatenate(cy),
        sampled=sampled,
    )


def holdout_metrics(
    block: PairBlock, raw: np.ndarray, proba: np.ndarray, codes: np.ndarray
) -> dict[str, float]:
    """How a model scored on a held-out block: NDCG@5 of its ranking (and of popularity)
    over the buyers; Brier score, mean probability and base rate over buyers and the
    sampled non-buyers, each weighted by how many clients it stands for.

    Args:
        block: the held-out block.
        raw: the model's scores of the block's pair rows, ``(len(rows), n_products)``.
        proba: the calibrated probabilities of the same rows.
        codes: the products, in column order.
    """
    nb, y, elig = block.n_buyers, block.y, block.elig

    def ranked(values: np.ndarray) -> list[list[str]]:
        order = np.argsort(-np.where(elig[:nb], values[:nb], -np.inf), axis=1, kind="stable")
        return [list(codes[o]) for o in order]

    truth = [set(codes[row > 0]) for row in y[:nb]]
    pop = block.X["prod_pop"].to_numpy().reshape(len(block.rows), -1)
    w = np.broadcast_to(block.weight[:, None], elig.shape)[elig]
    return {
        "ranker_holdout_ndcg5": ndcg_at_k(ranked(raw), truth),
        "ranker_holdout_popularity_ndcg5": ndcg_at_k(ranked(pop), truth),
        "ranker_holdout_brier": float(np.average((proba[elig] - y[elig]) ** 2, weights=w)),
        "ranker_holdout_mean_proba": float(np.average(proba[elig], weights=w)),
        "ranker_holdout_base_rate": float(np.average(y[elig], weights=w)),
    }
