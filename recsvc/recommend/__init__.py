"""Next best service: candidate sources, ranker, business rules, explanations,
feedback loop and worklist (``docs/recommender.md``).

Example:
    >>> from recsvc.recommend import Recommender
    >>> rec = Recommender(settings, build_context(frames))              # doctest: +SKIP
    >>> rec.recommend(client_id, "portal", k=5)[0].reasons_en            # doctest: +SKIP

A model version's recommender is opened by :func:`recsvc.serving.open_recommender`.
"""

from __future__ import annotations

from recsvc.recommend.context import RecContext, build_context
from recsvc.recommend.explain import Explainer, Explanation
from recsvc.recommend.feedback import (
    Shown,
    feedback_features,
    rates,
    rates_from_events,
    record_impressions,
    record_outcome,
)
from recsvc.recommend.metrics import catalogue_coverage, map_at_k, ndcg_at_k, recall_at_k
from recsvc.recommend.offer import OFFERS, Evidence, Offer, dump_offers
from recsvc.recommend.ranker import Ranker
from recsvc.recommend.rules import BusinessRules
from recsvc.recommend.service import (
    ActionItem,
    NextBest,
    Recommender,
)
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    LadderSource,
    LookAlikeSource,
    PopularInSegmentSource,
    PopularSource,
    PurposeSource,
    RandomSource,
    SourceChain,
    default_sources,
)
from recsvc.recommend.text import TextSpace
from recsvc.recommend.worklist import WorklistRow, export_worklist, worklist

__all__ = [
    "OFFERS",
    "ActionItem",
    "BusinessRules",
    "CandidateSource",
    "ContentSource",
    "Evidence",
    "Explainer",
    "Explanation",
    "LadderSource",
    "LookAlikeSource",
    "NextBest",
    "Offer",
    "PopularInSegmentSource",
    "PopularSource",
    "PurposeSource",
    "RandomSource",
    "Ranker",
    "RecContext",
    "Recommender",
    "Shown",
    "SourceChain",
    "TextSpace",
    "WorklistRow",
    "build_context",
    "catalogue_coverage",
    "default_sources",
    "dump_offers",
    "export_worklist",
    "feedback_features",
    "map_at_k",
    "ndcg_at_k",
    "rates",
    "rates_from_events",
    "recall_at_k",
    "record_impressions",
    "record_outcome",
    "worklist",
]
