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

Modules: :mod:`~recsvc.recommend.sources.base` (the base class, ``top_k``),
:mod:`~recsvc.recommend.sources.similar` (text and profile similarity),
:mod:`~recsvc.recommend.sources.history` (purchase history, baselines),
:mod:`~recsvc.recommend.sources.chain` (the chain).
"""

from __future__ import annotations

from recsvc.recommend.sources.base import (
    FOLLOW_DAYS,
    RECENT_DAYS,
    CandidateSource,
    Exclude,
    purchase_matrix,
    top_k,
    value_added_cases,
)
from recsvc.recommend.sources.chain import SourceChain, default_sources
from recsvc.recommend.sources.history import (
    LadderSource,
    PopularInSegmentSource,
    PopularSource,
    PurposeSource,
    RandomSource,
)
from recsvc.recommend.sources.similar import ContentSource, LookAlikeSource

__all__ = [
    "FOLLOW_DAYS",
    "RECENT_DAYS",
    "CandidateSource",
    "ContentSource",
    "Exclude",
    "LadderSource",
    "LookAlikeSource",
    "PopularInSegmentSource",
    "PopularSource",
    "PurposeSource",
    "RandomSource",
    "SourceChain",
    "default_sources",
    "purchase_matrix",
    "top_k",
    "value_added_cases",
]
