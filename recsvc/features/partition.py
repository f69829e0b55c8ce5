"""Client features built over partitions of clients, then joined with the shared part.

Most features of a client are computed from that client's own rows only (counts,
recency, spend, complaints, decayed activity, R&D profile, the relationship stage), so
:func:`~recsvc.features.client_features` run on the rows of a subset of clients gives
exactly their values. A few are not, and are computed once over every client:

- ``field_*`` and ``client_fields_momentum``: momentum, growth trends and buyer rates
  of industry fields, counted over all clients' commissions and orders.
- ``semantic_sim_buyers``: similarity to the centroid of *all* recent buyers'
  project vectors (the embeddings themselves come from the embedding cache).

:func:`frames_for_clients` cuts the snapshot, a caller runs ``client_features`` on each
cut (anywhere: ``training.cluster`` runs them on Dask workers), and
:func:`assemble` joins the pieces with :func:`shared_features`. The result equals
``client_features`` on the whole snapshot (``tests/test_cluster.py`` pins it).

Example:
    >>> cuts = [frames_for_clients(f, ids) for ids in ranges]        # doctest: +SKIP
    >>> parts = [client_features(cut, t) for cut in cuts]             # doctest: +SKIP
    >>> X = assemble(parts, shared_features(f, t, semantic))          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsvc.features.builder import _field_features, _semantic_features
from recsvc.store.frames import Frames

__all__ = ["CROSS_CLIENT", "assemble", "frames_for_clients", "shared_features"]

#: Columns whose value for one client depends on other clients' rows.
CROSS_CLIENT: tuple[str, ...] = (
    "field_growth_5y",
    "field_peer_purchases",
    "field_momentum",
    "field_growth_3y",
    "client_fields_momentum",
    "field_buyer_rate",
    "semantic_sim_buyers",
)
#: ``client_features`` puts the semantic columns just before this one.
_AFTER_SEMANTIC = "spend_total"


def frames_for_clients(frames: Frames, client_ids: Any) -> Frames:
    """The snapshot restricted to ``client_ids`` (products are kept whole)."""
    keep = pd.Index(np.asarray(client_ids))
    cut: dict[str, pd.DataFrame] = {}
    for name, table in frames.tables().items():
        if "client_id" in table.columns:
            table = table[table["client_id"].isin(keep)]
        cut[name] = table
    return Frames(**cut)


def shared_features(frames: Frames, cutoff: Any, semantic: Any = None) -> pd.DataFrame:
    """The :data:`CROSS_CLIENT` columns of every client known at ``cutoff``.

    Computed over the whole snapshot, exactly as ``client_features`` computes them.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    f = frames.as_of(cutoff)
    cl = f.clients.set_index("client_id")
    parts = _field_features(cl, f.commissions, f.orders, cutoff)
    if semantic is not None:
        parts.update(_semantic_features(semantic, f.commissions, f.orders, cutoff))
    out = pd.DataFrame({k: v.reindex(cl.index) for k, v in parts.items()}, index=cl.index)
    out.index.name = "client_id"
    return out.astype(float)


def assemble(parts: Sequence[pd.DataFrame], shared: pd.DataFrame) -> pd.DataFrame:
    """``client_features`` of the whole snapshot from per-partition results.

    Args:
        parts: ``client_features`` of disjoint client subsets (same cutoff, no semantic
            layer); their cross-client columns are replaced.
        shared: :func:`shared_features` at that cutoff; its index fixes the row order.
    """
    widest = max(parts, key=lambda p: p.shape[1])
    columns = [c for c in widest.columns if c not in CROSS_CLIENT or c in shared.columns]
    for p in parts:  # a column only some partitions have (no feedback in one, say)
        columns += [c for c in p.columns if c not in columns and c not in CROSS_CLIENT]
    extra = [c for c in shared.columns if c not in columns]
    at = columns.index(_AFTER_SEMANTIC) if _AFTER_SEMANTIC in columns else len(columns)
    columns[at:at] = extra
    out = pd.concat(parts).reindex(index=shared.index, columns=columns)
    out[list(shared.columns)] = shared
    return out.astype(float)
