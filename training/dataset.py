"""Labels, backtest cutoffs and the point-in-time training table.

Label: a client is *high-value at T* if it buys a value-added service (an order with
status ``paid`` or ``delivered``) in ``[T, T + horizon_months)``; when
``settings.high_value_spend_threshold`` is above 0, its value-added spend in that window
must exceed the threshold instead.

Cutoffs: ``C_0 = today - horizon`` (the latest cutoff whose label window is complete),
then one per year back: ``C_k = C_0 - k years``, ``k = 0 … backtest_cutoffs``.

With a Dask cluster (:func:`training.cluster.session`) a snapshot's per-client features
are built over client partitions on the workers, and the few that compare a client
with all others (industry-field statistics, similarity to all recent buyers) here,
once (:mod:`recsvc.features.partition` says which and why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from recsvc.features import client_features
from recsvc.features.partition import assemble, frames_for_clients, shared_features
from recsvc.features.today import business_today
from recsvc.store.frames import Frames
from training.cluster import client_partitions, map_partitions

if TYPE_CHECKING:
    from training.cluster import Cluster

PURCHASED = ("paid", "delivered")


def labels(frames: Frames, cutoff: Any, settings: Any, index: pd.Index | None = None) -> pd.Series:
    """1 if the client is high-value at ``cutoff`` (see module docstring), else 0."""
    t0 = pd.Timestamp(cutoff)
    t1 = t0 + pd.DateOffset(months=settings.horizon_months)
    od = frames.orders
    window = od[(od["ordered_on"] >= t0) & (od["ordered_on"] < t1) & od["status"].isin(PURCHASED)]
    spend = (
        pd.to_numeric(window["amount"], errors="coerce")
        .fillna(0)
        .groupby(window["client_id"])
        .sum()
    )
    threshold = float(settings.high_value_spend_threshold)
    positive = spend[spend > threshold] if threshold > 0 else spend
    idx = index if index is not None else frames.clients["client_id"]
    return pd.Series(
        pd.Index(idx).isin(positive.index).astype(int),
        index=pd.Index(idx, name="client_id"),
        name="y",
    )


def backtest_cutoffs(frames: Frames, settings: Any) -> list[pd.Timestamp]:
    """``[C_0, C_1, …]`` newest first, on month starts (see module docstring)."""
    today = business_today(frames, settings)
    c0 = (today - pd.DateOffset(months=settings.horizon_months)).to_period("M").to_timestamp()
    return [c0 - pd.DateOffset(years=k) for k in range(settings.backtest_cutoffs + 1)]


@dataclass
class Snapshot:
    """Features and labels of every client known at one cutoff."""

    cutoff: pd.Timestamp
    X: pd.DataFrame
    y: pd.Series


def _partition_features(
    part: Frames, cutoffs: list[pd.Timestamp], dormant_months: int
) -> list[pd.DataFrame]:
    """``client_features`` of one partition's clients at each cutoff (runs on a worker)."""
    return [client_features(part, c, None, dormant_months=dormant_months) for c in cutoffs]


def features_at(
    frames: Frames,
    cutoffs: list[pd.Timestamp],
    settings: Any,
    semantic: Any = None,
    cluster: Cluster | None = None,
) -> list[pd.DataFrame]:
    """``client_features`` at each cutoff; over client partitions when there is a cluster.

    On a cluster each partition's rows travel to a worker once, for all cutoffs; the
    cross-client columns are computed here (:func:`recsvc.features.partition.assemble`).
    """
    if cluster is None:
        return [
            client_features(frames, c, semantic, dormant_months=settings.dormant_months)
            for c in cutoffs
        ]
    parts = [
        frames_for_clients(frames, ids)
        for ids in client_partitions(frames.clients["client_id"], cluster.n_workers)
    ]
    stamps = [pd.Timestamp(c) for c in cutoffs]
    done = map_partitions(
        cluster, _partition_features, parts, cutoffs=stamps, dormant_months=settings.dormant_months
    )
    return [
        assemble([d[i] for d in done], shared_features(frames, c, semantic))
        for i, c in enumerate(stamps)
    ]


def snapshots(
    frames: Frames,
    cutoffs: list[pd.Timestamp],
    settings: Any,
    semantic: Any = None,
    cluster: Cluster | None = None,
) -> list[Snapshot]:
    """:func:`snapshot` at each cutoff (one trip to the cluster for all of them)."""
    X = features_at(frames, cutoffs, settings, semantic, cluster)
    return [
        Snapshot(pd.Timestamp(c), x, labels(frames, c, settings, x.index))
        for c, x in zip(cutoffs, X, strict=True)
    ]


def snapshot(
    frames: Frames,
    cutoff: pd.Timestamp,
    settings: Any,
    semantic: Any = None,
    cluster: Cluster | None = None,
) -> Snapshot:
    """Features and labels of every client known at ``cutoff``."""
    return snapshots(frames, [cutoff], settings, semantic, cluster)[0]


def stack(snapshots: list[Snapshot]) -> tuple[pd.DataFrame, pd.Series]:
    """Concatenate snapshots into one training table (rows = client x cutoff)."""
    X = pd.concat(
        [s.X for s in snapshots], keys=[s.cutoff for s in snapshots], names=["cutoff", "client_id"]
    )
    y = pd.concat(
        [s.y for s in snapshots], keys=[s.cutoff for s in snapshots], names=["cutoff", "client_id"]
    )
    return X, y
