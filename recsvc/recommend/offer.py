"""The one shape of a recommended item, from the recommender to the wire.

An :class:`Offer` is what :class:`~recsvc.recommend.Recommender` returns, what a
version's stored portal lists hold (one JSON array of offers per client) and what the
API answers (the ``data`` items of ``RecommendationsPublic``). Nothing converts it on
the way: a live call, a stored list and a response validate as the same model.

Example:
    >>> o = Offer(code="P01", name_zh="查新", name_en="Novelty search", rank=1, score=0.4)
    >>> Offer.model_validate_json(o.model_dump_json()) == o
    True
    >>> OFFERS.validate_json(dump_offers([o]))[0].code
    'P01'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

__all__ = [
    "OFFERS",
    "Evidence",
    "EvidenceKind",
    "Offer",
    "dump_offers",
    "expected_value",
    "list_prices",
]

EvidenceKind = Literal["own_project", "similar_case", "factor"]


class Evidence(BaseModel):
    """One piece of evidence behind an offer, as a sentence in Chinese and English.

    ``own_project``: one of the client's own commissions (``ref`` is its public id on
    the librarian surface); ``similar_case``: an anonymised past case; ``factor``: a
    model factor or a candidate source's signal.
    """

    model_config = ConfigDict(frozen=True)

    kind: EvidenceKind
    text_zh: str
    text_en: str
    ref: str | None = None
    score: float | None = None


class Offer(BaseModel):
    """One next best service (a product, or a relationship action ``action:…``)."""

    code: str
    kind: Literal["product", "action"] = "product"
    name_zh: str
    name_en: str
    rank: int
    score: float = Field(
        description="P(the client buys this offer within the horizon), calibrated, 0–1"
    )
    expected_value: float | None = Field(
        None,
        description="score × the product's list price, in ¥ (staff surfaces; None without a price)",
    )
    sources: dict[str, float] = Field(
        default_factory=dict, description="Each candidate source's score of this item"
    )
    reasons_zh: list[str] = Field(default_factory=list)
    reasons_en: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    impression_id: int | None = Field(
        None, description="Refer to it when recording an outcome (librarian surface)"
    )

    @property
    def reason_zh(self) -> str:
        """The one-line reason (worklist)."""
        return self.reasons_zh[0] if self.reasons_zh else ""

    @property
    def reason_en(self) -> str:
        return self.reasons_en[0] if self.reasons_en else ""


OFFERS: TypeAdapter[list[Offer]] = TypeAdapter(list[Offer])
"""Validates and dumps a list of offers (a stored portal list, a response's ``data``)."""


def dump_offers(offers: Sequence[Offer]) -> bytes:
    """Offers as one compact JSON array (UTF-8, Chinese unescaped): a stored portal list
    and the ``data`` of a response are these bytes."""
    return OFFERS.dump_json(list(offers))


def list_prices(products: Any) -> dict[str, float]:
    """``code -> list price`` (¥) of a products frame indexed by code; products without
    a price (empty, zero or not a number) are left out."""
    out: dict[str, float] = {}
    for code, price in products["price"].items():
        try:
            value = float(price)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and value > 0:
            out[str(code)] = value
    return out


def expected_value(probability: float, price: float | None) -> float | None:
    """What an offer is worth now: P(buys it within the horizon) × its list price, in ¥
    (``None`` for a product without a price). The worklist ranks by it and every
    surface shows it, so it is computed here only.

    Example:
        >>> expected_value(0.25, 4000.0)
        1000.0
    """
    if price is None or not math.isfinite(probability):
        return None
    return probability * price
