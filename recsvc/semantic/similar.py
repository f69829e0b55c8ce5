"""What is similar: clients, commissions and past cases like a given one.

Each query is a function of a :class:`~recsvc.semantic.layer.SemanticLayer`, which
keeps thin methods calling them; they run on its search primitives (the hybrid
channel fusion, hit shaping, scope checks and lock), which stay in the layer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recsvc.errors import Forbidden, NotFound
from recsvc.semantic.fusion import weighted_many
from recsvc.semantic.hits import RowHits, Scope, SearchHit, split_rows

if TYPE_CHECKING:
    from recsvc.semantic.layer import SemanticLayer

__all__ = [
    "CasesByCommission",
    "cases_by_commission",
    "similar_case_keys_many",
    "similar_cases",
    "similar_clients",
    "similar_commission_hits",
    "similar_commissions",
]


def similar_clients(
    layer: SemanticLayer, client_id: int, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Clients whose research direction is closest (cosine), the client itself excluded.

    Returns:
        ``(client_ids int64, scores float32)`` arrays, best first.
    """
    return _nearest(layer, "clients", "client", client_id, k)


def similar_commissions(
    layer: SemanticLayer, commission_id: int, k: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Commissions closest to one commission (hybrid, as :func:`similar_commission_hits`).

    Returns:
        ``(commission_ids int64, fused scores float32)`` arrays, best first.
    """
    hits = similar_commission_hits(layer, commission_id, k)
    return (
        np.asarray([h.id for h in hits], dtype=np.int64),
        np.asarray([h.score for h in hits], dtype=np.float32),
    )


def similar_commission_hits(
    layer: SemanticLayer, commission_id: int, k: int = 10
) -> list[SearchHit]:
    """Commissions like one commission, itself excluded, in librarian scope.

    Its text is searched in the lexical channel and its stored vector in the dense
    one, fused as in :meth:`SemanticLayer.search`; so a Chinese-only commission, which
    the English model barely sees, still finds the commissions that share its Chinese
    terms.

    Raises:
        NotFound: the commission is not indexed.
    """
    cid = int(commission_id)
    text, vector = _commission_query(layer, cid)
    with layer._lock:
        fused = layer._hybrid("commissions", k, text=text, vector=vector, exclude={cid})
        return [layer._hit("commissions", key, s, ch, Scope.librarian()) for key, s, ch in fused]


def _commission_query(layer: SemanticLayer, commission_id: int) -> tuple[str, np.ndarray | None]:
    """A stored commission as a query: its text, and its vector unless the model
    could see too little of it when it was embedded (``meta["coverage"]``)."""
    doc = layer.docs["commissions"].get(commission_id)
    if doc is None:
        raise NotFound(f"commission {commission_id} is not in the semantic index")
    seen = float(doc.meta.get("coverage", 1.0)) >= layer.min_dense_coverage
    index = layer.dense["commissions"]
    vector = index.vectors([commission_id]) if seen and commission_id in index else None
    return doc.text, vector


def _nearest(
    layer: SemanticLayer, kind: str, what: str, key: int, k: int
) -> tuple[np.ndarray, np.ndarray]:
    index, key = layer.dense[kind], int(key)
    with layer._lock:
        if key not in index:
            raise NotFound(f"{what} {key} is not in the semantic index")
        keys, scores = index.search(index.vectors([key]), k, exclude=[key])
    return np.asarray(keys[0], dtype=np.int64), np.asarray(scores[0], dtype=np.float32)


def similar_cases(
    layer: SemanticLayer,
    text_or_commission_id: str | int,
    k: int = 10,
    scope: Scope | None = None,
) -> list[SearchHit]:
    """Past value-added cases resembling a text or one of the store's commissions.

    For a commission id, the commission's own cases are excluded, and in portal
    scope the commission must belong to the scope's client.
    """
    scope = scope or Scope.librarian()
    layer._check("cases", scope)
    if isinstance(text_or_commission_id, str):
        text = " ".join(text_or_commission_id.split())
        vector = layer._query_vector(text) if text else None
        exclude: set[Hashable] = set()
    else:
        cid = int(text_or_commission_id)
        doc = layer.docs["commissions"].get(cid)
        if doc is None:
            raise NotFound(f"commission {cid} is not in the semantic index")
        if scope.is_portal and doc.client_id != scope.client_id:
            raise Forbidden("a portal client may only ask about its own commissions")
        text, vector = _commission_query(layer, cid)
        exclude = set(_cases_of_commission(layer, cid))
    with layer._lock:
        fused = layer._hybrid("cases", k, text=text, vector=vector, exclude=exclude)
        return [layer._hit("cases", key, s, ch, scope) for key, s, ch in fused]


def similar_case_keys_many(
    layer: SemanticLayer, commission_ids: Sequence[int], k: int = 10
) -> dict[int, list[tuple[Hashable, float]]]:
    """The fused hits of :func:`similar_cases` for many of the store's commissions, in
    librarian scope, as ``(case key, score)`` pairs best first: the caller decodes each
    case once however many commissions found it (the portal precomputation found each
    case 50 to 80 times, and decoding every hit was 8 % of that step at 10,000 clients).

    Each channel is searched once for all of them (dense: a matrix product instead of
    one per commission, which at 10,000 clients was 39 % of the portal precomputation;
    lexical: :meth:`~recsvc.semantic.lexical.LexicalIndex.search_rows`), and with the
    layer's default fusion the hits are fused together too
    (:func:`~recsvc.semantic.fusion.weighted_many`, the same scores and order as one
    search's: fusing one commission at a time was a third of the search at 10,000
    clients). Commissions not in the index are left out.
    """
    layer._check("cases", Scope.librarian())
    ids, texts, vectors, excludes = _commission_queries(layer, commission_ids)
    seen = [i for i, vector in enumerate(vectors) if vector is not None]
    with layer._lock:
        lexical = layer.lexical["cases"].search_rows(texts, layer.depth(k), excludes=excludes)
        dense: RowHits = (np.zeros(0, np.int64), np.zeros(0, object), np.zeros(0))
        if seen:
            matrix = np.vstack([v for v in vectors if v is not None])
            rows, keys, scores = layer.dense_rows("cases", matrix, k, [excludes[i] for i in seen])
            dense = (np.asarray(seen, dtype=np.int64)[rows], keys, scores)
        if layer.fusion != "weighted":
            return _fused_one_at_a_time(layer, k, ids, texts, vectors, excludes, dense, lexical)
    # the two channels' keys as integer ids, for fusing arrays
    codes, keys = pd.factorize(np.concatenate([dense[1], lexical[1]]).astype(object))
    split = len(dense[1])
    channels = {
        "dense": (dense[0], codes[:split], dense[2]),
        "lexical": (lexical[0], codes[split:], lexical[2]),
    }
    rows, fused, scores = weighted_many(channels, layer.fusion_weights, len(ids), k)
    found = split_rows((rows, keys[fused], scores), len(ids))
    return {cid: list(zip(*hits, strict=True)) for cid, hits in zip(ids, found, strict=True)}


def _fused_one_at_a_time(
    layer: SemanticLayer,
    k: int,
    ids: list[int],
    texts: list[str],
    vectors: list[np.ndarray | None],
    excludes: list[set[Hashable]],
    dense: RowHits,
    lexical: RowHits,
) -> dict[int, list[tuple[Hashable, float]]]:
    """The channels' hits of each query fused as one search fuses them (a fusion other
    than the weighted one, which :func:`~recsvc.semantic.fusion.weighted_many` does)."""
    by_dense, by_words = split_rows(dense, len(ids)), split_rows(lexical, len(ids))
    out = {}
    for i, (cid, text, vector) in enumerate(zip(ids, texts, vectors, strict=True)):
        fused = layer._hybrid(
            "cases",
            k,
            text=text,
            vector=vector,
            exclude=excludes[i],
            dense=by_dense[i] if vector is not None else None,
            lexical=by_words[i] if text else None,
        )
        out[cid] = [(key, score) for key, score, _ in fused]
    return out


def _commission_queries(
    layer: SemanticLayer, commission_ids: Sequence[int]
) -> tuple[list[int], list[str], list[np.ndarray | None], list[set[Hashable]]]:
    """The indexed ones of ``commission_ids`` (once each, in order) as queries: their
    text, vector (as :func:`_commission_query` decides) and own cases."""
    ids: list[int] = []
    texts: list[str] = []
    vectors: list[np.ndarray | None] = []
    excludes: list[set[Hashable]] = []
    for cid in dict.fromkeys(int(c) for c in commission_ids):
        if cid not in layer.docs["commissions"]:
            continue
        text, vector = _commission_query(layer, cid)
        ids.append(cid)
        texts.append(text)
        vectors.append(None if vector is None else np.asarray(vector, np.float32).reshape(1, -1))
        excludes.append(set(_cases_of_commission(layer, cid)))
    return ids, texts, vectors, excludes


def _cases_of_commission(layer: SemanticLayer, commission_id: int) -> set[Hashable]:
    """Keys of the cases that came from one commission."""
    return cases_by_commission(layer).get(int(commission_id))


class CasesByCommission:
    """Past-case keys by the commission they came from: two arrays sorted by
    commission, a lookup two binary searches (a dict of sets over 100,000 cases took
    seconds to build at a server's start)."""

    def __init__(self, keys: np.ndarray, commissions: np.ndarray) -> None:
        order = np.argsort(commissions, kind="stable")
        self._keys = np.asarray(keys)[order]
        self._commissions = np.asarray(commissions, dtype=np.int64)[order]

    def get(self, commission_id: int) -> set[Hashable]:
        """The keys of the cases that came from ``commission_id`` (empty: none)."""
        lo, hi = self._commissions.searchsorted([commission_id, commission_id + 1])
        return set(self._keys[lo:hi].tolist())


def cases_by_commission(layer: SemanticLayer) -> CasesByCommission:
    """Case keys by the commission they came from (built on first use from the
    documents' commission column; the layer drops it whenever its cases change)."""
    by_commission = layer._cases_of
    if by_commission is None:
        with layer._lock:
            by_commission = CasesByCommission(*layer.docs["cases"].commissions())
            layer._cases_of = by_commission
    return by_commission
