"""Value-model fit time in this process vs on a Dask LocalCluster (see benchmarks/README.md).

Two workloads, each fitted both ways with the same ValueTrainer parameters
(``training.value.DEFAULT_PARAMS``):

- ``synthetic``: a 200k-row training matrix (80 features), calibration and evaluation
  sets of 50k rows each;
- ``demo``: the demo store's backtest snapshots (generated and imported into a
  temporary SQLite file), features built both ways and ``train_value`` run both ways.

Usage:
    .venv/bin/python benchmarks/bench_dask.py                 # both, 2 workers
    .venv/bin/python benchmarks/bench_dask.py --only synthetic --rows 200000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recsvc.config import Settings
from training.cluster import Cluster, open_cluster
from training.dataset import backtest_cutoffs, snapshots
from training.metrics import roc_auc
from training.value import DEFAULT_PARAMS, train_value
from training.value_trainer import ValueTrainer


def _matrix(n: int, n_features: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, n_features)), columns=[f"f{i}" for i in range(n_features)])
    logit = -2.0 + X["f0"] - 0.7 * X["f1"] + 0.5 * X["f2"] * X["f3"] + 0.3 * np.sin(3 * X["f4"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _timed(fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def synthetic(cluster: Cluster, rows: int) -> None:
    X, y = _matrix(rows, 80, 0)
    Xc, yc = _matrix(rows // 4, 80, 1)
    Xe, ye = _matrix(rows // 4, 80, 2)
    for name, c in (("local", None), ("dask", cluster)):
        trainer, secs = _timed(
            lambda c=c: ValueTrainer(**DEFAULT_PARAMS).fit(X, y, Xc, yc, cluster=c)
        )
        auc = roc_auc(ye, trainer.predict_proba(Xe))
        rounds = trainer.model_.info["best_iteration"]
        print(
            f"synthetic {rows} rows  {name:5s}  fit {secs:6.1f} s  "
            f"kept rounds {rounds:4d}  AUC {auc:.4f}"
        )


def demo(cluster: Cluster, n_clients: int) -> None:
    from recsvc.demo import generate
    from recsvc.ingest import import_dir
    from recsvc.store import Database, load_frames

    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp) / "files", n_clients=n_clients, seed=7)
        db = Database.from_url(f"sqlite:///{tmp}/recsvc.db")
        db.upgrade()
        import_dir(db, Path(tmp) / "files")
        frames = load_frames(db)
        db.dispose()
    settings = Settings(environment="test")
    cutoffs = backtest_cutoffs(frames, settings)
    snaps = {}
    for name, c in (("local", None), ("dask", cluster)):
        snaps[name], secs = _timed(lambda c=c: snapshots(frames, cutoffs, settings, cluster=c))
        print(
            f"demo {n_clients} clients  {name:5s}  features of {len(cutoffs)} cutoffs {secs:6.1f} s"
        )
    rows = sum(len(s.X) for s in snaps["local"][1:])
    for name, c in (("local", None), ("dask", cluster)):
        result, secs = _timed(lambda c=c, n=name: train_value(snaps[n], cluster=c))
        m = result.metrics
        print(
            f"demo {n_clients} clients  {name:5s}  train_value (backtest + final, {rows} rows) "
            f"{secs:6.1f} s  AUC {m['value']['auc']:.4f}  kept rounds "
            f"{m['final_model']['best_iteration']}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["synthetic", "demo"])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    t = time.perf_counter()
    with open_cluster("local", args.workers, min_rows=0) as cluster:
        up = time.perf_counter() - t
        print(f"LocalCluster of {cluster.n_workers} workers up in {up:.1f} s")
        if args.only in (None, "synthetic"):
            synthetic(cluster, args.rows)
        if args.only in (None, "demo"):
            demo(cluster, args.clients)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
