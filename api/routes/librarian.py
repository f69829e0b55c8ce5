"""Librarian work: find clients, read their 360° profile, get next best services,
similar clients, semantic search, the worklist (JSON, CSV, Excel), record outcomes.

Reading clients is open to librarians and analysts; contacts (personal data) appear
only for librarian and admin keys. Recommendations, worklists and outcomes are
librarian work.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from api.auditing import ApiAudit
from api.deps import (
    API_PREFIX,
    CONTACT_ROLES,
    ClientDep,
    LibrarianDep,
    RuntimeDep,
    StaffReadDep,
)
from api.schemas import (
    ClientProfilePublic,
    ClientPublic,
    ClientsPublic,
    CommissionPublic,
    ComplaintPublic,
    ContactPublic,
    EventPublic,
    FeedbackCreate,
    FeedbackPublic,
    InteractionPublic,
    OrderPublic,
    RecommendationsPublic,
    SearchHitPublic,
    SearchHitsPublic,
    SimilarClientPublic,
    SimilarClientsPublic,
    WorklistPublic,
    WorklistRowPublic,
)
from api.views import EXPORT_TYPES, export_response, recommendations_response, score_public
from recsvc.store.enums import ClientKind, Surface
from recsvc.usecases import clients, events, recommendations, scoring
from recsvc.usecases import search as searching
from recsvc.usecases import worklist as worklists
from recsvc.usecases.clients import ClientFilters
from recsvc.usecases.worklist import WorklistFilters

router = APIRouter(prefix=API_PREFIX, tags=["librarian"])


@router.get("/clients", response_model=ClientsPublic, summary="List and search clients")
def list_clients(
    _: StaffReadDep,
    rt: RuntimeDep,
    q: Annotated[str | None, Query(max_length=200, description="Text in id, name, field")] = None,
    kind: ClientKind | None = None,
    industry: Annotated[str | None, Query(max_length=120)] = None,
    account_manager: Annotated[str | None, Query(max_length=80)] = None,
    region: Annotated[str | None, Query(max_length=120)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ClientsPublic:
    """Clients matching every filter given, a page at a time, with the total count."""
    filters = ClientFilters(
        q=q,
        kind=kind.value if kind else None,
        industry=industry,
        account_manager=account_manager,
        region=region,
    )
    rows, count = clients.list_clients(rt, filters=filters, offset=offset, limit=limit)
    return ClientsPublic(data=[ClientPublic.model_validate(r) for r in rows], count=count)


@router.get(
    "/clients/{external_id}",
    response_model=ClientProfilePublic,
    dependencies=[ApiAudit.client_view],
    summary="Client 360° profile",
)
def client_profile(
    principal: StaffReadDep, client: ClientDep, rt: RuntimeDep
) -> ClientProfilePublic:
    """Profile, commissions, orders, feedback, complaints, score with reasons, segment and
    actions, CLV, relationship stage. Contacts only for librarian and admin keys."""
    show_contacts = principal.role in CONTACT_ROLES
    record = clients.record(rt, client_id=client.client_id)
    history = clients.history(rt, client_id=client.client_id, include_contacts=show_contacts)
    score = scoring.client_score(rt, client_id=client.client_id)
    return ClientProfilePublic(
        client=ClientPublic.model_validate(record),
        contacts=[ContactPublic.model_validate(c) for c in history.contacts]
        if show_contacts
        else None,
        commissions=[CommissionPublic.model_validate(c) for c in history.commissions],
        orders=[
            OrderPublic(
                external_id=o.order.external_id,
                product_code=o.product_code,
                product_name_zh=o.product_name_zh,
                product_name_en=o.product_name_en,
                ordered_on=o.order.ordered_on,
                amount=o.order.amount,
                status=o.order.status,
            )
            for o in history.orders
        ],
        feedback=[FeedbackPublic.model_validate(f) for f in history.feedback],
        complaints=[ComplaintPublic.model_validate(c) for c in history.complaints],
        interactions=[InteractionPublic.model_validate(i) for i in history.interactions],
        score=score_public(score) if score else None,
        model_version=score.version if score else None,
    )


@router.get(
    "/clients/{external_id}/recommendations",
    response_model=RecommendationsPublic,
    dependencies=[ApiAudit.recommendations],
    summary="Next best services for a client (live, with explanations)",
)
def client_recommendations(
    principal: LibrarianDep,
    client: ClientDep,
    rt: RuntimeDep,
    request: Request,
    response: Response,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> RecommendationsPublic:
    """Computed now with the model in service; each item carries an ``impression_id`` to
    refer to when recording the outcome. The ``X-Model-Version`` header names the model."""
    result = recommendations.live(
        rt,
        client_id=client.client_id,
        surface=Surface.LIBRARIAN,
        k=k,
        actor=principal.name,
        record=True,
    )
    return recommendations_response(result, client.external_id, request, response)


@router.get(
    "/clients/{external_id}/similar",
    response_model=SimilarClientsPublic,
    dependencies=[ApiAudit.similar],
    summary="Similar clients",
)
def similar_clients(
    _: StaffReadDep,
    client: ClientDep,
    rt: RuntimeDep,
    k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarClientsPublic:
    """Clients whose research directions and commissions look most like this one's."""
    rows = searching.similar_clients(rt, client_id=client.client_id, k=k)
    data = [SimilarClientPublic.model_validate(asdict(r)) for r in rows]
    return SimilarClientsPublic(data=data, count=len(data))


