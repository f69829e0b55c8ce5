"""Operations: liveness, readiness, Prometheus metrics. Open to everyone (no key)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from api.deps import RuntimeDep
from api.schemas import HealthPublic, ReadyPublic
from recsvc.usecases import readiness

router = APIRouter(tags=["ops"])


@router.get("/healthz", response_model=HealthPublic, summary="Liveness")
def healthz() -> HealthPublic:
    """The process is up and answering."""
    return HealthPublic()


@router.get(
    "/readyz",
    response_model=ReadyPublic,
    summary="Readiness",
    responses={503: {"model": ReadyPublic, "description": "The store is unreachable"}},
)
def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready when the store answers; ``model_loaded`` says whether recommendations can be
    served (the service stays ready without a model: profiles, search and imports work)."""
    state = readiness.check(rt)
    body = ReadyPublic(
        status=state.status,  # type: ignore[arg-type]
        database=state.database,
        model_loaded=state.model_loaded,
        model_version=state.model_version,
        model_error=state.model_error,
        worker=os.getpid(),
    )
    return JSONResponse(body.model_dump(), status_code=200 if state.database else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    """Request latency by route, recommendations served, outcomes recorded.

    Under ``recsvc serve --workers N`` every worker writes its samples to
    ``PROMETHEUS_MULTIPROC_DIR`` and whichever worker answers reports the sum of all."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest(request.app.state.metrics.registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
