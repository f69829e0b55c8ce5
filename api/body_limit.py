"""A request-body limit for every route that reads its body whole (JSON, forms).

:class:`BodyLimitMiddleware` is pure ASGI. It counts the bytes a request actually
sends, whatever its ``Content-Length`` says (a declared length over the limit is
refused at once; a missing or false one is caught while reading), and answers
``413`` with a problem document before the route sees any of it. A refused body is
never parsed, so nothing of it is recorded.

Bodies up to the limit are read here and handed on unchanged. Paths in ``streamed``
(the file upload) have their own, larger limit and are not read here: the route
streams them to disk while this middleware counts, and the read that crosses the
limit raises a 413 ``HTTPException`` (rendered as a problem like any other), which
stops the upload; the partial file is discarded with the request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware"]

_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


class BodyLimitMiddleware:
    """Answer 413 to a request whose body is longer than ``max_bytes``."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, streamed: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or ())
        declared = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        if declared is None and not chunked and scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.streamed.get(scope["path"], self.max_bytes)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        if scope["path"] in self.streamed:
            await self.app(scope, _counted(receive, limit), send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, send, self.max_bytes)
                return
            if not message.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": bytes(body), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        problem = {
            "type": "https://recsvc.dev/problems/http-413",
            "title": "Content too large",
            "status": 413,
            "detail": _too_large(limit),
            "instance": scope["path"],
        }
        payload = json.dumps(problem).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` first, then the real ``receive``'s."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


def _counted(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that raises 413 once more than ``limit`` body bytes have come."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, _too_large(limit))
        return message

    return counted
