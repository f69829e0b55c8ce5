"""The web console (librarians, analysts) and the portal preview, served by the API app.

:func:`mount` attaches a small sub-application at ``/console``: server-rendered Jinja2
pages with their own signed session cookie, CSRF-checked forms and HTML error pages,
calling the same use cases (:mod:`recsvc.usecases`) as the JSON API.
See ``docs/console.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

if TYPE_CHECKING:
    from recsvc.config import Settings

__all__ = ["PREFIX", "build_console", "mount"]

PREFIX = "/console"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "recsvc_console"
SESSION_MAX_AGE = 12 * 3600


def build_console(settings: Settings, parent: FastAPI | None = None) -> FastAPI:
    """The console as an ASGI app (mounted by :func:`mount`; tests may use it alone)."""
    import api.web.audit
    from api.web import auth, clients, models, portal, search, worklist
    from api.web.errors import CatchAllMiddleware, install_error_pages

    console = FastAPI(title="recsvc console", docs_url=None, redoc_url=None, openapi_url=None)
    console.state.settings = settings
    console.state.parent = parent
    console.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (auth, worklist, clients, search, models, portal):
        console.include_router(module.router)
    console.include_router(api.web.audit.router)
    install_error_pages(console)
    console.add_middleware(CatchAllMiddleware)
    console.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        path=PREFIX,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    return console


def mount(app: FastAPI, settings: Settings) -> None:
    """Attach the console's routes, templates and static files to ``app``."""
    app.mount(PREFIX, build_console(settings, parent=app), name="console")
    if not any(getattr(r, "path", None) == "/" for r in app.router.routes):

        @app.get("/", include_in_schema=False)
        def _to_console() -> RedirectResponse:
            return RedirectResponse(f"{PREFIX}/", 307)
