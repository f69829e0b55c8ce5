"""The sources chained: :func:`default_sources` and :class:`SourceChain`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recsvc.recommend.context import RecContext
from recsvc.recommend.sources.base import CandidateSource, Exclude
from recsvc.recommend.sources.history import (
    LadderSource,
    PopularInSegmentSource,
    PopularSource,
    PurposeSource,
)
from recsvc.recommend.sources.similar import ContentSource, LookAlikeSource

__all__ = ["SourceChain", "default_sources"]


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
