"""Semantic search in librarian scope, and what is similar to a client or a commission.

Hits carry public ids only (client and commission external ids, product codes, case
ids); internal ids never leave.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsvc.config import Settings
from recsvc.errors import NotFound
from recsvc.runtime import Runtime
from recsvc.semantic import KINDS, SearchHit
from recsvc.semantic.text import in_script
from recsvc.store import queries

__all__ = [
    "KINDS",
    "Hit",
    "IndexBuilt",
    "SimilarClient",
    "SimilarCommissions",
    "StaticDistilled",
    "build_index",
    "distill_static",
    "hit_texts",
    "search",
    "similar_clients",
    "similar_commissions",
]

#: Search-hit metadata that may leave the service (internal ids never do).
_PUBLIC_HIT_META = ("external_id", "product_code", "summary_zh", "category", "ordered_on")


@dataclass(frozen=True)
class Hit:
    """A search hit with public ids; ``channels`` gives each retriever's rank and score."""

    kind: str
    id: str
    score: float
    channels: dict[str, dict[str, float]]
    title: str
    summary: str | None = None
    meta: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class SimilarClient:
    """A client like another one, by research direction."""

    external_id: str
    name_zh: str | None
    name_en: str | None
    kind: str | None
    industry_field: str | None
    score: float


@dataclass(frozen=True)
class SimilarCommissions:
    """Commissions and past value-added cases like one commission."""

    commissions: list[Hit]
    cases: list[Hit]


@dataclass(frozen=True)
class IndexBuilt:
    """A semantic index just built and saved."""

    folder: Path
    model_id: str
    stats: dict[str, dict[str, Any]]
    embedded: int | None
    """Texts embedded now (the rest came from the embedding cache), when known."""


def build_index(rt: Runtime, *, progress: bool = False) -> IndexBuilt:
    """Embed commissions, clients, products and cases from the store and save the
    indexes (a server opens them on its next start)."""
    from recsvc.semantic import build_semantic  # FAISS and the embedder: only here

    layer = build_semantic(rt.db, rt.settings, progress=progress)
    folder = layer.save()
    misses = getattr(layer.embedder, "total_misses", None)
    return IndexBuilt(Path(folder), layer.model_id, layer.stats(), misses)


@dataclass(frozen=True)
class StaticDistilled:
    """A static embedding model just distilled from the configured transformer."""

    folder: Path
    model_id: str
    provenance: dict[str, Any]


def distill_static(settings: Settings, *, dims: int | None = 256) -> StaticDistilled:
    """Distil the fast static embedder from ``settings.embedding_model`` (offline) into
    ``settings.static_model_dir``; ``embedding_backend = "static"`` then uses it (after
    ``recsvc index build``).

    Raises:
        NotReady: the base model is not available locally.
    """
    from recsvc.semantic import StaticEmbedder
    from recsvc.semantic import distill_static as distil

    folder = distil(settings, dims=dims)
    emb = StaticEmbedder(folder, base_model=settings.embedding_model)
    return StaticDistilled(folder, emb.model_id, emb.provenance)


def search(rt: Runtime, *, query: str, kind: str = "commissions", k: int = 10) -> list[Hit]:
    """Hybrid (dense + lexical) search over commissions, clients, cases or products.

    Raises:
        NotReady: no index has been built.
    """
    return [_public_hit(h) for h in rt.semantic.search(query, kind, k=k)]


def similar_clients(rt: Runtime, *, client_id: int, k: int = 10) -> list[SimilarClient]:
    """Clients most like ``client_id`` by research direction, best first."""
    ids, scores = rt.semantic.similar_clients(client_id, k=k)
    wanted = [int(i) for i in ids]
    rows = queries.clients_by_id(rt.db, client_ids=wanted)
    return [
        SimilarClient(
            external_id=rows[i].external_id,
            name_zh=rows[i].name_zh,
            name_en=rows[i].name_en,
            kind=rows[i].kind,
            industry_field=rows[i].industry_field,
            score=float(sc),
        )
        for i, sc in zip(wanted, scores, strict=True)
        if i in rows
    ]


def similar_commissions(rt: Runtime, *, external_id: str, k: int = 10) -> SimilarCommissions:
    """Commissions and past value-added cases most like the commission ``external_id``.

    Both are hybrid searches (the commission's vector and its text, fused), so a
    Chinese-only commission finds the commissions and cases sharing its Chinese terms.

    Raises:
        NotFound: no such commission.
    """
    cid = queries.commission_id(rt.db, external_id=external_id)
    if cid is None:
        raise NotFound(f"no commission {external_id!r}")
    layer = rt.semantic
    commissions = [_public_hit(h) for h in layer.similar_commission_hits(cid, k=k)]
    cases = [
        Hit(
            kind="cases",
            id=str(h.id),
            score=float(h.score),
            channels=_channels(h.channels),
            title=h.title,
            summary=h.summary,
            meta={"product_code": _str(h.meta.get("product_code"))},
        )
        for h in layer.similar_cases(cid, k=k)
    ]
    return SimilarCommissions(commissions, cases)


def _str(v: Any) -> str | None:
    return str(v) if v is not None else None


def _channels(channels: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    return {ch: {k: float(v) for k, v in vals.items()} for ch, vals in channels.items()}


def _public_hit(hit: SearchHit) -> Hit:
    """A search hit with public ids: external ids for clients and commissions."""
    meta = {k: v for k, v in hit.meta.items() if k in _PUBLIC_HIT_META}
    public_id = meta.get("external_id") if hit.kind in ("clients", "commissions") else hit.id
    return Hit(
        kind=hit.kind,
        id=str(public_id if public_id is not None else hit.id),
        score=float(hit.score),
        channels=_channels(hit.channels),
        title=hit.title,
        summary=hit.summary,
        meta={k: _str(v) for k, v in meta.items()},
    )


def _split(summary: str | None, *, han: bool) -> str:
    """The ``;``-separated words of a summary part written in Chinese (``han``) or not."""
    return "; ".join(in_script(re.split(r"[;；]", summary or ""), cjk=han))


def hit_texts(hit: dict[str, Any], products: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A hit's title and summary in each language (``title_zh`` … ``summary_en``, and a
    client's ``field``): a case's product names and its sentence in each language; a
    commission's English title and each language's keywords; a client's industry field
    apart, for the glossary. ``products``: catalogue entries by code."""
    from recsvc.recommend.reasons import case_sentences  # not at import: the CLI starts without it

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
    return shown
