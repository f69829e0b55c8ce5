"""The client portal: a portal token sees its own client's recommendations only.

``/me`` routes take no client id at all: the client is the one the token is bound to,
so a token cannot name another client. The answer speaks to the client
(:class:`~recsvc.usecases.portal.PortalPublic`): what each service is, what the client
gets, the guide price or "ask us", and why (the client's own projects); no scores,
candidate sources, model factors, similar cases or model version in the body
(``X-Model-Version`` stays a header, for operators).
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.auditing import ApiAudit
from api.deps import API_PREFIX, PortalClientDep, RuntimeDep
from api.schemas import EventPublic, EventsPublic, PortalEventsCreate, PortalPublic
from api.views import MODEL_VERSION_HEADER
from recsvc.usecases import events, portal

router = APIRouter(prefix=f"{API_PREFIX}/me", tags=["portal"])


@router.get(
    "/recommendations",
    response_model=PortalPublic,
    dependencies=[ApiAudit.portal_recommendations],
    summary="My recommendations (portal)",
)
async def my_recommendations(
    client: PortalClientDep, rt: RuntimeDep, request: Request, response: Response
) -> PortalPublic:
    """Services suggested to the client, in its words: a description, what it gets, the
    guide price (null: ask us) and why (the client's own projects it follows on from).
    Precomputed after each training run (live for a client the model has not seen)."""
    page = await run_in_threadpool(
        portal.offers, rt, client_id=client.client_id, client_external_id=client.external_id
    )
    served = page.served
    response.headers[MODEL_VERSION_HEADER] = served.version
    if served.n:
        request.app.state.metrics.recommendations.labels(
            served.surface.value, served.version, served.served_from
        ).inc(served.n)
    return page.public


@router.post(
    "/events",
    response_model=EventsPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Record impressions and outcomes (portal)",
)
def my_events(
    client: PortalClientDep, body: PortalEventsCreate, rt: RuntimeDep, request: Request
) -> EventsPublic:
    """Impressions of recommended items (returns their ids) and outcomes that refer to an
    impression of this client."""
    recorded = events.record_portal_events(
        rt,
        client_id=client.client_id,
        events=[events.PortalEvent(**e.model_dump()) for e in body.events],
    )
    for e in recorded:
        request.app.state.metrics.outcomes.labels(e.event, e.surface).inc()
    data = [EventPublic.model_validate(asdict(e)) for e in recorded]
    return EventsPublic(data=data, count=len(data))
