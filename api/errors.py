"""One handler, one JSON error shape: RFC 9457 problem details for every error.

:class:`recsvc.errors.RecsvcError` renders itself (``to_problem``); FastAPI's request
validation errors, Starlette's HTTP errors (unknown route 404, 405, …) and any
unexpected exception are mapped onto the same shape here, so a client parses one
thing. ``tests/test_api_errors.py`` pins it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.security import headers_for
from recsvc.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    Problem,
    RecsvcError,
    TooManyRequests,
    Unauthorized,
)

__all__ = ["PROBLEM_MEDIA_TYPE", "install_error_handlers", "problem_response"]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"

_STATUS_TITLES = {
    400: "Bad request",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Content too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def problem_response(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A JSON response carrying a problem document."""
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return ".".join(parts) or "request"


async def _recsvc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RecsvcError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem_response(exc.to_problem(request.url.path), exc.status, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        Problem(reason=str(err.get("msg", "invalid")), field=_field(err.get("loc", ())))
        for err in exc.errors()
    ]
    fields = ", ".join(sorted({p.field for p in problems if p.field}))
    error = InvalidInput(f"invalid request: {fields}", problems=problems)
    return problem_response(error.to_problem(request.url.path), error.status)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        error: RecsvcError = NotFound(
            str(exc.detail) if exc.detail != "Not Found" else f"no route {request.url.path}"
        )
        return problem_response(error.to_problem(request.url.path), 404)
    if status == 401:
        error = Unauthorized(str(exc.detail))
        return problem_response(error.to_problem(request.url.path), 401)
    if status == 403:
        error = Forbidden(str(exc.detail))
        return problem_response(error.to_problem(request.url.path), 403)
    title = _STATUS_TITLES.get(status, "HTTP error")
    body = {
        "type": f"https://recsvc.dev/problems/http-{status}",
        "title": title,
        "status": status,
        "detail": str(exc.detail),
        "instance": request.url.path,
    }
    return problem_response(body, status, dict(exc.headers or {}))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    body = RecsvcError("an unexpected error occurred; it has been logged").to_problem(
        request.url.path
    )
    # Starlette answers this from its outermost layer, past SecurityHeadersMiddleware
    return problem_response(body, 500, headers_for(request.url.path))


def install_error_handlers(app: FastAPI) -> None:
    """Register the problem-details handlers on ``app``."""
    app.add_exception_handler(RecsvcError, _recsvc_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
