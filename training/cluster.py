"""Training's distributed path: a Dask cluster opened from settings, and work spread over it.

``settings.dask_scheduler`` decides where training's heavy steps run:

- ``""`` (the default): nowhere else. :func:`session` yields ``None`` and every helper
  here runs its work in the calling process, exactly as before Dask existed.
- ``"local"``: a :class:`distributed.LocalCluster` of ``settings.dask_workers`` worker
  processes on this machine (one thread each, no dashboard, quiet logs).
- ``"tcp://host:8786"``: an existing ``dask scheduler`` with its workers (docs/scale.md).

What runs on the cluster:

- :func:`map_partitions`: a picklable function over partitions (client-id ranges and the
  rows that belong to them), results gathered back in partition order.
- :func:`fit_classifier` / :func:`fit_ranker` (:mod:`training.cluster_fit`): LightGBM's
  own Dask estimators, one data partition per worker, when the table has at least
  ``settings.dask_lgbm_min_rows`` rows; the plain estimators in this process otherwise.

Only ``training`` imports this module; ``recsvc`` (serving, the CLI) never imports Dask.

Example:
    >>> with session(settings) as cluster:                              # doctest: +SKIP
    ...     parts = map_partitions(cluster, features_of, client_partitions(ids, 4))
    ...     booster = fit_ranker(cluster, X, y, group, params, ["product_idx"])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np

from training.cluster_fit import fit_classifier, fit_ranker, replay_early_stopping

__all__ = [
    "Cluster",
    "ClusterFitter",
    "client_partitions",
    "fit_classifier",
    "fit_ranker",
    "map_partitions",
    "open_cluster",
    "replay_early_stopping",
    "session",
    "worker_peaks",
]

log = logging.getLogger(__name__)

P = TypeVar("P")
R = TypeVar("R")

#: How long to wait for a remote scheduler (and for a LocalCluster to come up).
CONNECT_TIMEOUT_S = 60


@dataclass
class Cluster:
    """An open Dask client plus the rule for which LightGBM fits go through it.

    Attributes:
        client: the :class:`distributed.Client`.
        min_rows: LightGBM fits on at least this many rows use the Dask estimators.
    """

    client: Any
    min_rows: int = 0

    @property
    def workers(self) -> list[str]:
        """Worker addresses, sorted (stable partition placement)."""
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    def wants(self, n_rows: int) -> bool:
        """Whether a LightGBM fit on ``n_rows`` rows should run on the cluster."""
        return n_rows >= self.min_rows


#: Packages whose versions must match between this process and every worker: pickled
#: frames, LightGBM's network protocol and the feature code all assume one version.
CHECKED_PACKAGES = ("recsvc", "lightgbm", "pandas", "numpy", "dask", "distributed")


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`CHECKED_PACKAGES` (runs here and on each worker)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in CHECKED_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "missing"
    return out


def version_mismatches(here: dict[str, str], workers: dict[str, dict[str, str]]) -> list[str]:
    """``"worker: package a != b"`` for every package a worker has in another version."""
    return [
        f"{addr}: {name} {theirs.get(name, 'missing')} != {mine} here"
        for addr, theirs in sorted(workers.items())
        for name, mine in here.items()
        if theirs.get(name, "missing") != mine
    ]


@contextmanager
def open_cluster(scheduler: str, n_workers: int = 2, min_rows: int = 0) -> Iterator[Cluster]:
    """Connect to ``scheduler`` (``"local"``: start a LocalCluster here); close on exit.

    Args:
        scheduler: ``"local"`` or a scheduler address such as ``tcp://host:8786``.
        n_workers: worker processes of a LocalCluster (ignored for an address).
        min_rows: see :attr:`Cluster.min_rows`.

    Raises:
        ValueError: for an empty ``scheduler`` (there is nothing to connect to).
        RuntimeError: when a worker runs other versions of :data:`CHECKED_PACKAGES`.
    """
    from distributed import Client, LocalCluster

    if not scheduler:
        raise ValueError("no Dask scheduler given: use session(settings), which runs locally")
    local = None
    if scheduler == "local":
        local = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # no dashboard; its health/metrics HTTP server on any free port, not 8787
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        client = Client(local, timeout=CONNECT_TIMEOUT_S)
    else:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    cluster = Cluster(client=client, min_rows=min_rows)
    try:
        bad = version_mismatches(package_versions(), client.run(package_versions))
        if bad:
            raise RuntimeError("Dask workers run other package versions: " + "; ".join(bad))
        log.info("dask: %s with %d workers", scheduler, cluster.n_workers)
        yield cluster
    finally:
        client.close()
        if local is not None:
            local.close()


@dataclass(frozen=True)
class ClusterFitter:
    """The ranker's LightGBM fits (:class:`recsvc.recommend.fitting.BoosterFitter`) through
    :func:`fit_ranker` and :func:`fit_classifier`: on the cluster's Dask estimators when
    the table is large enough, in this process otherwise."""

    cluster: Cluster | None

    def ranker(
        self,
        X: Any,
        y: np.ndarray,
        groups: np.ndarray,
        params: dict[str, Any],
        categorical: list[str],
    ) -> Any:
        return fit_ranker(self.cluster, X, y, groups.tolist(), params, categorical)

    def classifier(
        self, X: Any, y: np.ndarray, params: dict[str, Any], categorical: list[str]
    ) -> Any:
        return fit_classifier(self.cluster, X, y, {"objective": "binary", **params}, categorical)


@contextmanager
def session(settings: Any) -> Iterator[Cluster | None]:
    """The cluster ``settings.dask_scheduler`` names, or ``None`` (run locally).

    Call it once at the top of training and pass what it yields to the steps::

        with session(settings) as cluster:   # None unless RECSVC_DASK_SCHEDULER is set
            snaps = [snapshot(frames, c, settings, semantic, cluster=cluster) for c in cutoffs]
            result = train_value(snaps, params, step, cluster=cluster)
    """
    if not settings.dask_scheduler:
        yield None
        return
    with open_cluster(
        settings.dask_scheduler, settings.dask_workers, settings.dask_lgbm_min_rows
    ) as cluster:
        yield cluster


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (runs on each worker)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_peaks(cluster: Cluster) -> dict[str, float]:
    """Each worker's peak resident memory so far, in MiB, by address."""
    peaks = cluster.client.run(_peak_rss_mb)
    return {str(addr): round(float(mb), 1) for addr, mb in sorted(peaks.items())}


