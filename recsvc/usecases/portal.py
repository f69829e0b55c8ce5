"""The client portal in the client's words: what a portal token (and a staff preview)
is shown, and the client's "ask about this".

:func:`offers` turns the portal's recommendations (:func:`recommendations.portal`) into
:class:`PortalPublic`: per offer the product's name, a short description addressed to
the client, what they receive, the guide price or ``None`` ("ask us"), and why: the
client's own projects the offer follows on from, told in the client's words. Nothing
internal goes out: no scores, candidate sources, model factors (the centre's
reasoning), similar cases of other clients or the model version.

Example:
    >>> page = offers(rt, client_id=7, client_external_id="C007")    # doctest: +SKIP
    >>> page.data[0].deliverables_en                                 # doctest: +SKIP
    ['Patent analysis report', 'List of relevant prior art', ...]
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field
from sqlalchemy import select

from recsvc.errors import InvalidInput
from recsvc.recommend.offer import Offer
from recsvc.runtime import Runtime
from recsvc.store.catalogue_texts import CLIENT_TEXTS
from recsvc.store.models import Commission, Product
from recsvc.usecases import events, recommendations
from recsvc.usecases.recommendations import Recommendations

__all__ = ["PortalOfferPublic", "PortalPage", "PortalPublic", "ask", "offers"]

#: The evidence a client reads: its own projects. ``factor`` lines (model factors,
#: candidate sources, upgrade paths, client features) are the centre's reasoning and
#: similar cases are other clients' business; both stay on the staff surfaces.
CLIENT_EVIDENCE = ("own_project",)
CURRENCY = "CNY"


class PortalOfferPublic(BaseModel):
    """One service offered to the client, in words the client reads."""

    code: str = Field(description="The product's code (refer to it when asking about it)")
    rank: int
    name_zh: str
    name_en: str
    summary_zh: str
    summary_en: str
    deliverables_zh: list[str] = Field(default_factory=list)
    deliverables_en: list[str] = Field(default_factory=list)
    price: float | None = Field(None, description="Guide price; null: priced per project")
    currency: str = CURRENCY
    why_zh: list[str] = Field(default_factory=list)
    why_en: list[str] = Field(default_factory=list)


class PortalPublic(BaseModel):
    """A client's portal page: its offers, nothing internal."""

    client_external_id: str
    data: list[PortalOfferPublic]
    count: int


@dataclass(frozen=True)
class PortalPage:
    """The page's body and the recommendations it was made from (for metrics)."""

    public: PortalPublic
    served: Recommendations


def offers(rt: Runtime, *, client_id: int, client_external_id: str) -> PortalPage:
    """The client's portal offers in client-facing words (stored list or live).

    Raises:
        NotReady: no model is in service.
    """
    served = recommendations.portal(rt, client_id=client_id)
    items = [o for o in served.public(client_external_id).data if o.kind == "product"]
    catalogue = _catalogue(rt)
    projects = _projects(rt, client_id, items)
    data = [
        _client_offer(o, catalogue[o.code], projects).model_copy(update={"rank": i + 1})
        for i, o in enumerate(o for o in items if o.code in catalogue)
    ]
    return PortalPage(
        PortalPublic(client_external_id=client_external_id, data=data, count=len(data)), served
    )


def ask(rt: Runtime, *, client_id: int, code: str, rank: int | None = None) -> int:
    """Record the client's "ask about this" for product ``code``: an impression of it on
    the portal, accepted. Returns the impression's id.

    Raises:
        InvalidInput: ``code`` is not an active product.
    """
    if code not in _catalogue(rt):
        raise InvalidInput(f"unknown product {code!r}")
    shown = events.record_portal_events(
        rt,
        client_id=client_id,
        events=[events.PortalEvent("impression", item_code=code, rank=rank)],
    )
    impression = shown[0].id
    events.record_portal_events(
        rt,
        client_id=client_id,
        events=[events.PortalEvent("accepted", impression_id=impression)],
    )
    return impression


@dataclass(frozen=True)
class _Product:
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    price: float | None


def _catalogue(rt: Runtime) -> dict[str, _Product]:
    """The active products by code (the products table, a few dozen rows)."""
    with rt.db.session() as s:
        rows = s.execute(
            select(
                Product.code,
                Product.name_zh,
                Product.name_en,
                Product.description_zh,
                Product.description_en,
                Product.price,
            ).where(Product.active.is_(True))
        ).all()
    return {r[0]: _Product(*r[1:]) for r in rows}


def _projects(rt: Runtime, client_id: int, items: list[Offer]) -> dict[str, tuple[str, str]]:
    """The client's own projects the offers cite, as "why" lines ``(zh, en)`` by id."""
    refs = {e.ref for o in items for e in o.evidence if e.kind in CLIENT_EVIDENCE and e.ref}
    if not refs:
        return {}
    with rt.db.session() as s:
        rows = s.execute(
            select(
                Commission.external_id,
                Commission.title_zh,
                Commission.title_en,
                Commission.commissioned_on,
            ).where(Commission.client_id == client_id, Commission.external_id.in_(refs))
        ).all()
    out: dict[str, tuple[str, str]] = {}
    for ref, zh, en, on in rows:
        if not (zh or en):
            continue
        when = on.strftime("%Y-%m")
        out[ref] = (
            f"基于您的查新项目“{zh or en}”（{when}）",
            f"Follows on from your novelty-search project “{en or zh}” ({when})",
        )
    return out


def _client_offer(
    offer: Offer, product: _Product, projects: dict[str, tuple[str, str]]
) -> PortalOfferPublic:
    text = CLIENT_TEXTS.get(offer.code)
    why: list[tuple[str, str]] = []
    for e in offer.evidence:
        if e.kind in CLIENT_EVIDENCE:
            line = projects.get(e.ref or "", (e.text_zh, e.text_en))
            if line not in why:
                why.append(line)
    price = product.price if product.price and product.price > 0 else None
    return PortalOfferPublic(
        code=offer.code,
        rank=offer.rank,
        name_zh=product.name_zh or offer.name_zh,
        name_en=product.name_en or offer.name_en,
        summary_zh=text.summary_zh if text else product.description_zh,
        summary_en=text.summary_en if text else product.description_en,
        deliverables_zh=list(text.deliverables_zh) if text else [],
        deliverables_en=list(text.deliverables_en) if text else [],
        price=None if text and text.quoted else price,
        why_zh=[zh for zh, _ in why],
        why_en=[en for _, en in why],
    )
