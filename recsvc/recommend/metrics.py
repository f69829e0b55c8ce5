"""Ranking metrics as pure functions (checked against naive references in the tests).

Each takes ``recommended``: a sequence of ranked code lists (one per client), and
``relevant``: a sequence of sets of codes the client actually bought. Clients with no
relevant item should be left out by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Ranked = Sequence[Sequence[str]]
Truth = Sequence[set[str] | frozenset[str]]


def _clean(row: Sequence[str], k: int) -> list[str]:
    return [c for c in list(row) if c][:k]


def ndcg_at_k(recommended: Ranked, relevant: Truth, k: int = 5) -> float:
    """Mean NDCG@k with binary relevance (ideal DCG over ``min(|relevant|, k)`` hits)."""
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    vals = []
    for rec, rel in zip(recommended, relevant, strict=True):
        if not rel:
            continue
        gains = np.array([c in rel for c in _clean(rec, k)], dtype=float)
        dcg = float((gains * disc[: len(gains)]).sum())
        idcg = float(disc[: min(len(rel), k)].sum())
        vals.append(dcg / idcg)
    return float(np.mean(vals)) if vals else 0.0


def recall_at_k(recommended: Ranked, relevant: Truth, k: int = 5) -> float:
    """Mean share of each client's relevant items found in the top k."""
    vals = [
        len(set(_clean(rec, k)) & set(rel)) / len(rel)
        for rec, rel in zip(recommended, relevant, strict=True)
        if rel
    ]
    return float(np.mean(vals)) if vals else 0.0


def average_precision(rec: Sequence[str], rel: set[str] | frozenset[str], k: int = 5) -> float:
    """AP@k: mean precision at each hit, normalised by ``min(|rel|, k)``."""
    if not rel:
        return 0.0
    hits, total = 0, 0.0
    for i, c in enumerate(_clean(rec, k)):
        if c in rel:
            hits += 1
            total += hits / (i + 1)
    return total / min(len(rel), k)


def map_at_k(recommended: Ranked, relevant: Truth, k: int = 5) -> float:
    """Mean average precision at k."""
    vals = [
        average_precision(rec, rel, k)
        for rec, rel in zip(recommended, relevant, strict=True)
        if rel
    ]
    return float(np.mean(vals)) if vals else 0.0


def catalogue_coverage(recommended: Ranked, catalogue: Sequence[str], k: int = 5) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    if not catalogue:
        return 0.0
    seen = {c for rec in recommended for c in _clean(rec, k)}
    return len(seen & set(catalogue)) / len(set(catalogue))
