"""Turning service results into response bodies, once, for every route that needs it."""

from __future__ import annotations

import json

from fastapi import Request, Response

from api.schemas import ActionPublic, RecommendationPublic, RecommendationsPublic
from recsvc.services import RecResult

__all__ = [
    "EXPORT_TYPES",
    "MODEL_VERSION_HEADER",
    "encoded_recommendations_response",
    "export_response",
    "recommendations_response",
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
    result: RecResult, client_external_id: str, request: Request, response: Response
) -> RecommendationsPublic:
    """The body for a recommendation list; sets ``X-Model-Version`` and counts it."""
    response.headers[MODEL_VERSION_HEADER] = result.version
    _count(result, request)
    data = [RecommendationPublic(**item) for item in result.items]
    return RecommendationsPublic(
        client_external_id=client_external_id,
        surface=result.surface,
        model_version=result.version,
        served_from=result.served_from,
        data=data,
        count=len(data),
        actions=[ActionPublic(**a) for a in result.actions],
    )


def _count(result: RecResult, request: Request) -> None:
    if result.n:
        request.app.state.metrics.recommendations.labels(
            result.surface.value, result.version, result.served_from
        ).inc(result.n)


def encoded_recommendations_response(
    result: RecResult, client_external_id: str, request: Request
) -> Response:
    """The same body as :func:`recommendations_response` for a list stored as JSON,
    assembled from bytes (the portal's precomputed fast path; no re-encoding)."""
    assert result.encoded is not None
    _count(result, request)
    head = json.dumps(
        {
            "client_external_id": client_external_id,
            "surface": result.surface.value,
            "model_version": result.version,
            "served_from": result.served_from,
            "count": result.n,
            "actions": [],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    body = head[:-1] + b',"data":' + result.encoded + b"}"
    return Response(
        body, media_type="application/json", headers={MODEL_VERSION_HEADER: result.version}
    )
