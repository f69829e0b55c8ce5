"""The Dask path of training on a LocalCluster of two worker processes.

Tolerances (the Dask fits are data-parallel LightGBM: feature bins are found on each
worker's rows, so trees differ slightly from a single-process fit):

- value model: backtest AUC within 0.02 of the local fit on the same snapshots;
- ranker: NDCG@5 on held-out queries within 0.02 of the local fit.

Features built over client partitions must equal the single-process ones exactly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import psutil
import pytest
from sklearn.metrics import ndcg_score

from recsvc.cli.models import with_dask
from recsvc.config import Settings
from recsvc.features import client_features
from recsvc.features.partition import CROSS_CLIENT, assemble, frames_for_clients, shared_features
from recsvc.store.frames import Frames
from tests.test_features import FakeSemantic
from tests.test_layering import _hits, _py
from training.cluster import (
    Cluster,
    client_partitions,
    fit_ranker,
    map_partitions,
    open_cluster,
    package_versions,
    replay_early_stopping,
    session,
    version_mismatches,
)
from training.cluster_fit import group_partitions
from training.dataset import backtest_cutoffs, features_at, snapshot, snapshots, stack
from training.metrics import roc_auc
from training.synthetic import synthetic_frames
from training.value import train_value
from training.value_trainer import ValueTrainer

FAST = {"n_estimators": 150, "learning_rate": 0.08, "num_leaves": 7, "min_child_samples": 20}
AUC_TOLERANCE = 0.02
NDCG_TOLERANCE = 0.02


def _children() -> set[int]:
    """Child processes, less multiprocessing's resource tracker (it lives as long as we do)."""
    return {
        p.pid
        for p in psutil.Process().children(recursive=True)
        if p.is_running() and "resource_tracker" not in " ".join(p.cmdline())
    }


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """One LocalCluster of two single-thread worker processes; every fit goes through it."""
    before = _children()
    with open_cluster("local", n_workers=2, min_rows=0) as c:
        yield c
    psutil.wait_procs([psutil.Process(p) for p in _children() - before], timeout=10)
    assert _children() - before == set(), "a worker process outlived the cluster"


@pytest.fixture(scope="module")
def world() -> dict:
    frames = synthetic_frames(900, seed=4)
    settings = Settings(environment="test", backtest_cutoffs=3)
    return {"frames": frames, "settings": settings, "cutoffs": backtest_cutoffs(frames, settings)}


# -- pieces that need no cluster -------------------------------------------------------


def test_no_scheduler_means_no_cluster() -> None:
    with session(Settings(environment="test")) as c:
        assert c is None
    assert map_partitions(None, _square_sum, [np.arange(3), np.arange(4)]) == [5, 14]


def test_train_has_the_dask_flag() -> None:
    from typer.testing import CliRunner

    from recsvc.cli import app

    out = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert out.exit_code == 0 and "--dask" in out.output


def test_the_cli_flag_only_sets_the_setting() -> None:
    assert with_dask(Settings(environment="test")).dask_scheduler == "local"
    remote = Settings(environment="test", dask_scheduler="tcp://sched:8786")
    assert with_dask(remote).dask_scheduler == "tcp://sched:8786"


def test_serving_and_the_cli_never_import_dask() -> None:
    assert _hits(_py("recsvc", "api"), ("dask", "distributed", "training.cluster")) == {}


def test_workers_with_other_package_versions_are_named() -> None:
    here = package_versions()
    assert set(here) >= {"recsvc", "lightgbm", "dask"} and "missing" not in here.values()
    workers = {"tcp://b:1": dict(here), "tcp://a:1": {**here, "lightgbm": "3.0.0"}}
    workers["tcp://b:1"].pop("pandas")
    assert version_mismatches(here, workers) == [
        f"tcp://a:1: lightgbm 3.0.0 != {here['lightgbm']} here",
        f"tcp://b:1: pandas missing != {here['pandas']} here",
    ]


def test_client_partitions_cover_every_client_once() -> None:
    parts = client_partitions(np.array([5, 3, 3, 9, 1, 7, 2]), 3)
    assert [p.tolist() for p in parts] == [[1, 2], [3, 5], [7, 9]]
    assert len(client_partitions([4, 4], 5)) == 1


