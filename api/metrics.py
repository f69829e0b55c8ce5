"""Prometheus metrics: request latency by route, recommendations served, outcomes,
failed authentications and lockouts.

Each app has its own :class:`prometheus_client.CollectorRegistry`, so several apps
(tests) never collide. The middleware is plain ASGI (cheap on the hot path) and labels
by the route template (``/api/v1/clients/{external_id}``), never by the raw path.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ApiMetrics", "MetricsMiddleware"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    """The app's collectors."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "recsvc_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.recommendations = Counter(
            "recsvc_recommendations_total",
            "Recommendations served, by surface, model version and source",
            ["surface", "model_version", "source"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "recsvc_auth_failures_total",
            "Failed authentications (wrong or revoked key), by surface (api, console)",
            ["surface"],
            registry=self.registry,
        )
        self.auth_lockouts = Counter(
            "recsvc_auth_lockouts_total",
            "Lockouts after repeated failed authentications, by scope (addr, prefix)",
            ["scope"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "recsvc_recommendation_outcomes_total",
            "Recommendation events recorded (impression, accepted, declined, purchased)",
            ["event", "surface"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Times every HTTP request and records it under its route template."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def _send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, _send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.latency.labels(
                template, scope.get("method", ""), str(status["code"])
            ).observe(time.perf_counter() - start)
