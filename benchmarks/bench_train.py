"""Training at scale: one full ``recsvc train`` per store size, step by step.

For each ``--clients N`` the benchmark prepares a store once (the demo generator's files
imported into SQLite, the semantic index built with the deterministic fake embedder:
this measures training, not the embedding model) and then runs the full training
pipeline in a fresh process. It prints, per size, each step's wall time and the peak
resident memory so far, then the value step's fit next to a raw
``lightgbm.LGBMClassifier.fit`` on the same matrix with the same parameters and the
ranker's fit next to a raw ``lightgbm.LGBMRanker.fit`` on its matrix (ratios; same
process, same run), the time to open the trained version as a server starts (the
serving code imported first and timed apart: a process imports it once) and again over
the held snapshot (a promote), and the growth exponent of the total between the sizes
it ran.
The last line reads ``total train: <seconds> s`` for the largest size.

Usage:
    .venv/bin/python benchmarks/bench_train.py --clients 2000 10000 100000
    .venv/bin/python benchmarks/bench_train.py --clients 2000 --workdir /tmp/bt  # keep stores
    .venv/bin/python benchmarks/bench_train.py --clients 20000 --dask           # LocalCluster

Take numbers on a quiet machine and say the load average with them (it is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def bench_settings(folder: Path, **overrides: Any) -> Any:
    """Settings whose every folder lives under ``folder`` (a production-like run)."""
    from recsvc.config import Settings

    values: dict[str, Any] = {
        "environment": "development",
        "data_dir": folder / "data",
        "models_dir": folder / "models",
        "database_url": f"sqlite:///{folder / 'data' / 'recsvc.db'}",
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


def fake_embedder() -> Any:
    """The deterministic embedder every process of a benchmark run uses."""
    import recsvc.semantic.layer as layer
    from recsvc.semantic import FakeEmbedder

    layer.load_embedder = lambda *a, **k: FakeEmbedder()  # type: ignore[assignment]
    return FakeEmbedder()


def in_child(function: str, *args: Any) -> None:
    """``benchmarks.bench_train.<function>(*args)`` in a fresh interpreter (its own peak
    memory, nothing warm from an earlier size)."""
    call = f"{function}({', '.join(map(repr, args))})"
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
        f"from benchmarks.bench_train import {function}; {call}"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def prepare(folder: Path, clients: int) -> float:
    """Generate, import and index a store of ``clients`` clients (once per folder)."""
    done = folder / "prepared.json"
    if done.exists():
        return float(json.loads(done.read_text())["seconds"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    in_child("_prepare_child", str(folder), clients)
    seconds = time.perf_counter() - t0
    done.write_text(json.dumps({"clients": clients, "seconds": seconds}))
    return seconds


def _prepare_child(folder: str, clients: int) -> None:
    from recsvc.demo import generate
    from recsvc.semantic import build_semantic
    from recsvc.store import Database
    from recsvc.usecases import imports, open_runtime

    base = Path(folder)
    settings = bench_settings(base)
    emb = fake_embedder()
    t0 = time.perf_counter()
    generate(base / "demo", n_clients=clients)
    print(f"  generated {clients:,} clients in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    rt = open_runtime(settings, embedder=emb, load_model=False)
    imports.import_path(rt, path=base / "demo")
    rt.close()
    print(f"  imported in {time.perf_counter() - t0:.0f} s", flush=True)
    t0 = time.perf_counter()
    db = Database.from_settings(settings)
    build_semantic(db, settings, emb, cache=False).save(settings.index_dir)
    db.dispose()
    print(f"  indexed in {time.perf_counter() - t0:.0f} s", flush=True)


def run_train(folder: Path, dask: bool) -> dict[str, Any]:
    """One full training run in a fresh process; its steps, memory and fit ratios."""
    out = folder / "result.json"
    out.unlink(missing_ok=True)
    shutil.rmtree(folder / "models", ignore_errors=True)
    t0 = time.perf_counter()
    in_child("_train_child", str(folder), dask)
    result = json.loads(out.read_text())
    result["wall"] = time.perf_counter() - t0
    return result


def _train_child(folder: str, dask: bool) -> None:
    from recsvc.registry import Registry
    from training.pipeline import train

    base = Path(folder)
    settings = bench_settings(base, **({"dask_scheduler": "local"} if dask else {}))
    fake_embedder()
    t0 = time.perf_counter()
    version = train(settings, track=False, force=True)
    seconds = time.perf_counter() - t0
    registry = Registry(settings.models_dir)
    meta, metrics = registry.meta(version), registry.metrics(version)
    result = {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "steps": meta.get("timings", []),
        "value_auc": metrics["value"].get("auc"),
        "ndcg5": metrics.get("ranker", {}).get("eval_full_ndcg5"),
        "popularity_ndcg5": metrics.get("ranker", {}).get("eval_popularity_ndcg5"),
    }
    result["fits"] = fit_ratios(settings, version)
    (base / "result.json").write_text(json.dumps(result, indent=2))


class TimedFitter:
    """The ranker's local fits, timed, keeping the last matrices they were given."""

    def __init__(self) -> None:
        from recsvc.recommend.fitting import LocalFitter

        self.inner = LocalFitter()
        self.seconds = 0.0
        self.last: tuple[Any, ...] = ()

    def ranker(self, X: Any, y: Any, groups: Any, params: Any, categorical: Any) -> Any:
        self.last = (X, y, groups, params, categorical)
        t0 = time.perf_counter()
        try:
            return self.inner.ranker(X, y, groups, params, categorical)
        finally:
            self.seconds = time.perf_counter() - t0

    def classifier(self, X: Any, y: Any, params: Any, categorical: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self.inner.classifier(X, y, params, categorical)
        finally:
            self.seconds += time.perf_counter() - t0


def fit_ratios(settings: Any, version: str) -> dict[str, dict[str, float]]:
    """Our value and ranker fits next to raw LightGBM on the very same matrices.

    Value: :class:`ValueTrainer` (LightGBM, early stopping on the calibration cutoff, then
    Platt scaling) against ``LGBMClassifier.fit`` with the same parameters, data and
    early stopping. Ranker: the ranker's final fit (stacking its blocks into query groups,
    the lambdarank model and the client model) against ``LGBMRanker.fit`` on the stacked
    lambdarank matrix.
    """
    import lightgbm as lgb

    from recsvc.features.today import business_today
    from recsvc.recommend.context import build_context
    from recsvc.registry import Registry
    from recsvc.semantic import SemanticLayer
    from recsvc.store import Database, load_frames
    from recsvc.value import ValueService
    from training.dataset import backtest_cutoffs, snapshots, stack
    from training.ranker import make_ranker
    from training.value import DEFAULT_PARAMS
    from training.value_trainer import ValueTrainer

    db = Database.from_settings(settings)
    frames = load_frames(db)
    db.dispose()
    semantic = SemanticLayer.load(settings, fake_embedder())
    snaps = snapshots(frames, backtest_cutoffs(frames, settings), settings, semantic)
    X, y = stack(snaps[1:])
    Xc, yc = snaps[0].X.reindex(columns=X.columns), snaps[0].y
    t0 = time.perf_counter()
    trainer = ValueTrainer(**DEFAULT_PARAMS).fit(X, y, Xc, yc)
    ours_value = time.perf_counter() - t0
    raw = lgb.LGBMClassifier(n_estimators=trainer.n_estimators, **trainer._lgb_params())
    t0 = time.perf_counter()
    raw.fit(
        X,
        y,
        eval_X=(Xc,),
        eval_y=(yc,),
        callbacks=[lgb.early_stopping(trainer.early_stopping_rounds, verbose=False)],
    )
    raw_value = time.perf_counter() - t0

    folder = Registry(settings.models_dir).path(version)
    value = ValueService.load(folder, settings)
    ctx = build_context(
        frames, business_today(frames, settings), semantic=semantic, settings=settings, value=value
    )
    ctx.extras["value"] = value
    timed = TimedFitter()
    ranker = make_ranker(settings, timed).fit(ctx)
    ours_ranker = ranker.train_seconds_
    Xr, yr, groups, params, cats = timed.last
    t0 = time.perf_counter()
    lgb.LGBMRanker(objective="lambdarank", **params).fit(
        Xr, yr, group=groups, categorical_feature=cats
    )
    raw_ranker = time.perf_counter() - t0
    return {
        "value": {"ours": ours_value, "raw": raw_value, "rows": len(X)},
        "ranker": {"ours": ours_ranker, "raw": raw_ranker, "rows": len(Xr)},
    }


def run_load(folder: Path) -> dict[str, Any]:
    """Open the trained version as a server does, in a fresh process: time and memory."""
    out = folder / "load.json"
    out.unlink(missing_ok=True)
    in_child("_load_child", str(folder))
    return dict(json.loads(out.read_text()))


def _load_child(folder: str) -> None:
    import logging

    from recsvc.usecases import open_runtime

    base = Path(folder)
    settings = bench_settings(base)
    emb = fake_embedder()
    rt = open_runtime(settings, embedder=emb, load_model=False, warm_worklist=False)
    version = rt.registry.active()
    assert version is not None
    db_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    logging.getLogger("recsvc.serving.bundle").setLevel(logging.INFO)
    t0 = time.perf_counter()
    import recsvc.serving  # noqa: F401  # once per process (scikit-learn, LightGBM): apart

    imports = time.perf_counter() - t0
    t0 = time.perf_counter()
    bundle = rt.open_version(version)  # as a server starts: the store is read too
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    again = rt.open_version(version)  # as a promote or rollback: the snapshot is held
    result = {
        "seconds": seconds,
        "imports_seconds": imports,
        "peak_rss_mb": peak,
        "before_mb": db_rss,
        "steps": getattr(bundle, "load_steps", {}),
        "swap_seconds": time.perf_counter() - t0,
        "swap_steps": getattr(again, "load_steps", {}),
    }
    rt.close()
    (base / "load.json").write_text(json.dumps(result, indent=2))


def growth(sizes: list[int], seconds: list[float]) -> float | None:
    """The exponent ``b`` of ``seconds ~ sizes**b`` between the smallest and largest run."""
    if len(sizes) < 2 or sizes[0] == sizes[-1]:
        return None
    return math.log(seconds[-1] / seconds[0]) / math.log(sizes[-1] / sizes[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[2000])
    parser.add_argument("--workdir", type=Path, default=None, help="keep prepared stores here")
    parser.add_argument("--dask", action="store_true", help="train on a Dask LocalCluster")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_train_"))
    sizes = sorted(args.clients)
    print(f"load average {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}; workdir {work}")
    totals: list[float] = []
    for n in sizes:
        folder = work / f"clients_{n}"
        prep = prepare(folder, n)
        print(f"\n{n:,} clients (store prepared in {prep:.0f} s)")
        r = run_train(folder, args.dask)
        for s in r["steps"]:
            workers = ", ".join(f"{mb:.0f}" for mb in s.get("worker_peak_rss_mb", {}).values())
            print(
                f"  {s['step']:<34}{s['seconds']:>8.1f} s{s['peak_rss_mb']:>9.0f} MB peak"
                + (f"   workers {workers} MB" if workers else "")
            )
        print(
            f"  {'train':<34}{r['seconds']:>8.1f} s{r['peak_rss_mb']:>9.0f} MB peak"
            f"   value AUC {r['value_auc']}  NDCG@5 {r['ndcg5']}"
            f" (popularity {r['popularity_ndcg5']})"
        )
        for name in ("value", "ranker"):
            fit = r.get("fits", {}).get(name)
            if fit:
                print(
                    f"  {name} fit on {fit['rows']:,} rows: {fit['ours']:.2f} s vs raw"
                    f" {fit['raw']:.2f} s = {fit['ours'] / fit['raw']:.2f}x raw"
                )
        load = run_load(folder)
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in load["steps"].items())
        print(
            f"  version load, store read included: {load['seconds']:.1f} s ({steps}),"
            f" {load['peak_rss_mb']:.0f} MB peak; importing the serving code before it:"
            f" {load['imports_seconds']:.1f} s"
        )
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in load["swap_steps"].items())
        print(f"  version load over the held snapshot: {load['swap_seconds']:.1f} s ({steps})")
        totals.append(r["seconds"])
    b = growth(sizes, totals)
    if b is not None:
        print(f"\ngrowth exponent {sizes[0]:,} -> {sizes[-1]:,} clients: {b:.2f}")
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"total train: {totals[-1]:.1f} s")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
