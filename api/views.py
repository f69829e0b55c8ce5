"""Turning service results into response bodies, once, for every route that needs it."""

from __future__ import annotations

from fastapi import Request, Response

from api.schemas import RecommendationPublic, RecommendationsPublic
from recsvc.services import RecResult

__all__ = ["MODEL_VERSION_HEADER", "recommendations_response"]

MODEL_VERSION_HEADER = "X-Model-Version"


def recommendations_response(
    result: RecResult, client_external_id: str, request: Request, response: Response
) -> RecommendationsPublic:
    """The body for a recommendation list; sets ``X-Model-Version`` and counts it."""
    response.headers[MODEL_VERSION_HEADER] = result.version
    metrics = request.app.state.metrics
    if result.items:
        metrics.recommendations.labels(
            result.surface.value, result.version, result.served_from
        ).inc(len(result.items))
    data = [RecommendationPublic(**item) for item in result.items]
    return RecommendationsPublic(
        client_external_id=client_external_id,
        surface=result.surface,
        model_version=result.version,
        served_from=result.served_from,
        data=data,
        count=len(data),
    )
