"""The semantic layer: hybrid (dense + BM25) search over commissions, clients,
products and cases, with scopes, incremental updates and one artifact folder.

Building, saving and opening the folder is :mod:`recsvc.semantic.artifact`; the "what is
similar" queries are :mod:`recsvc.semantic.similar`; keeping the layer in step with the
store between rebuilds is :mod:`recsvc.semantic.updates`.

Example:
    >>> from recsvc.semantic import FakeEmbedder, Scope, build_semantic
    >>> layer = build_semantic(frames, settings, FakeEmbedder())          # doctest: +SKIP
    >>> layer.search("swine fever vaccine", "commissions", k=5)           # doctest: +SKIP
    >>> layer.search("趋势", "products", scope=Scope.portal(client_id=7))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.errors import Forbidden, InvalidInput, NotReady
from recsvc.semantic import similar, updates
from recsvc.semantic.artifact import LayerParts, embed_parts, read_parts, write_parts
from recsvc.semantic.cache import CachedEmbedder, forget_texts
from recsvc.semantic.docstore import DocStore
from recsvc.semantic.documents import KINDS
from recsvc.semantic.embedders import Embedder, coverage, load_embedder
from recsvc.semantic.fusion import rrf, weighted
from recsvc.semantic.hits import (
    PORTAL_CASE_META,
    RowHits,
    Scope,
    SearchHit,
    first_of_rows,
    split_rows,
)
from recsvc.semantic.index import VectorIndex
from recsvc.semantic.lexical import LexicalIndex
from recsvc.store.db import Database
from recsvc.store.frames import Frames, load_frames

log = logging.getLogger(__name__)

PORTAL_KINDS = ("products", "cases")


class SemanticLayer:
    """Per kind: documents, a FAISS :class:`VectorIndex` and a BM25 :class:`LexicalIndex`.

    Build with :func:`build_semantic`, persist with :meth:`save`, reopen with
    :meth:`load`. Callers see domain ids only.

    Attributes:
        min_dense_coverage: below this share of known word pieces (e.g. a Chinese query
            under the English model) the dense channel is skipped, since its vector
            would be noise; BM25 alone answers.
        candidate_depth: results taken from each channel before fusion.
        min_dense_score: dense candidates at or below this cosine are dropped before
            fusion (an unrelated record should not ride in on the dense channel alone).
        fusion: ``weighted`` (max-normalised scores, summed with ``fusion_weights``)
            or ``rrf`` (reciprocal rank, ``settings.rrf_k``); see
            :mod:`recsvc.semantic.fusion` and the measurements in ``docs/semantic.md``.
        fusion_weights: channel weights of ``weighted`` fusion (chosen on real patent
            titles, checked on NIH grants: never more than 0.005 below the better
            channel there, where reciprocal rank fusion lost up to 0.016).
    """

    min_dense_coverage = 0.5
    candidate_depth = 100
    min_dense_score = 0.0
    fusion: Literal["weighted", "rrf"] = "weighted"
    fusion_weights: Mapping[str, float] = MappingProxyType({"dense": 0.8, "lexical": 0.2})

    def __init__(
        self,
        settings: Settings,
        docs: dict[str, DocStore],
        dense: dict[str, VectorIndex],
        lexical: Mapping[str, LexicalIndex],
        *,
        model_id: str,
        embedder: Embedder | None = None,
        embedder_factory: Callable[[], Embedder] | None = None,
        built_at: str | None = None,
    ) -> None:
        self.settings = settings
        self.docs = docs
        self.dense = dense
        self.lexical = lexical
        self.model_id = model_id
        self.built_at = built_at or pd.Timestamp.now("UTC").isoformat()
        self._embedder = embedder
        self._factory = embedder_factory or (lambda: load_embedder(settings))
        self._lock = threading.RLock()  # index reads vs updates (queries embed outside it)
        self._cases_of: similar.CasesByCommission | None = None

    # -- the embedder ---------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        """The embedder (loaded on first use); it must match the one that built the index."""
        if self._embedder is None:
            with self._lock:  # one model load even when several threads ask at once
                if self._embedder is None:
                    self._embedder = self._factory()
        if self._embedder.model_id != self.model_id:
            raise NotReady(
                f"the index was built with {self.model_id}, but the embedder is "
                f"{self._embedder.model_id}; run `recsvc index build`"
            )
        return self._embedder

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` (through the embedding cache when there is one)."""
        return self.embedder.encode(list(texts))

    def _query_vector(self, text: str) -> np.ndarray | None:
        emb = self.embedder
        if coverage(emb, text) < self.min_dense_coverage:
            return None
        inner = emb.inner if isinstance(emb, CachedEmbedder) else emb  # queries aren't cached
        return inner.encode([text])

    def warm(self, *kinds: str) -> None:
        """Read and split the BM25 indexes of ``kinds`` now, and for cases index which
        commission each came from (else first use does it: seconds at 100,000 documents,
        inside whichever request came first)."""
        for kind in kinds:
            self.lexical[kind].postings()
            if kind == "cases":
                similar.cases_by_commission(self)

    # -- search ---------------------------------------------------------------------
    def _check(self, kind: str, scope: Scope) -> None:
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        if scope.is_portal and kind not in PORTAL_KINDS:
            raise Forbidden(f"portal scope may search only {' and '.join(PORTAL_KINDS)}")

    def _hybrid(
        self,
        kind: str,
        k: int,
        *,
        text: str | None,
        vector: np.ndarray | None,
        exclude: Iterable[Hashable] = (),
        dense: tuple[list[Hashable], list[float]] | None = None,
        lexical: tuple[list[Hashable], list[float]] | None = None,
    ) -> list[tuple[Hashable, float, dict[str, dict[str, float]]]]:
        """Both channels' candidates fused; ``dense`` and ``lexical`` give a channel's
        when a batched search (:meth:`dense_rows`,
        :meth:`~recsvc.semantic.lexical.LexicalIndex.search_rows`) found them already."""
        exclude = set(exclude)
        depth = self.depth(k)
        found: dict[str, tuple[list[Hashable], list[float]]] = {}
        with self._lock:
            if dense is not None:
                found["dense"] = dense
            elif vector is not None:
                found["dense"] = split_rows(self.dense_rows(kind, vector, k, [exclude]), 1)[0]
            if lexical is not None:
                found["lexical"] = lexical
            elif text:
                found["lexical"] = self.lexical[kind].search(text, depth, exclude=exclude)
        if self.fusion == "rrf":
            ranked = rrf({name: keys for name, (keys, _) in found.items()}, k=self.settings.rrf_k)
        else:
            ranked = weighted(found, self.fusion_weights)
        fused = ranked[:k]
        # channel details for the returned keys only (each channel brings up to `depth`)
        channel_of: dict[Hashable, dict[str, dict[str, float]]] = {key: {} for key, _ in fused}
        for name, (keys, scores) in found.items():
            for rank, (key, score) in enumerate(zip(keys, scores, strict=True), start=1):
                if key in channel_of:
                    channel_of[key][name] = {"rank": rank, "score": float(score)}
        return [(key, score, channel_of[key]) for key, score in fused]

    def depth(self, k: int) -> int:
        """Candidates each channel brings for ``k`` fused hits."""
        return max(self.candidate_depth, 5 * k)

    def dense_rows(
        self, kind: str, vectors: np.ndarray, k: int, excludes: Sequence[set[Hashable]]
    ) -> RowHits:
        """The dense channel's candidates of each query row (one batched search), above
        the score floor and without that row's ``excludes``, :meth:`depth` at most."""
        drop = max((len(e) for e in excludes), default=0)
        with self._lock:
            rows, keys, scores = self.dense[kind].search_rows(vectors, self.depth(k) + drop)
        keep = scores > self.min_dense_score
        bounds = np.searchsorted(rows, np.arange(len(excludes) + 1)).tolist()
        for row, excluded in enumerate(excludes):  # a commission's own cases: a few rows
            if excluded:
                at = slice(bounds[row], bounds[row + 1])
                keep[at] &= [key not in excluded for key in keys[at].tolist()]
        kept = np.flatnonzero(keep)
        kept = kept[first_of_rows(rows[kept], self.depth(k))]
        return rows[kept], keys[kept], scores[kept]

    def _hit(
        self, kind: str, key: Hashable, score: float, channels: dict, scope: Scope
    ) -> SearchHit:
        doc = self.docs[kind][key]
        meta = dict(doc.meta)
        if kind in ("commissions", "clients", "cases"):
            meta["client_id"] = doc.client_id
        if scope.is_portal:
            meta = {m: v for m, v in meta.items() if kind == "products" or m in PORTAL_CASE_META}
        return SearchHit(kind, doc.key, float(score), channels, doc.title, doc.summary, meta)

    def search(
        self, query: str, kind: str, k: int = 10, scope: Scope | None = None
    ) -> list[SearchHit]:
        """Hybrid search: dense and BM25 candidates fused (:attr:`fusion`).

        Args:
            query: free text, any language (Chinese is matched lexically).
            kind: ``commissions``, ``clients``, ``products`` or ``cases``.
            k: number of hits.
            scope: :meth:`Scope.librarian` (default) or :meth:`Scope.portal`, which may
                search only products and anonymised cases.

        Raises:
            InvalidInput: unknown kind. Forbidden: a kind the scope may not see.
        """
        scope = scope or Scope.librarian()
        self._check(kind, scope)
        query = " ".join(query.split())
        if not query:
            return []
        vector = self._query_vector(query)
        with self._lock:
            fused = self._hybrid(kind, k, text=query, vector=vector)
            return [self._hit(kind, key, s, ch, scope) for key, s, ch in fused]

    def similar_clients(self, client_id: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """See :func:`recsvc.semantic.similar.similar_clients`."""
        return similar.similar_clients(self, client_id, k)

    def similar_commissions(self, commission_id: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """See :func:`recsvc.semantic.similar.similar_commissions`."""
        return similar.similar_commissions(self, commission_id, k)

    def similar_commission_hits(self, commission_id: int, k: int = 10) -> list[SearchHit]:
        """See :func:`recsvc.semantic.similar.similar_commission_hits`."""
        return similar.similar_commission_hits(self, commission_id, k)

    def similar_cases(
        self, text_or_commission_id: str | int, k: int = 10, scope: Scope | None = None
    ) -> list[SearchHit]:
        """See :func:`recsvc.semantic.similar.similar_cases`."""
        return similar.similar_cases(self, text_or_commission_id, k, scope)

    def similar_case_keys_many(
        self, commission_ids: Sequence[int], k: int = 10
    ) -> dict[int, list[tuple[Hashable, float]]]:
        """See :func:`recsvc.semantic.similar.similar_case_keys_many`."""
        return similar.similar_case_keys_many(self, commission_ids, k)

    def client_vectors(self, client_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Research-direction vectors, one row per id (zeros for a client not indexed)."""
        return self.dense["clients"].vectors([int(c) for c in client_ids])

    def product_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, vectors)`` of every catalogue entry."""
        codes = [str(c) for c in self.dense["products"].ids()]
        return np.asarray(codes, dtype=object), self.dense["products"].vectors(codes)

    def commission_vectors(self, commission_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """Commission vectors, one row per id (zeros for one not indexed)."""
        return self.dense["commissions"].vectors([int(c) for c in commission_ids])

    # -- incremental updates (recsvc/semantic/updates.py) ---------------------------
    def upsert_commissions(self, commissions: pd.DataFrame | Sequence[dict[str, Any]]) -> int:
        """See :func:`recsvc.semantic.updates.upsert_commissions`."""
        return updates.upsert_commissions(self, commissions)

    def remove_commissions(self, commission_ids: Iterable[int]) -> int:
        """See :func:`recsvc.semantic.updates.remove_commissions`."""
        return updates.remove_commissions(self, commission_ids)

    def remove_client(self, client_id: int) -> int:
        """See :func:`recsvc.semantic.updates.remove_client`."""
        return updates.remove_client(self, client_id)

    def erase_client(self, client_id: int) -> updates.ErasedDocs:
        """See :func:`recsvc.semantic.updates.erase_client`."""
        return updates.erase_client(self, client_id)

    def forget_texts(self, texts: Iterable[str]) -> int:
        """Drop the cached vectors of ``texts`` (an erasure): from this layer's embedding
        cache in memory, and from every model's cache in ``settings.cache_dir``."""
        texts = list(texts)
        emb = self._embedder
        if isinstance(emb, CachedEmbedder):
            emb.forget(texts)
        assert self.settings.cache_dir is not None
        return forget_texts(self.settings.cache_dir, texts)

    # -- persistence ----------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, Any]]:
        """Per kind: documents, index kind, tombstones."""
        return {
            kind: {
                "count": len(self.docs[kind]),
                "index": self.dense[kind].kind,
                "tombstones": self.dense[kind].tombstones,
            }
            for kind in KINDS
        }

    def signature(self) -> str:
        """Which index this is: when it was built and what each kind holds. Files derived
        from searches (a version's ranker scores, its similar-case hits) keep it to
        tell whether they are still this index's."""
        return json.dumps([self.built_at, self.stats()], default=str)

    def save(self, folder: str | Path | None = None) -> Path:
        """Write the layer to ``folder`` (default ``settings.index_dir``), replacing it whole."""
        target = Path(folder or self.settings.index_dir or "indexes")
        parts = LayerParts(self.docs, self.dense, self.lexical, self.model_id, self.built_at)
        return write_parts(
            target,
            parts,
            embedding_model=self.settings.embedding_model,
            embedding_backend=self.settings.embedding_backend,
            stats=self.stats(),
        )

    @classmethod
    def load(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        folder: str | Path | None = None,
        mmap: bool = False,
    ) -> SemanticLayer:
        """Open a saved layer. Without ``embedder`` the configured model loads on first use.

        ``mmap`` maps the stored vectors instead of reading them (a server's workers
        share them; see :meth:`VectorIndex.load`).

        Raises:
            NotReady: nothing saved, or it was built with another embedding model or backend.
        """
        folder = Path(folder or settings.index_dir or "indexes")
        parts = read_parts(folder, settings, any_model=embedder is not None, mmap=mmap)
        layer = cls.from_parts(settings, parts, embedder=embedder)
        if embedder is not None:
            _ = layer.embedder  # fail now on a model mismatch
        return layer

    @classmethod
    def from_parts(
        cls, settings: Settings, parts: LayerParts, *, embedder: Embedder | None = None
    ) -> SemanticLayer:
        """A layer serving ``parts`` (built or read by :mod:`recsvc.semantic.artifact`)."""
        return cls(
            settings,
            parts.docs,
            parts.dense,
            parts.lexical,
            model_id=parts.model_id,
            embedder=embedder,
            built_at=parts.built_at,
        )


def build_semantic(
    source: Database | Frames,
    settings: Settings,
    embedder: Embedder | None = None,
    *,
    progress: bool = False,
    cache: bool = True,
) -> SemanticLayer:
    """Embed and index every kind from the store (or a :class:`Frames` snapshot).

    Args:
        source: a :class:`Database` (read through ``load_frames``) or frames.
        settings: index kind, thresholds, cache folder.
        embedder: defaults to the configured real model.
        progress: show progress bars while embedding.
        cache: wrap the embedder in the on-disk :class:`CachedEmbedder`.
    """
    frames = load_frames(source) if isinstance(source, Database) else source
    emb = embedder or load_embedder(settings, cached=False)
    if cache and not isinstance(emb, CachedEmbedder):
        assert settings.cache_dir is not None
        emb = CachedEmbedder(emb, settings.cache_dir)
    parts = embed_parts(frames, settings, emb, progress=progress)
    return SemanticLayer.from_parts(settings, parts, embedder=emb)
