"""Keeping a semantic layer in step with the store between rebuilds.

New or changed commissions are embedded and indexed at once (and their clients'
research-direction vectors refreshed); removed commissions take their cases with them,
and a removed client takes its profile, commissions and cases. An erased client
(:func:`erase_client`) goes the same way, and its vectors and tokens leave the index
structures at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from recsvc.semantic.documents import Doc, client_text, commission_doc

if TYPE_CHECKING:
    from recsvc.semantic.layer import SemanticLayer

__all__ = [
    "ErasedDocs",
    "erase_client",
    "remove_client",
    "remove_commissions",
    "upsert_commissions",
]


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
            layer.replace_doc("commissions", replace(old, meta=meta))
            touched.add(doc.client_id)
    layer.put("commissions", changed)
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
    layer.put("clients", docs)


def remove_commissions(layer: SemanticLayer, commission_ids: Iterable[int]) -> int:
    """Forget commissions (and the cases they triggered)."""
    ids = {int(c) for c in commission_ids}
    owners = {layer.docs["commissions"][c].client_id for c in ids if c in layer.docs["commissions"]}
    n = layer.drop("commissions", ids)
    layer.drop(
        "cases", [d.key for d in layer.docs["cases"].values() if d.meta["commission_id"] in ids]
    )
    _refresh_clients(layer, {o for o in owners if o is not None})
    return n


def remove_client(layer: SemanticLayer, client_id: int) -> int:
    """Delete a client's vectors: its profile, its commissions and its cases.

    Returns:
        The number of records removed.
    """
    cid = int(client_id)
    n = layer.drop("clients", [cid])
    for kind in ("commissions", "cases"):
        n += layer.drop(kind, [d.key for d in layer.docs[kind].values() if d.client_id == cid])
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
            out.counts[kind] = layer.drop(kind, [d.key for d in docs], erase=True)
    return out
