"""What explanations read of the fitted candidate sources, in one place.

The explainer needs three things of the sources: the past cases of the content
source (their vectors, buyers and each product's span of them), the ladder source's
most likely previous step to a product, and the purpose source's lifts. Each is read
here once, into a typed view, so the sentences never reach into a source.

Example:
    >>> cases = CaseBase.of(sources)                        # doctest: +SKIP
    >>> cases.columns({"trend_analysis": 0})                # doctest: +SKIP
    [(0, slice(0, 12, None))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from recsvc.recommend.sources import CandidateSource, ContentSource, LadderSource, PurposeSource
from recsvc.semantic.documents import case_id

__all__ = ["CaseBase", "LadderSteps", "PurposeLifts"]


def _named(sources: Iterable[CandidateSource], name: str) -> CandidateSource | None:
    return next((s for s in sources if s.name == name), None)


@dataclass(frozen=True)
class CaseBase:
    """The content source's past cases (value-added purchases after a commission).

    Attributes:
        vectors: the text vectors of the cases' commissions (one row per case).
        clients: the buyer of each case.
        commission_ids: each case's commission.
        products: each case's product code.
        spans: each product's cases, a contiguous ``(start, stop)`` row range.
    """

    vectors: Any
    clients: np.ndarray
    commission_ids: np.ndarray
    products: np.ndarray
    spans: Mapping[str, tuple[int, int]]

    @classmethod
    def of(cls, sources: Iterable[CandidateSource]) -> CaseBase | None:
        """The cases of the ``content`` source, or ``None`` without one or without cases."""
        content = _named(sources, "content")
        if not isinstance(content, ContentSource) or content.cases_.empty:
            return None
        cases = content.cases_
        return cls(
            vectors=content.case_vectors_,
            clients=cases["client_id"].to_numpy(),
            commission_ids=cases["commission_id"].to_numpy(dtype=np.int64),
            products=np.asarray(content.case_products_),
            spans=dict(content.case_spans_),
        )

    @cached_property
    def case_ids(self) -> np.ndarray:
        """Each case's id in the semantic index (:func:`~recsvc.semantic.documents.case_id`)."""
        pairs = zip(self.commission_ids.tolist(), self.products.tolist(), strict=True)
        return np.array([case_id(c, str(p)) for c, p in pairs], dtype=object)

    def columns(self, codes: Mapping[str, int]) -> list[tuple[int, slice]]:
        """``(column, rows of its cases)`` for each code of ``codes`` that has cases."""
        return [(j, slice(*self.spans[c])) for c, j in codes.items() if c in self.spans]


@dataclass(frozen=True)
class LadderSteps:
    """The ladder source's transition probabilities between products."""

    states: Sequence[str]
    codes: Sequence[str]
    transitions: np.ndarray

    @classmethod
    def of(cls, sources: Iterable[CandidateSource]) -> LadderSteps | None:
        ladder = _named(sources, "ladder")
        if not isinstance(ladder, LadderSource):
            return None
        return cls(list(ladder.states_), list(ladder.codes_), ladder.transitions_)

    def previous(self, bought: Sequence[str], code: str) -> str | None:
        """Of the products ``bought`` (``code`` aside), the likeliest step before ``code``."""
        before = [c for c in bought if c != code]
        if not before:
            return None
        j = self.codes.index(code)
        row: dict[str, int] = {}
        for i, s in enumerate(self.states):
            row.setdefault(s, i)
        return str(max(before, key=lambda a: self.transitions[row[a], j] if a in row else 0.0))


@dataclass(frozen=True)
class PurposeLifts:
    """How much more often each product is bought after a commission of each purpose."""

    lifts: Mapping[str, Mapping[str, float]]
    lookback_days: int

    @classmethod
    def of(cls, sources: Iterable[CandidateSource]) -> PurposeLifts | None:
        src = _named(sources, "purpose")
        if not isinstance(src, PurposeSource):
            return None
        lifts = {
            str(u): {str(c): float(v) for c, v in row.items()}
            for u, row in src.lift_.to_dict("index").items()
        }
        return cls(lifts, int(src.lookback_days))

    def best(self, purposes: Iterable[str], code: str) -> tuple[str, float] | None:
        """The purpose among ``purposes`` with the highest lift for ``code``, when above 1.2."""
        found = [
            (u, self.lifts[u][code]) for u in purposes if u in self.lifts and code in self.lifts[u]
        ]
        if not found:
            return None
        u, lift = max(found, key=lambda t: t[1])
        return (u, lift) if lift > 1.2 else None
