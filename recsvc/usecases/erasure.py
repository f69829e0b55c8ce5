"""Erasing a client: the client and everything derived from it, everywhere, at once.

What goes (the counts of each are recorded, see :func:`erase_client`):

- **store**: its row and every row that belongs to it: contacts, commissions, orders,
  interactions, recommendation events, feedback, complaints, and the portal tokens
  bound to it (:func:`recsvc.store.queries.erase_client_rows`);
- **semantic index**: its profile, its commissions and the anonymised cases they
  triggered: documents, FAISS vectors (HNSW compacted, so no tombstone keeps a
  vector) and BM25 tokens, saved to ``settings.index_dir``
  (:meth:`~recsvc.semantic.SemanticLayer.erase_client`);
- **embedding cache**: the vectors cached for those texts, in every model's cache (with
  no index built, the texts are rebuilt from the store first);
- **serving files** of every version: its portal list, its cases quoted in other
  clients' stored explanations, its kept case hits and contributions; the snapshot
  files go (:func:`recsvc.serving.erase.erase_serving_files`). Registered version
  folders are not written: they hold no client texts.

The erasure is also an event of the audit trail (``client.erase``, by internal id).
The derived files go first and the rows last, in one transaction with the record:
if a step fails, the client is still there and the erasure can simply be run again.
Then the process serving forgets the client at once
(:meth:`~recsvc.runtime.Runtime.client_erased`); other server processes follow within
``settings.registry_poll_seconds``.

Example:
    >>> erase_client(rt, external_id="C000165", reason="written request 2026-12-01",
    ...              principal=admin, surface=AuditSurface.API)     # doctest: +SKIP
    Erased(erasure_id=1, client_id=165, counts={'rows.commissions': 166, ...})
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from recsvc.auth import Principal
from recsvc.errors import InvalidInput, Problem
from recsvc.runtime import Runtime
from recsvc.semantic.cache import forget_texts
from recsvc.semantic.documents import build_docs
from recsvc.serving.erase import erase_serving_files
from recsvc.store import queries
from recsvc.store.frames import load_frames
from recsvc.usecases import audit, clients
from recsvc.usecases.audit import AuditAction, AuditSurface

__all__ = ["Erased", "ErasureRecord", "erase_client", "erasures"]

log = logging.getLogger(__name__)

#: Longest reason kept (it is recorded, and must not hold personal data).
MAX_REASON = 500
_lock = threading.Lock()  # one erasure at a time per process (they rewrite shared files)


@dataclass(frozen=True)
class Erased:
    """An erasure done: its record's id, the client's former internal id, and how
    many rows and entries went, per kind."""

    erasure_id: int
    client_id: int
    counts: dict[str, int]


@dataclass(frozen=True)
class ErasureRecord:
    """An erasure as recorded (no personal data)."""

    id: int
    erased_at: dt.datetime
    client_id: int
    actor_key_id: int | None
    actor_role: str | None
    reason: str
    counts: dict[str, int]


def _reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise InvalidInput(
            "an erasure needs a reason", problems=[Problem("required", field="reason")]
        )
    if len(text) > MAX_REASON:
        raise InvalidInput(
            f"the reason is longer than {MAX_REASON} characters",
            problems=[Problem(f"at most {MAX_REASON} characters", field="reason")],
        )
    return text


def erase_client(
    rt: Runtime,
    *,
    external_id: str,
    reason: str | None,
    principal: Principal | None,
    surface: AuditSurface,
) -> Erased:
    """Erase one client and everything derived from it (see the module).

    Args:
        external_id: the client's public id.
        reason: why (required; recorded, so it must not name the person).
        principal: who asked (``None`` on the command line).
        surface: where it was asked (API, console or command line), for the audit.

    Raises:
        InvalidInput: no reason. NotFound: no such client.
    """
    why = _reason(reason)
    with _lock:
        cid = clients.client_id(rt, external_id=external_id)
        counts: dict[str, int] = {}
        layer = rt.semantic_or_none()
        case_ids: set[str] = set()
        summaries: set[tuple[str, str]] = set()
        commission_ids: set[int] = set()
        signature = None
        if layer is not None:
            before = layer.signature()
            gone = layer.erase_client(cid)
            signature = (before, layer.signature())
            layer.save()
            counts.update({f"index.{kind}": n for kind, n in gone.counts.items()})
            counts["cache.vectors"] = layer.forget_texts(gone.texts)
            case_ids, summaries = gone.case_ids, gone.case_summaries
            commission_ids = gone.commission_ids
        elif rt.settings.cache_dir is not None:  # no index to ask: rebuild its texts
            counts["cache.vectors"] = forget_texts(rt.settings.cache_dir, _texts_of(rt, cid))
        registry = rt.registry
        versions = [(v, registry.path(v)) for v in registry.versions()]
        served = erase_serving_files(
            rt.settings,
            versions,
            cid,
            case_ids=case_ids,
            case_summaries=summaries,
            commission_ids=commission_ids,
            signature=signature,
        )
        counts.update({f"serving.{kind}": n for kind, n in served.items()})
        record_id, rows = queries.erase_client_rows(
            rt.db,
            client_id=cid,
            reason=why,
            actor_key_id=principal.key_id if principal else None,
            actor_role=principal.role.value if principal else None,
            counts=counts,
        )
        counts = {**{f"rows.{k}": v for k, v in rows.items()}, **counts}
        rt.client_erased(semantic_saved=layer is not None)
    audit.record(rt, principal, AuditAction.CLIENT_ERASE, surface=surface, client_id=cid)
    log.info("client %d erased (record %d)", cid, record_id)
    return Erased(record_id, cid, counts)


def _texts_of(rt: Runtime, client_id: int) -> list[str]:
    """The texts the semantic layer embeds for a client (its profile, commissions and
    cases), rebuilt from the store: what training or a search may have cached vectors
    for when no index exists. Reads the whole snapshot (an erasure without an index is
    rare: a store that was never indexed)."""
    docs = build_docs(load_frames(rt.db))
    kinds = ("clients", "commissions", "cases")
    return [d.text for kind in kinds for d in docs[kind] if d.client_id == client_id]


def erasures(rt: Runtime) -> list[ErasureRecord]:
    """Every erasure record, oldest first."""
    return [
        ErasureRecord(
            e.id,
            e.erased_at,
            e.client_id,
            e.actor_key_id,
            e.actor_role,
            e.reason,
            dict(e.counts),
        )
        for e in queries.erasures(rt.db)
    ]
