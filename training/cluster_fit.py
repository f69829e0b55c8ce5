"""LightGBM fits that run on a Dask cluster, or in this process below the size threshold.

Both helpers take scikit-learn-style LightGBM parameters (what ``LGBMClassifier`` /
``LGBMRanker`` accept, ``n_estimators`` included) and return a plain
:class:`lightgbm.Booster`, whichever way they fitted: callers never see Dask.

On the cluster the table is cut into one partition per worker, placed on that worker
(``client.scatter``), wrapped as ``dask.array`` chunks and handed to
``lightgbm.DaskLGBMClassifier`` / ``DaskLGBMRanker``, which run LightGBM's own
data-parallel training across the workers (each builds histograms on its rows; the
trees are the same on every worker). Dask arrays rather than Dask DataFrames: the
latter need pyarrow, and LightGBM takes the feature names as ``feature_name``.

What the installed LightGBM (4.5-4.7) Dask estimators support, and how gaps are handled:

- ``categorical_feature``: passed through to every worker's ``fit``; used (by name).
  pandas ``category`` columns are refused: give integer codes, which is what the
  local path sees too.
- ``init_score``: supported as a Dask collection; not used here.
- ``eval_set``: supported, but each worker evaluates only the evaluation rows that
  landed on it, and the returned model carries the first worker's numbers only.
- early stopping: not supported (LightGBM documents it as untested; workers that
  stop at different rounds would wait on each other). :func:`replay_early_stopping`
  replaces it: fit all ``n_estimators`` rounds, then replay LightGBM's own
  ``early_stopping`` rule on the calibration set's log loss after each round, in
  this process, and cut the model at the round it would have kept.
- ``num_threads`` is set by LightGBM to each worker's thread count (one on a
  LocalCluster from :func:`training.cluster.open_cluster`).

The result is close to, not identical with, a local fit: with several workers the
feature bins are found on each worker's rows, and bagging samples per worker.
"""

from __future__ import annotations

import itertools
import logging
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from training.cluster import Cluster

__all__ = ["fit_classifier", "fit_ranker", "group_partitions", "replay_early_stopping"]

log = logging.getLogger(__name__)

#: Parameters the Dask estimators set themselves (LightGBM warns and drops them).
_DASK_OWNED = ("n_jobs", "num_threads", "nthread", "num_machines")


def _features(X: pd.DataFrame, categorical: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    cats = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    if cats:
        raise ValueError(
            f"columns {cats} are pandas categoricals; pass integer codes and name them "
            "in `categorical` (the Dask path ships plain arrays)"
        )
    missing = [c for c in categorical if c not in X.columns]
    if missing:
        raise ValueError(f"categorical columns {missing} are not in X")
    return X.to_numpy(dtype=np.float64), [str(c) for c in X.columns]


def _dask_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k not in _DASK_OWNED}


