"""The semantic layer: embedders, embedding cache, FAISS indexes, BM25, hybrid search.

See ``docs/semantic.md`` and the "semantic" contract in ``docs/architecture.md``.

Example:
    >>> from recsvc.semantic import FakeEmbedder, Scope, build_semantic
    >>> layer = build_semantic(db, settings, FakeEmbedder())    # doctest: +SKIP
    >>> layer.search("污水处理", "commissions", k=5)              # doctest: +SKIP
    >>> layer.save(); SemanticLayer.load(settings)               # doctest: +SKIP
"""

from __future__ import annotations

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
