"""Fusing the dense and lexical channels' ranked lists into one.

- :func:`weighted` (the layer's default): each channel's scores are divided by the
  channel's best score (its floor is 0: cosines at or below 0 never reach fusion, BM25
  is never negative), then summed with per-channel weights. This is the convex
  combination with theoretical-minimum normalisation of Bruch, Gai & Ingber ("An
  analysis of fusion functions for hybrid retrieval", TOIS 2023), who found it better
  than reciprocal rank fusion and robust to its one weight.
- :func:`rrf`: reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009),
  ``score(d) = Σ_channels 1 / (k + rank_c(d))`` with ranks starting at 1. It ignores how
  far apart the scores are, so a strong dense match and a weak lexical one count alike;
  on the real data in ``docs/semantic.md`` it was below the dense channel alone.

A channel that did not return ``d`` adds nothing. :func:`weighted_many` is
:func:`weighted` over many queries at once, on integer ids in arrays (the portal
precomputation fuses two or three searches per client).

Example:
    >>> rrf({"dense": ["a", "b"], "lexical": ["b", "c"]}, k=60)[0][0]
    'b'
    >>> weighted({"dense": (["a", "b"], [0.9, 0.3]), "lexical": (["b"], [7.0])},
    ...          {"dense": 0.8, "lexical": 0.2})[0]
    ('a', 0.8)
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np

from recsvc.semantic.hits import RowHits, first_of_rows


def rrf(rankings: Mapping[str, Sequence[Hashable]], k: int = 60) -> list[tuple[Hashable, float]]:
    """Fuse ranked key lists; returns ``(key, score)`` best first (ties keep first-seen order)."""
    scores: dict[Hashable, float] = {}
    for ranking in rankings.values():
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def weighted(
    channels: Mapping[str, tuple[Sequence[Hashable], Sequence[float]]],
    weights: Mapping[str, float],
) -> list[tuple[Hashable, float]]:
    """Weighted sum of max-normalised channel scores, best first (ties keep first-seen order).

    Args:
        channels: per channel, ``(keys, scores)`` best first, scores non-negative.
        weights: per channel; a channel missing here weighs 0.

    Returns:
        ``(key, score)``, scores divided by the total weight of the channels that
        returned something, so the best possible hit scores 1 whether one channel or
        both answered.
    """
    scores: dict[Hashable, float] = {}
    total = 0.0
    for name, (keys, values) in channels.items():
        weight = float(weights.get(name, 0.0))
        top = max(values, default=0.0)
        if not keys or weight <= 0.0 or top <= 0.0:
            continue
        total += weight
        scale = weight / top
        for key, value in zip(keys, values, strict=True):
            scores[key] = scores.get(key, 0.0) + scale * max(float(value), 0.0)
    if total <= 0.0:
        return []
    return sorted(((key, s / total) for key, s in scores.items()), key=lambda kv: -kv[1])


def weighted_many(
    channels: Mapping[str, RowHits], weights: Mapping[str, float], n_queries: int, k: int
) -> RowHits:
    """:func:`weighted` of each of ``n_queries`` queries, its ``k`` best: the same
    scores to the last bit and the same order (ties keep first-seen order: the first
    channel's hits, then the next's).

    Args:
        channels: per channel, its hits of every query, keys as integer ids
            (:data:`~recsvc.semantic.hits.RowHits`).
        weights: per channel; a channel missing here weighs 0.

    Returns:
        ``(query row, id, score)`` of the fused hits, by query, each query's best first.
    """
    parts = []
    total = np.zeros(n_queries)
    for name, (rows, ids, values) in channels.items():
        weight = float(weights.get(name, 0.0))
        rows = np.asarray(rows, dtype=np.int64)
        values = np.maximum(np.asarray(values, dtype=np.float64), 0.0)
        if weight <= 0.0 or not len(rows):
            continue
        top = np.zeros(n_queries)
        np.maximum.at(top, rows, values)
        answered = top > 0.0  # a query whose best score is 0 gets nothing from the channel
        total[answered] += weight
        scale = np.divide(weight, top, out=np.zeros(n_queries), where=answered)
        keep = answered[rows]
        parts.append((rows[keep], np.asarray(ids)[keep], scale[rows[keep]] * values[keep]))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    rows, ids, added = (np.concatenate(p) for p in zip(*parts, strict=True))
    seen = np.arange(len(rows))  # first-seen order: channel by channel, each best first
    order = np.lexsort((seen, ids, rows))
    rows, ids, added, seen = rows[order], ids[order], added[order], seen[order]
    first = np.flatnonzero(np.r_[True, (rows[1:] != rows[:-1]) | (ids[1:] != ids[:-1])])
    rows, ids, seen = rows[first], ids[first], seen[first]
    fused = np.add.reduceat(added, first) / total[rows]  # summed in channel order
    best = np.lexsort((seen, -fused, rows))
    rows, ids, fused = rows[best], ids[best], fused[best]
    kept = first_of_rows(rows, k)
    return rows[kept], ids[kept], fused[kept]