@contextmanager
def _quiet_thread_warning() -> Iterator[None]:
    """The Dask estimators always carry ``n_jobs`` (None by default) and warn that they
    ignore it: they give each worker its own thread count, which is what we want."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
        yield


def _on_workers(cluster: Cluster, pieces: list[list[np.ndarray]]) -> list[Any]:
    """Dask arrays, one chunk per piece; piece ``i`` lives on worker ``i % n``.

    ``pieces[i]`` holds the i-th partition of every array (X, y, …); the result holds
    one dask array per array, chunked by partition.
    """
    import dask.array as da

    workers = cluster.workers
    per_array: list[list[Any]] = [[] for _ in pieces[0]]
    for i, piece in enumerate(pieces):
        futures = cluster.client.scatter(piece, workers=[workers[i % len(workers)]])
        for j, (arr, fut) in enumerate(zip(piece, futures, strict=True)):
            per_array[j].append(da.from_delayed(fut, shape=arr.shape, dtype=arr.dtype))
    return [da.concatenate(chunks, axis=0) for chunks in per_array]


#: Lines of a model file's parameter section that describe the cluster it was fitted on.
_NETWORK_LINE = re.compile(
    r"^\[(num_machines|local_listen_port|time_out|machines|tree_learner): .*\]$"
)


def _without_network(booster: lgb.Booster) -> lgb.Booster:
    """The booster re-read without the cluster's addresses and ports in its parameters,
    so a saved model says nothing about the machines it was fitted on."""
    text = "\n".join(
        line for line in booster.model_to_string().splitlines() if not _NETWORK_LINE.match(line)
    )
    return lgb.Booster(model_str=text)


def _row_partitions(n_rows: int, n_parts: int) -> list[np.ndarray]:
    return [p for p in np.array_split(np.arange(n_rows), max(1, n_parts)) if len(p)]


def fit_classifier(
    cluster: Cluster | None,
    X: pd.DataFrame,
    y: Any,
    params: dict[str, Any],
    categorical: Sequence[str] = (),
    *,
    partition_keys: Any = None,
) -> lgb.Booster:
    """A binary LightGBM classifier, on the cluster when it wants ``len(X)`` rows.

    Args:
        cluster: from :func:`training.cluster.session`; ``None`` fits here.
        X: numeric features (column names become the model's feature names).
        y: 0/1 labels.
        params: ``LGBMClassifier`` parameters (``n_estimators`` = rounds, all trained).
        categorical: names of integer-coded categorical columns.
        partition_keys: one key per row (e.g. the client id); rows with the same key
            go to the same worker. Default: contiguous row ranges.

    Returns:
        The fitted booster.
    """
    y = np.asarray(y, dtype=np.int32)
    if cluster is None or not cluster.wants(len(X)):
        est = lgb.LGBMClassifier(**params)
        est.fit(X, y, categorical_feature=list(categorical) or "auto")
        return est.booster_
    from lightgbm import DaskLGBMClassifier

    data, names = _features(X, categorical)
    n = cluster.n_workers
    if partition_keys is None:
        rows = _row_partitions(len(X), n)
    else:
        keys = pd.Index(np.asarray(partition_keys))
        bucket = pd.util.hash_array(keys.to_numpy()) % n
        rows = [np.flatnonzero(bucket == b) for b in range(n)]
        rows = [r for r in rows if len(r)]
    dX, dy = _on_workers(cluster, [[data[r], y[r]] for r in rows])
    est = DaskLGBMClassifier(client=cluster.client, **_dask_params(params))
    with _quiet_thread_warning():
        est.fit(dX, dy, feature_name=names, categorical_feature=list(categorical) or "auto")
    log.info("dask: classifier on %d rows in %d partitions", len(X), len(rows))
    return _without_network(est.booster_)


def group_partitions(group: Sequence[int] | np.ndarray, n_parts: int) -> list[tuple[int, int]]:
    """Cut consecutive query groups into ``n_parts`` ranges of about equal rows.

    Returns ``(first_group, end_group)`` index pairs; a group never straddles two.
    """
    sizes = np.asarray(group, dtype=np.int64)
    if len(sizes) == 0:
        return []
    ends = np.cumsum(sizes)
    targets = ends[-1] * np.arange(1, n_parts) / n_parts
    cuts = np.unique(np.searchsorted(ends, targets, side="left") + 1)
    bounds = [0, *[int(c) for c in cuts if 0 < c < len(sizes)], len(sizes)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def fit_ranker(
    cluster: Cluster | None,
    X: pd.DataFrame,
    y: Any,
    group: Sequence[int],
    params: dict[str, Any],
    categorical: Sequence[str] = (),
) -> lgb.Booster:
    """A LightGBM lambdarank model, on the cluster when it wants ``len(X)`` rows.

    Args:
        cluster: from :func:`training.cluster.session`; ``None`` fits here.
        X: pair features, rows grouped by query (``group`` sizes, in order).
        y: relevance labels.
        group: query sizes; they must add up to ``len(X)``.
        params: ``LGBMRanker`` parameters (``objective`` defaults to lambdarank).
        categorical: names of integer-coded categorical columns.

    Returns:
        The fitted booster. On the cluster, every query group lies inside one
        partition (cut at group boundaries, about equal rows per worker).
    """
    sizes = np.asarray(group, dtype=np.int64)
    if int(sizes.sum()) != len(X):
        raise ValueError(f"group sizes add up to {int(sizes.sum())}, but X has {len(X)} rows")
    params = {"objective": "lambdarank", **params}
    y = np.asarray(y)
    if cluster is None or not cluster.wants(len(X)):
        est = lgb.LGBMRanker(**params)
        est.fit(X, y, group=sizes, categorical_feature=list(categorical) or "auto")
        return est.booster_
    from lightgbm import DaskLGBMRanker

    data, names = _features(X, categorical)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    pieces = []
    for a, b in group_partitions(sizes, cluster.n_workers):
        r0, r1 = int(starts[a]), int(starts[b])
        pieces.append([data[r0:r1], y[r0:r1], sizes[a:b]])
    dX, dy, dg = _on_workers(cluster, pieces)
    est = DaskLGBMRanker(client=cluster.client, **_dask_params(params))
    with _quiet_thread_warning():
        est.fit(
            dX, dy, group=dg, feature_name=names, categorical_feature=list(categorical) or "auto"
        )
    log.info("dask: ranker on %d rows, %d groups, %d partitions", len(X), len(sizes), len(pieces))
    return _without_network(est.booster_)


def replay_early_stopping(
    booster: lgb.Booster, X_cal: pd.DataFrame, y_cal: Any, patience: int, block: int = 50
) -> int:
    """The round ``lgb.early_stopping(patience)`` would keep, replayed after the fact.

    Walks the rounds of a fully trained binary booster, computing the log loss of
    ``(X_cal, y_cal)`` after each, and applies LightGBM's rule: remember the best
    round; stop once ``patience`` rounds pass without a strictly lower loss. The
    margins are built from leaf indices, ``block`` trees per ``predict`` call (one
    call per tree costs a conversion of ``X_cal`` each: 20x slower at 50k rows).

    Returns:
        The number of rounds to keep (``best_iteration``, 1-based).
    """
    data = np.asarray(X_cal, dtype=np.float64)
    y = np.asarray(y_cal, dtype=np.float64)
    raw = np.zeros(len(y))
    best, best_round = np.inf, 0
    n_trees = booster.num_trees()
    for first in range(0, n_trees, block):
        k = min(block, n_trees - first)
        leaves = booster.predict(data, start_iteration=first, num_iteration=k, pred_leaf=True)
        leaves = np.asarray(leaves, dtype=np.int64).reshape(len(data), k)
        for j in range(k):
            i = first + j
            hit = leaves[:, j]
            values = np.array([booster.get_leaf_output(i, leaf) for leaf in range(hit.max() + 1)])
            raw += values[hit]
            # binary log loss from the margin, stable for large |raw|
            loss = float(np.mean(np.logaddexp(0.0, raw) - y * raw))
            if loss < best:
                best, best_round = loss, i
            elif i - best_round >= patience:
                return best_round + 1
    return best_round + 1
