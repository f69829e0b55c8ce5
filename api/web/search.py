"""Semantic search over commissions, clients and cases (Chinese or English queries),
showing which channel(s) (dense, lexical) found each hit. Calls ``search.search``,
as ``GET /api/v1/search`` does."""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.web.audit import ConsoleAudit
from api.web.deps import RuntimeDep, Staff, render
from recsvc.errors import NotReady
from recsvc.recommend.reasons import case_sentences
from recsvc.usecases import search as searching
from recsvc.usecases import worklist

__all__ = ["KINDS", "router"]

router = APIRouter()

KINDS = ("commissions", "clients", "cases")
_HAN = re.compile(r"[\u3400-\u9fff]")


def channel_names(channels: Any) -> list[str]:
    """The channels of a hit, whether given as a list or as ``{channel: score}``."""
    if isinstance(channels, dict):
        return [str(c) for c in channels]
    return [str(c) for c in channels or []]


def _split(summary: str | None, *, han: bool) -> str:
    """The ``;``-separated words of a summary part written in Chinese (``han``) or not."""
    words = [w.strip() for w in re.split(r"[;；]", summary or "") if w.strip()]
    return "; ".join(w for w in words if bool(_HAN.search(w)) == han)


def present(hit: dict[str, Any], products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A hit ready to show in either language: its channels as names; a case's product
    names and its summary in each language; a commission's English title and each
    language's keywords; a client's industry field as the glossary says it."""
    meta = hit.get("meta") or {}
    title, summary = hit.get("title"), hit.get("summary")
    shown: dict[str, Any] = {
        "title_zh": title,
        "title_en": title,
        "summary_zh": summary,
        "summary_en": summary,
    }
    if hit.get("kind") == "cases":
        product = products.get(str(meta.get("product_code") or ""))
        zh, en = case_sentences(str(meta.get("summary_zh") or ""), str(summary or ""))
        shown.update(summary_zh=zh, summary_en=en)
        if product:
            shown.update(title_zh=product["name_zh"], title_en=product["name_en"])
    elif hit.get("kind") == "commissions":
        # "English title | keywords" when the commission has a Chinese title
        title_en, _, keywords = (summary or "").rpartition(" | ")
        shown.update(
            title_en=title_en or title,
            summary_zh=_split(keywords, han=True),
            summary_en=_split(keywords, han=False),
        )
    elif hit.get("kind") == "clients":
        field, _, rest = (summary or "").partition(" | ")
        shown.update(field=field, summary_zh=rest, summary_en=rest)
    return dict(hit, channel_list=channel_names(hit.get("channels")), **shown)


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
