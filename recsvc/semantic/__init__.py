"""The semantic layer: embedders, embedding cache, FAISS indexes, BM25, hybrid search.

See ``docs/semantic.md`` and the "semantic" contract in ``docs/architecture.md``.

Example:
    >>> from recsvc.semantic import FakeEmbedder, Scope, build_semantic
    >>> layer = build_semantic(db, settings, FakeEmbedder())    # doctest: +SKIP
    >>> layer.search("污水处理", "commissions", k=5)              # doctest: +SKIP
    >>> layer.save(); SemanticLayer.load(settings)               # doctest: +SKIP

The names below are imported on first use (:func:`__getattr__`): FAISS, SciPy and the
embedders load only in a process that embeds or searches, not in one that imports a
submodule such as :mod:`recsvc.semantic.documents` for its constants.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from recsvc.semantic.cache import CachedEmbedder
    from recsvc.semantic.documents import KINDS, Doc, build_docs, case_summary
    from recsvc.semantic.embedders import (
        Embedder,
        FakeEmbedder,
        SentenceTransformerEmbedder,
        load_embedder,
    )
    from recsvc.semantic.fusion import rrf
    from recsvc.semantic.hits import Scope, SearchHit
    from recsvc.semantic.index import VectorIndex, choose_kind, set_search_threads
    from recsvc.semantic.layer import SemanticLayer, build_semantic
    from recsvc.semantic.lexical import LexicalIndex
    from recsvc.semantic.static import StaticEmbedder, distill_static
    from recsvc.semantic.text import tokenize

__all__ = [
    "KINDS",
    "CachedEmbedder",
    "Doc",
    "Embedder",
    "FakeEmbedder",
    "LexicalIndex",
    "Scope",
    "SearchHit",
    "SemanticLayer",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "VectorIndex",
    "build_docs",
    "build_semantic",
    "case_summary",
    "choose_kind",
    "distill_static",
    "load_embedder",
    "rrf",
    "set_search_threads",
    "tokenize",
]

#: Where each public name lives.
_HOMES = {
    "CachedEmbedder": "cache",
    "KINDS": "documents",
    "Doc": "documents",
    "build_docs": "documents",
    "case_summary": "documents",
    "Embedder": "embedders",
    "FakeEmbedder": "embedders",
    "SentenceTransformerEmbedder": "embedders",
    "load_embedder": "embedders",
    "rrf": "fusion",
    "Scope": "hits",
    "SearchHit": "hits",
    "VectorIndex": "index",
    "choose_kind": "index",
    "set_search_threads": "index",
    "SemanticLayer": "layer",
    "build_semantic": "layer",
    "LexicalIndex": "lexical",
    "StaticEmbedder": "static",
    "distill_static": "static",
    "tokenize": "text",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
