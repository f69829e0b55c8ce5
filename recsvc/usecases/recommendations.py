"""Next best services for a client: computed live by the version in service, or the
portal's list stored with the version.

Every surface answers one shape, :class:`RecommendationsPublic`, whose items are
:class:`~recsvc.recommend.offer.Offer`; the API returns it, ``recsvc recommend --json``
prints it. A stored portal list is already a JSON array of offers: it is spliced into
the envelope as bytes (:meth:`Recommendations.encoded_body`), never decoded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field

from recsvc.recommend.feedback import Shown, record_impressions
from recsvc.recommend.offer import OFFERS, Offer
from recsvc.runtime import Runtime
from recsvc.serving import ServingBundle
from recsvc.store.enums import Surface

__all__ = [
    "ActionPublic",
    "Recommendations",
    "RecommendationsPublic",
    "live",
    "portal",
    "portal_stored",
]

ServedFrom = Literal["precomputed", "live"]


class ActionPublic(BaseModel):
    """A relationship action of a segment strategy (training, return visit, …)."""

    code: str
    name_zh: str
    name_en: str


class RecommendationsPublic(BaseModel):
    """A client's recommendations as every surface answers them."""

    client_external_id: str
    surface: Surface
    model_version: str
    served_from: ServedFrom
    data: list[Offer]
    count: int
    actions: list[ActionPublic] = Field(
        default_factory=list, description="Relationship actions beside the products (staff)"
    )


@dataclass(frozen=True)
class Recommendations:
    """Recommendations as served: which version, which surface, stored or live.

    Either ``offers`` (decoded) or ``encoded`` (a stored portal list: a JSON array of
    offers, ``count`` of them) is set.
    """

    version: str
    surface: Surface
    served_from: ServedFrom
    offers: list[Offer] = field(default_factory=list)
    actions: list[ActionPublic] = field(default_factory=list)
    encoded: bytes | None = None
    count: int | None = None

    @property
    def n(self) -> int:
        """How many offers (also when only ``encoded`` is set)."""
        return self.count if self.count is not None else len(self.offers)

    def public(self, client_external_id: str) -> RecommendationsPublic:
        """The response body (decoded offers)."""
        offers = self.offers if self.encoded is None else OFFERS.validate_json(self.encoded)
        return RecommendationsPublic(
            client_external_id=client_external_id,
            surface=self.surface,
            model_version=self.version,
            served_from=self.served_from,
            data=offers,
            count=len(offers),
            actions=self.actions,
        )

    def encoded_body(self, client_external_id: str) -> bytes:
        """The response body as JSON bytes, the stored offers spliced in unchanged."""
        assert self.encoded is not None
        head = json.dumps(
            {
                "client_external_id": client_external_id,
                "surface": self.surface.value,
                "model_version": self.version,
                "served_from": self.served_from,
                "count": self.n,
                "actions": [a.model_dump() for a in self.actions],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        return head[:-1] + b',"data":' + self.encoded + b"}"


def live(
    rt: Runtime,
    *,
    client_id: int,
    surface: Surface,
    k: int | None = None,
    actor: str | None = None,
    record: bool = False,
) -> Recommendations:
    """Next best services computed now, with explanations, by the version in service.

    Staff surfaces also get the relationship actions of the client's segment. With
    ``record`` each offer is stored as an impression and carries its id.

    Raises:
        NotReady: no model is in service.
    """
    bundle = rt.require_bundle()
    offers = _offers(bundle, client_id, surface, k or rt.settings.recommend_k)
    actions = _actions(bundle, client_id) if surface is not Surface.PORTAL else []
    if record and offers:
        shown = [
            Shown(item_code=o.code, rank=o.rank or i + 1, score=o.score)
            for i, o in enumerate(offers)
        ]
        ids = record_impressions(
            rt.db, client_id, shown, surface=surface, model_version=bundle.version, actor=actor
        )
        offers = [
            o.model_copy(update={"impression_id": i}) for o, i in zip(offers, ids, strict=True)
        ]
    return Recommendations(bundle.version, surface, "live", offers, actions)


def portal_stored(rt: Runtime, *, client_id: int) -> Recommendations | None:
    """The portal list stored with the version in service (``encoded``), or ``None``
    if it has none for this client; memory only, never computes.

    Raises:
        NotReady: no model is in service.
    """
    bundle = rt.require_bundle()
    stored = bundle.portal_recs.get(client_id)
    if stored is None:
        return None
    count, encoded = stored
    return Recommendations(
        bundle.version, Surface.PORTAL, "precomputed", encoded=encoded, count=count
    )


def portal(rt: Runtime, *, client_id: int) -> Recommendations:
    """The portal list: stored with the version, or computed live for a client the
    version has no list for.

    Raises:
        NotReady: no model is in service.
    """
    stored = portal_stored(rt, client_id=client_id)
    if stored is not None:
        return stored
    return live(rt, client_id=client_id, surface=Surface.PORTAL)


def _offers(bundle: ServingBundle, client_id: int, surface: Surface, k: int) -> list[Offer]:
    return list(bundle.recommender.recommend(client_id, surface, k))  # thread-safe, no lock


def _actions(bundle: ServingBundle, client_id: int) -> list[ActionPublic]:
    return [
        ActionPublic(code=a.item_code, name_zh=a.name_zh, name_en=a.name_en)
        for a in bundle.recommender.actions(client_id)
    ]
