"""Turning use-case results into response bodies, once, for every route that needs it."""

from __future__ import annotations

from fastapi import Request, Response

from api.schemas import ScorePublic
from recsvc.usecases import scoring
from recsvc.usecases.recommendations import Recommendations, RecommendationsPublic
from recsvc.usecases.scoring import ClientScore

__all__ = [
    "EXPORT_TYPES",
    "MODEL_VERSION_HEADER",
    "encoded_recommendations_response",
    "export_response",
    "recommendations_response",
    "score_public",
]

MODEL_VERSION_HEADER = "X-Model-Version"

#: Media types of the worklist export formats (API and console).
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(payload: bytes, fmt: str, version: str, filename: str) -> Response:
    """A worklist export as a download, stamped with the model version that ranked it."""
    return Response(
        payload,
        media_type=EXPORT_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}.{fmt}"',
            MODEL_VERSION_HEADER: version,
        },
    )


def recommendations_response(
    result: Recommendations, client_external_id: str, request: Request, response: Response
) -> RecommendationsPublic:
    """The body for a recommendation list; sets ``X-Model-Version`` and counts it."""
    response.headers[MODEL_VERSION_HEADER] = result.version
    _count(result, request)
    return result.public(client_external_id)


def encoded_recommendations_response(
    result: Recommendations, client_external_id: str, request: Request
) -> Response:
    """The same body as :func:`recommendations_response` for a stored list, assembled
    from its bytes (the portal's precomputed fast path; no re-encoding)."""
    _count(result, request)
    return Response(
        result.encoded_body(client_external_id),
        media_type="application/json",
        headers={MODEL_VERSION_HEADER: result.version},
    )


def _count(result: Recommendations, request: Request) -> None:
    if result.n:
        request.app.state.metrics.recommendations.labels(
            result.surface.value, result.version, result.served_from
        ).inc(result.n)


def score_public(score: ClientScore) -> ScorePublic:
    """A client's score as the API and the console show it."""
    return ScorePublic.model_validate(scoring.public(score))
