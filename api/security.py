"""Security headers on every response: one pure ASGI middleware around the whole app.

Every response (JSON API, console pages and their static files, error pages and
problem documents, the OpenAPI docs) carries:

* ``Content-Security-Policy``: :data:`STRICT_CSP` — only this origin's scripts, styles
  and images, no inline script or ``style=`` attributes, no framing, no plugins. The
  console's templates are written to satisfy it (``tests/test_web_browser.py`` checks
  the browser reports no violation). ``/docs`` alone gets :data:`DOCS_CSP`: FastAPI's
  Swagger UI page is an inline script that loads its bundle from a CDN, so that page
  works only where the browser can reach the CDN; it shows the schema, never client
  data, and the API calls it makes still need a key.
* ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``.
* ``Cache-Control: no-store`` on everything that can hold client data: every
  ``/api/v1`` response (JSON, exports, problems) and every console page
  (``/console``, except its static files). Liveness, readiness, metrics, the schema
  and the docs may be cached.

Exceptions that escape every handler become a 500 in Starlette's outermost layer,
outside this middleware; ``api.errors`` adds :func:`headers_for` to that response
itself, so it is covered too.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DOCS_CSP", "STRICT_CSP", "SecurityHeadersMiddleware", "headers_for"]

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: FastAPI's Swagger UI: an inline bootstrap script, the bundle and stylesheet from
#: jsDelivr, and inline styles of its own.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATH = "/docs"
#: Path prefixes whose responses may hold client data (never stored by a cache).
PRIVATE_PREFIXES = ("/api/", "/console")
#: ...except the console's static files.
PUBLIC_PREFIXES = ("/console/static/",)

_COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def headers_for(path: str) -> dict[str, str]:
    """The security headers a response to ``path`` carries."""
    headers = dict(_COMMON)
    headers["content-security-policy"] = DOCS_CSP if path == DOCS_PATH else STRICT_CSP
    if path.startswith(PRIVATE_PREFIXES) and not path.startswith(PUBLIC_PREFIXES):
        headers["cache-control"] = "no-store"
    return headers


class SecurityHeadersMiddleware:
    """Adds :func:`headers_for` to every HTTP response (overriding what a route set
    for the same header, so no route can weaken them by accident)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, _send)
