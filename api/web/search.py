"""Semantic search over commissions, clients and cases (Chinese or English queries),
showing which channel(s) (dense, lexical) found each hit. Calls ``search.search``,
as ``GET /api/v1/search`` does."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.web.audit import ConsoleAudit
from api.web.deps import RuntimeDep, Staff, render
from recsvc.errors import NotReady
from recsvc.usecases import search as searching
from recsvc.usecases import worklist

__all__ = ["KINDS", "router"]

router = APIRouter()

KINDS = ("commissions", "clients", "cases")


def channel_names(channels: Any) -> list[str]:
    """The channels of a hit, whether given as a list or as ``{channel: score}``."""
    if isinstance(channels, dict):
        return [str(c) for c in channels]
    return [str(c) for c in channels or []]


def present(hit: dict[str, Any], products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A hit ready to show: its channels as names, its texts in each language."""
    texts = searching.hit_texts(hit, products)
    return dict(hit, channel_list=channel_names(hit.get("channels")), **texts)


@router.get("/search", name="search", dependencies=[ConsoleAudit.search])
def search_page(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    q: Annotated[str, Query(max_length=500)] = "",
    kind: Annotated[Literal["all", "commissions", "clients", "cases"], Query()] = "all",
) -> Response:
    """The search form and, for a query, the hits of each kind asked for."""
    query = q.strip()
    results: dict[str, list[dict[str, Any]]] = {}
    products = {p["code"]: p for p in worklist.filter_options(rt)["products"]}
    ready = True
    if query:
        try:
            for k in KINDS if kind == "all" else (kind,):
                hits = searching.search(rt, query=query, kind=k, k=10)
                results[k] = [present(asdict(h), products) for h in hits]
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