def client_partitions(client_ids: Any, n_parts: int) -> list[np.ndarray]:
    """Sorted, distinct client ids cut into ``n_parts`` contiguous ranges (none empty)."""
    ids = np.unique(np.asarray(client_ids))
    n = max(1, min(int(n_parts), len(ids)))
    return [p for p in np.array_split(ids, n) if len(p)]


def map_partitions(
    cluster: Cluster | None, fn: Callable[..., R], parts: Sequence[P], **shared: Any
) -> list[R]:
    """``[fn(part, **shared) for part in parts]``, on the cluster's workers when there is one.

    ``fn`` must be a module-level function (workers import it by name) and ``parts``
    and ``shared`` picklable. Part ``i`` is sent to worker ``i % n_workers`` and runs
    there; ``shared`` values go with every task, so keep them small (a date, a
    setting), and put the data a task needs into its part. An exception in a task is
    raised here.
    """
    if cluster is None:
        return [fn(p, **shared) for p in parts]
    client, workers = cluster.client, cluster.workers
    task = partial(fn, **shared)
    # parts go to the workers as data (scatter), not inside the task graph
    futures = []
    for i, part in enumerate(parts):
        [data] = client.scatter([part], workers=[workers[i % len(workers)]])
        futures.append(data)
    results = [client.submit(task, data, pure=False) for data in futures]
    try:
        return list(client.gather(results))
    finally:
        for f in futures + results:
            f.release()
