"""Keeping a semantic layer in step with the store between rebuilds.

New or changed commissions are embedded and indexed at once (and their clients'
research-direction vectors refreshed); removed commissions take their cases with them,
and a removed client takes its profile, commissions and cases. An erased client
(:func:`erase_client`) goes the same way, and its vectors and tokens leave the index
structures at once.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from recsvc.semantic.documents import COVERED_KINDS, Doc, client_text, commission_doc, mark_coverage

if TYPE_CHECKING:
    from recsvc.semantic.layer import SemanticLayer

__all__ = [
    "ErasedDocs",
    "drop",
    "erase_client",
    "put",
    "remove_client",
    "remove_commissions",
    "replace_doc",
    "upsert_commissions",
]


def put(layer: SemanticLayer, kind: str, docs: list[Doc]) -> None:
    """Embed and index ``docs`` of ``kind``, replacing any with the same keys."""
    if not docs:
        return
    vectors = layer.embed([d.text for d in docs])
    if kind in COVERED_KINDS:
        mark_coverage(docs, layer.embedder)
    with layer._lock:
        layer.dense[kind].add([d.key for d in docs], vectors)
        layer.lexical[kind].upsert([d.key for d in docs], [d.text for d in docs])
        for d in docs:
            layer.docs[kind][d.key] = d
        if kind == "cases":
            layer._cases_of = None


def replace_doc(layer: SemanticLayer, kind: str, doc: Doc) -> None:
    """Store ``doc`` in place of its key's document (its text and vector unchanged)."""
    with layer._lock:
        layer.docs[kind][doc.key] = doc


def drop(layer: SemanticLayer, kind: str, keys: Iterable[Hashable], *, erase: bool = False) -> int:
    """Forget the documents of ``kind`` under ``keys``; how many there were.

    With ``erase`` their vectors and tokens leave the index structures at once
    (:meth:`VectorIndex.erase`, :meth:`LexicalIndex.erase`) instead of waiting as
    tombstones for the next compaction.
    """
    with layer._lock:
        keys = [k for k in keys if k in layer.docs[kind]]
        if erase:
            layer.dense[kind].erase(keys)
            layer.lexical[kind].erase(keys)
        else:
            layer.dense[kind].remove(keys)
            layer.lexical[kind].remove(keys)
        for key in keys:
            del layer.docs[kind][key]
        if kind == "cases":
            layer._cases_of = None
    return len(keys)


def upsert_commissions(
    layer: SemanticLayer, commissions: pd.DataFrame | Sequence[dict[str, Any]]
) -> int:
    """Make new or changed commissions searchable now, without a rebuild.

    Args:
        commissions: rows shaped like ``Frames.commissions`` (``commission_id``,
            ``client_id``, ``title_zh``, ``title_en``, ``keywords``,
            ``commissioned_on`` …).

    Returns:
        How many commissions were (re-)embedded; unchanged ones cost nothing. The
        owning clients' research-direction vectors are refreshed too.
    """
    if isinstance(commissions, pd.DataFrame):
        rows: Sequence[dict[str, Any]] = commissions.to_dict("records")
    else:
        rows = commissions
    changed, touched = [], set()
    for row in rows:
        doc = commission_doc(row)
        old = layer.docs["commissions"].get(doc.key)
        if old is None or old.text != doc.text or old.client_id != doc.client_id:
            changed.append(doc)
            touched.add(doc.client_id)
            if old is not None:
                touched.add(old.client_id)
        elif _plain(old.meta) != doc.meta:  # same text: what the model saw is unchanged
            meta = {**doc.meta, **{m: v for m, v in old.meta.items() if m == "coverage"}}
            replace_doc(layer, "commissions", replace(old, meta=meta))
            touched.add(doc.client_id)
    put(layer, "commissions", changed)
    _refresh_clients(layer, {c for c in touched if c is not None})
    return len(changed)


def _plain(meta: dict[str, Any]) -> dict[str, Any]:
    """A doc's metadata without what embedding added to it."""
    return {m: v for m, v in meta.items() if m != "coverage"}


def _refresh_clients(layer: SemanticLayer, client_ids: set[int]) -> None:
    by_client: dict[int, list[Doc]] = {c: [] for c in client_ids}
    for d in layer.docs["commissions"].values():
        if d.client_id in by_client:
            by_client[d.client_id].append(d)
    docs = []
    for cid in client_ids:
        old = layer.docs["clients"].get(cid)
        if old is None:
            continue  # a new client gets its vector at the next `index build`
        text = client_text(old.meta.get("direction", ""), by_client[cid])
        if text != old.text:
            docs.append(Doc(old.key, text, old.title, old.summary, old.client_id, old.meta))
    put(layer, "clients", docs)


def remove_commissions(layer: SemanticLayer, commission_ids: Iterable[int]) -> int:
    """Forget commissions (and the cases they triggered)."""
    ids = {int(c) for c in commission_ids}
    owners = {layer.docs["commissions"][c].client_id for c in ids if c in layer.docs["commissions"]}
    n = drop(layer, "commissions", ids)
    drop(
        layer,
        "cases",
        [d.key for d in layer.docs["cases"].values() if d.meta["commission_id"] in ids],
    )
    _refresh_clients(layer, {o for o in owners if o is not None})
    return n


def remove_client(layer: SemanticLayer, client_id: int) -> int:
    """Delete a client's vectors: its profile, its commissions and its cases.

    Returns:
        The number of records removed.
    """
    cid = int(client_id)
    n = drop(layer, "clients", [cid])
    for kind in ("commissions", "cases"):
        n += drop(layer, kind, [d.key for d in layer.docs[kind].values() if d.client_id == cid])
    return n


@dataclass
class ErasedDocs:
    """What :func:`erase_client` took out of a layer.

    Attributes:
        counts: documents removed per kind.
        texts: the texts that were embedded for them (to purge the embedding cache).
        commission_ids: the ids of its commissions.
        case_ids: the ids of the client's anonymised cases.
        case_summaries: their ``(English, Chinese)`` summaries, as explanations quote
            them (to find them in stored explanations of other clients).
    """

    counts: dict[str, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    commission_ids: set[int] = field(default_factory=set)
    case_ids: set[str] = field(default_factory=set)
    case_summaries: set[tuple[str, str]] = field(default_factory=set)


def erase_client(layer: SemanticLayer, client_id: int) -> ErasedDocs:
    """Erase a client from the layer: its profile, its commissions and the cases they
    triggered, documents, vectors and BM25 tokens alike (see ``drop(erase=True)``).

    Returns:
        What went, for the caller to purge what was derived from it elsewhere.
    """
    cid = int(client_id)
    out = ErasedDocs()
    with layer._lock:
        for kind in ("clients", "commissions", "cases"):
            docs = [d for d in layer.docs[kind].values() if d.client_id == cid]
            out.texts.extend(d.text for d in docs)
            if kind == "commissions":
                out.commission_ids.update(int(d.key) for d in docs)
            if kind == "cases":
                out.case_ids.update(str(d.key) for d in docs)
                out.case_summaries.update(
                    (d.summary, str(d.meta.get("summary_zh") or d.summary)) for d in docs
                )
            out.counts[kind] = drop(layer, kind, [d.key for d in docs], erase=True)
    return out
