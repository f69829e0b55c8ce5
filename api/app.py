"""The application factory: ``create_app(settings)`` builds the whole service.

Example:
    >>> from recsvc.config import Settings
    >>> app = create_app(Settings(database_url="sqlite://"))
    >>> app.title
    'recsvc'
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import api.openapi
import api.routes.audit
import api.web
from api.body_limit import BodyLimitMiddleware
from api.errors import install_error_handlers
from api.metrics import ApiMetrics, MetricsMiddleware
from api.ratelimit import AuthLimiter
from api.routes import admin, analyst, librarian, ops, portal
from api.security import SecurityHeadersMiddleware
from recsvc import __version__
from recsvc.config import Settings
from recsvc.runtime import Runtime
from recsvc.usecases import open_runtime

__all__ = ["app_from_env", "create_app"]

_DESCRIPTION = """
Next-best-service recommendations for research information centres.

Authenticate with `Authorization: Bearer <key>` (or `X-API-Key: <key>`).
Keys are created with `recsvc keys create NAME --role librarian|analyst|admin` and
portal tokens with `recsvc keys create NAME --role portal --client EXTERNAL_ID`.
Every error is an RFC 9457 problem document (`application/problem+json`).
"""


def create_app(settings: Settings, runtime: Runtime | None = None) -> FastAPI:
    """Build the API (and the web console) for ``settings``.

    Args:
        settings: the configuration; nothing is read from globals.
        runtime: an already-opened runtime to serve with (tests, benchmarks); by
            default one is opened from ``settings``.
    """
    owned = runtime is None
    rt = runtime if runtime is not None else open_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = rt.watch_registry(settings.registry_poll_seconds)
        try:
            yield
        finally:
            stop.set()
            if owned:
                rt.close()

    app = FastAPI(
        title="recsvc",
        version=__version__,
        description=_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.runtime = rt
    metrics = app.state.metrics = ApiMetrics()
    app.state.auth_limiter = AuthLimiter(
        failures=settings.auth_max_failures,
        window=settings.auth_failure_window_seconds,
        lockout=settings.auth_lockout_seconds,
        on_failure=lambda surface: metrics.auth_failures.labels(surface).inc(),
        on_lockout=lambda scope: metrics.auth_lockouts.labels(scope).inc(),
    )
    install_error_handlers(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_kb * 1024,
        streamed={analyst.UPLOAD_PATH: settings.max_upload_mb * 1024 * 1024},
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # outermost of ours: covers the API, the mounted console, static files and docs
    app.add_middleware(SecurityHeadersMiddleware)
    for module in (ops, librarian, portal, analyst, admin):
        app.include_router(module.router)
    app.include_router(api.routes.audit.router)
    api.web.mount(app, settings)
    api.openapi.install(app)
    return app


def app_from_env() -> FastAPI:
    """``create_app(Settings())``: the factory each uvicorn worker process calls
    (``recsvc serve --workers N``); settings come from the environment."""
    return create_app(Settings())