def test_group_partitions_keep_groups_whole_and_balance_rows() -> None:
    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 30, size=500)
    ranges = group_partitions(sizes, 4)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(sizes)
    assert all(a == prev_b for (a, _), (_, prev_b) in zip(ranges[1:], ranges[:-1], strict=True))
    rows = [int(sizes[a:b].sum()) for a, b in ranges]
    assert len(ranges) == 4 and max(rows) - min(rows) <= 2 * sizes.max()


def test_replayed_early_stopping_keeps_the_round_lightgbm_keeps() -> None:
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(4000, 5)), columns=list("abcde"))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(X["a"] - X["b"])))).astype(int)
    tr, cal = slice(0, 3000), slice(3000, None)
    params = {"objective": "binary", "learning_rate": 0.3, "num_leaves": 31, "verbosity": -1}
    train_set = lgb.Dataset(X[tr], y[tr], free_raw_data=False)
    stopped = lgb.train(
        params,
        train_set,
        300,
        valid_sets=[lgb.Dataset(X[cal], y[cal], reference=train_set)],
        callbacks=[lgb.early_stopping(20, verbose=False)],
    )
    full = lgb.train(params, lgb.Dataset(X[tr], y[tr]), 300)
    assert 1 < stopped.best_iteration < 280  # it did stop early
    assert replay_early_stopping(full, X[cal], y[cal], 20) == stopped.best_iteration


def test_partitioned_features_equal_the_whole_snapshot(world: dict) -> None:
    frames, cutoff = world["frames"], world["cutoffs"][1]
    semantic = FakeSemantic()
    parts = [
        client_features(frames_for_clients(frames, ids), cutoff)
        for ids in client_partitions(frames.clients["client_id"], 3)
    ]
    got = assemble(parts, shared_features(frames, cutoff, semantic))
    want = client_features(frames, cutoff, semantic)
    assert "semantic_sim_buyers" in want and set(CROSS_CLIENT) <= set(want.columns)
    pd.testing.assert_frame_equal(got, want)
    # the cross-client columns do differ when computed on a partition alone
    alone = parts[0].reindex(columns=["field_buyer_rate"])
    assert not np.allclose(
        alone["field_buyer_rate"].fillna(-1), want.loc[alone.index, "field_buyer_rate"].fillna(-1)
    )


# -- on the cluster ------------------------------------------------------------------------


def _square_sum(part: np.ndarray, offset: int = 0) -> int:
    return int(((part + offset) ** 2).sum())


def _pid(_part: object) -> int:
    return os.getpid()


def test_map_partitions_gives_the_local_result_from_worker_processes(cluster: Cluster) -> None:
    parts = client_partitions(np.arange(1, 101), 4)
    assert map_partitions(cluster, _square_sum, parts, offset=1) == map_partitions(
        None, _square_sum, parts, offset=1
    )
    pids = set(map_partitions(cluster, _pid, list(range(8))))
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_map_partitions_raises_a_task_error_here(cluster: Cluster) -> None:
    with pytest.raises(TypeError):
        map_partitions(cluster, _square_sum, [np.arange(3)], offset="x")


def test_snapshot_features_over_the_cluster_equal_local(world: dict, cluster: Cluster) -> None:
    frames, settings, cutoffs = world["frames"], world["settings"], world["cutoffs"][:2]
    got = features_at(frames, cutoffs, settings, FakeSemantic(), cluster)
    for x, cutoff in zip(got, cutoffs, strict=True):
        pd.testing.assert_frame_equal(x, client_features(frames, cutoff, FakeSemantic()))


