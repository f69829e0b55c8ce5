"""HTML error pages for the console: every failure is a calm page with a status, never a
stack trace and never a 500 for bad input.

* :class:`~api.web.deps.LoginRequired` → redirect to the sign-in form (``next`` kept);
* :class:`~recsvc.errors.RecsvcError` → a page with its status (404, 403, 409, 503 …);
* bad query or form parameters → 400 page;
* anything unexpected → logged, and a 500 page (a safety net: tests assert no page
  reaches it).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from api.web.deps import LoginRequired, prefix, render
from recsvc.errors import RecsvcError

__all__ = ["CatchAllMiddleware", "install_error_pages"]

log = logging.getLogger(__name__)

_TITLE_KEYS = {
    400: "error.400",
    401: "error.401",
    403: "error.403",
    404: "error.404",
    409: "error.409",
    422: "error.400",
    503: "error.503",
}


def error_page(request: Request, status: int, detail: str = "") -> HTMLResponse:
    """The one error page, in the session's language. Service messages are English, so
    only those that help the user act (bad fields, a refused promotion) are shown."""
    if status not in (400, 409):
        detail = ""
    return render(
        request,
        "error.html",
        {"status": status, "title_key": _TITLE_KEYS.get(status, "error.other"), "detail": detail},
        status=status,
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{prefix(request)}/login?next={quote(target, safe='')}", 303)
    return error_page(request, 401, str(exc))


async def _recsvc_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RecsvcError)
    return error_page(request, exc.status, exc.detail)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = sorted({str(e.get("loc", ("", ""))[-1]) for e in exc.errors()})
    return error_page(request, 400, ", ".join(fields))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return error_page(request, exc.status_code, "" if exc.status_code == 404 else str(exc.detail))


def install_error_pages(app: FastAPI) -> None:
    """Register the HTML handlers on the console sub-application."""
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(RecsvcError, _recsvc_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


class CatchAllMiddleware:
    """Turns an unexpected exception into the HTML 500 page instead of letting it reach
    the JSON API's handler (the console is mounted inside the API app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def _send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, _send)
        except Exception:
            log.exception("console page failed: %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            request = Request(scope, receive)
            response = error_page(request, 500)
            await response(scope, receive, send)
