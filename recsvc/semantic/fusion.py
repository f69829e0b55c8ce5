"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

``score(d) = Σ_channels 1 / (k + rank_c(d))`` with ranks starting at 1; a channel that
did not return ``d`` adds nothing.

Example:
    >>> rrf({"dense": ["a", "b"], "lexical": ["b", "c"]}, k=60)[0][0]
    'b'
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[Hashable]], k: int = 60) -> list[tuple[Hashable, float]]:
    """Fuse ranked key lists; returns ``(key, score)`` best first (ties keep first-seen order)."""
    scores: dict[Hashable, float] = {}
    for ranking in rankings.values():
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
