"""The client portal: a portal token sees its own client's recommendations only.

``/me`` routes take no client id at all: the client is the one the token is bound to,
so a token cannot name another client. Explanations on this surface are anonymised
(no other client's name, id or commission text).
"""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from api.auditing import ApiAudit
from api.deps import API_PREFIX, PortalClientDep, RuntimeDep
from api.schemas import EventPublic, EventsPublic, PortalEventsCreate, RecommendationsPublic
from api.views import encoded_recommendations_response, recommendations_response
from recsvc.usecases import events, recommendations

router = APIRouter(prefix=f"{API_PREFIX}/me", tags=["portal"])


@router.get(
    "/recommendations",
    response_model=RecommendationsPublic,
    dependencies=[ApiAudit.portal_recommendations],
    summary="My recommendations (portal)",
)
async def my_recommendations(
    client: PortalClientDep, rt: RuntimeDep, request: Request, response: Response
) -> RecommendationsPublic | Response:
    """Personalised recommendations, precomputed after each training run and served from
    memory (computed live for a client the model has not seen)."""
    stored = recommendations.portal_stored(rt, client_id=client.client_id)
    if stored is not None:
        return encoded_recommendations_response(stored, client.external_id, request)
    result = await run_in_threadpool(recommendations.portal, rt, client_id=client.client_id)
    return recommendations_response(result, client.external_id, request, response)


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