@router.get(
    "/search",
    response_model=SearchHitsPublic,
    dependencies=[ApiAudit.search],
    summary="Semantic search",
)
def search(
    _: StaffReadDep,
    rt: RuntimeDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Free text, zh or en")],
    kind: Literal["commissions", "clients", "cases", "products"] = "commissions",
    k: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SearchHitsPublic:
    """Hybrid (dense + lexical) search over commissions, clients, cases or products."""
    hits = [
        SearchHitPublic.model_validate(asdict(h))
        for h in searching.search(rt, query=q, kind=kind, k=k)
    ]
    return SearchHitsPublic(query=q, data=hits, count=len(hits))


@router.get(
    "/worklist",
    response_model=WorklistPublic,
    dependencies=[ApiAudit.worklist],
    summary="This week's worklist (JSON, CSV or Excel)",
    responses={
        200: {
            "content": {
                EXPORT_TYPES["csv"]: {"schema": {"type": "string"}},
                EXPORT_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
def worklist(
    principal: LibrarianDep,
    rt: RuntimeDep,
    response: Response,
    segment: Annotated[str | None, Query(max_length=32)] = None,
    account_manager: Annotated[str | None, Query(max_length=80)] = None,
    kind: ClientKind | None = None,
    product: Annotated[str | None, Query(max_length=64, description="Product code")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 50,
    sort: Annotated[
        Literal["value", "probability"],
        Query(description="By expected value (¥, the default) or by probability"),
    ] = "value",
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: Annotated[Literal["zh", "en"], Query(description="Language of an export")] = "zh",
) -> WorklistPublic | Response:
    """Which clients to contact and what to offer each, ranked by expected value (or
    probability), with reasons; the primary contact for roles that may see it."""
    filters = WorklistFilters(
        segment=segment,
        account_manager=account_manager,
        kind=kind.value if kind else None,
        product=product,
        sort=sort,
        limit=limit,
    )
    contacts = principal.role in CONTACT_ROLES
    found = worklists.worklist(rt, filters=filters, contacts=contacts)
    if format != "json":
        payload = worklists.export(
            found.rows,
            fmt=format,
            lang=lang,
            contacts=contacts,
            months=rt.settings.horizon_months,
        )
        return export_response(payload, format, found.version, "worklist")
    response.headers["X-Model-Version"] = found.version
    data = [WorklistRowPublic(**worklists.public_row(r, contacts=contacts)) for r in found.rows]
    return WorklistPublic(model_version=found.version, data=data, count=len(data))


@router.post(
    "/feedback",
    response_model=EventPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record the outcome of a recommendation",
)
def record_feedback(
    principal: LibrarianDep, body: FeedbackCreate, rt: RuntimeDep, request: Request
) -> EventPublic:
    """Accepted, declined (with the reason the client gave: required) or purchased,
    referring to an impression. A purchase of a product is also its order (at the
    catalogue price, dated today, once per impression), so the next recommendation
    for the client leaves a one-off product out."""
    event = events.record_outcome(
        rt,
        impression_id=body.impression_id,
        outcome=body.outcome,
        reason=body.reason,
        actor=principal.name,
    )
    request.app.state.metrics.outcomes.labels(event.event, event.surface).inc()
    return EventPublic.model_validate(asdict(event))
