"""Semantic search over commissions, clients and cases (Chinese or English queries),
showing which channel(s) (dense, lexical) found each hit. Calls ``Services.search``,
as ``GET /api/v1/search`` does."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.web.deps import ServicesDep, Staff, render
from recsvc.errors import NotReady

__all__ = ["KINDS", "router"]

router = APIRouter()

KINDS = ("commissions", "clients", "cases")


def channel_names(channels: Any) -> list[str]:
    """The channels of a hit, whether given as a list or as ``{channel: score}``."""
    if isinstance(channels, dict):
        return [str(c) for c in channels]
    return [str(c) for c in channels or []]


@router.get("/search", name="search")
def search_page(
    request: Request,
    user: Staff,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=500)] = "",
    kind: Annotated[Literal["all", "commissions", "clients", "cases"], Query()] = "all",
) -> Response:
    """The search form and, for a query, the hits of each kind asked for."""
    query = q.strip()
    results: dict[str, list[dict[str, Any]]] = {}
    ready = True
    if query:
        try:
            for k in KINDS if kind == "all" else (kind,):
                hits = services.search(query, kind=k, k=10)
                results[k] = [dict(h, channel_list=channel_names(h.get("channels"))) for h in hits]
        except NotReady:
            ready = False
    return render(
        request,
        "search.html",
        {
            "active": "search",
            "q": query,
            "kind": kind,
            "kinds": KINDS,
            "results": results,
            "ready": ready,
        },
    )