def test_value_model_through_dask_matches_local(world: dict, cluster: Cluster) -> None:
    frames, settings = world["frames"], world["settings"]
    snaps = snapshots(frames, world["cutoffs"], settings, cluster=cluster)
    X, y = stack(snaps[2:])
    local = ValueTrainer(**FAST).fit(X, y, snaps[1].X, snaps[1].y)
    dask = ValueTrainer(**FAST).fit(X, y, snaps[1].X, snaps[1].y, cluster=cluster)
    ev = snaps[0]
    auc_local = roc_auc(ev.y, local.predict_proba(ev.X))
    auc_dask = roc_auc(ev.y, dask.predict_proba(ev.X))
    assert auc_local > 0.8
    assert auc_dask == pytest.approx(auc_local, abs=AUC_TOLERANCE)
    p = dask.predict_proba(ev.X)
    assert p.mean() == pytest.approx(ev.y.mean(), abs=0.05)  # still calibrated
    assert dask.model_.info["best_iteration"] < FAST["n_estimators"]  # the replay cut it


def test_train_value_on_the_demo_store_through_dask(
    demo_frames: Frames, cluster: Cluster, tmp_path: Path
) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, backtest_cutoffs=3)
    cutoffs = backtest_cutoffs(demo_frames, settings)
    local_snaps = [snapshot(demo_frames, c, settings) for c in cutoffs]
    dask_snaps = snapshots(demo_frames, cutoffs, settings, cluster=cluster)
    for a, b in zip(local_snaps, dask_snaps, strict=True):
        pd.testing.assert_frame_equal(a.X, b.X)
        pd.testing.assert_series_equal(a.y, b.y)
    local = train_value(local_snaps, FAST)
    dask = train_value(dask_snaps, FAST, cluster=cluster)
    assert dask.metrics["value"]["auc"] == pytest.approx(
        local.metrics["value"]["auc"], abs=AUC_TOLERANCE
    )
    assert dask.model.feature_names == local.model.feature_names


def _lambdarank_data(n_queries: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Queries of 12 items; relevance 0-3 from two features and the item's category."""
    rng = np.random.default_rng(seed)
    m = 12
    n = n_queries * m
    X = pd.DataFrame(rng.normal(size=(n, 4)), columns=["f0", "f1", "f2", "f3"])
    X["product_idx"] = np.tile(np.arange(m), n_queries)
    bonus = np.where(X["product_idx"] % 4 == 0, 1.0, 0.0)
    signal = X["f0"] + 0.5 * X["f1"] + bonus + rng.normal(scale=0.7, size=n)
    y = np.digitize(signal, [0.8, 1.6, 2.4])
    return X, y, np.full(n_queries, m)


def _ndcg5(booster: lgb.Booster, X: pd.DataFrame, y: np.ndarray, m: int) -> float:
    scores = booster.predict(X).reshape(-1, m)
    return float(ndcg_score(y.reshape(-1, m), scores, k=5))


def test_ranker_through_dask_matches_local(cluster: Cluster) -> None:
    X, y, group = _lambdarank_data(1500, seed=0)
    X_test, y_test, _ = _lambdarank_data(500, seed=1)
    params = {"n_estimators": 80, "learning_rate": 0.1, "num_leaves": 15, "verbose": -1}
    local = fit_ranker(None, X, y, group, params, ["product_idx"])
    dask = fit_ranker(cluster, X, y, group, params, ["product_idx"])
    assert dask.feature_name() == list(X.columns)
    assert "machines" not in dask.model_to_string()  # no worker addresses in the artifact
    np.testing.assert_allclose(dask.predict(X_test), dask.predict(X_test.to_numpy()))
    assert _ndcg5(local, X_test, y_test, 12) > 0.7
    assert _ndcg5(dask, X_test, y_test, 12) == pytest.approx(
        _ndcg5(local, X_test, y_test, 12), abs=NDCG_TOLERANCE
    )


def test_the_ranker_refuses_groups_that_do_not_add_up(cluster: Cluster) -> None:
    X, y, group = _lambdarank_data(10, seed=0)
    with pytest.raises(ValueError, match="group sizes"):
        fit_ranker(cluster, X, y, group[:-1], {"n_estimators": 5})


def test_a_settings_session_starts_and_stops_its_own_cluster() -> None:
    before = _children()
    s = Settings(environment="test", dask_scheduler="local", dask_workers=1)
    with session(s) as c:
        assert c is not None and c.n_workers == 1
        assert map_partitions(c, _square_sum, [np.arange(4)]) == [14]
    psutil.wait_procs([psutil.Process(p) for p in _children() - before], timeout=10)
    assert _children() - before == set()
