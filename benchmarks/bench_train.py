"""Training at scale: one full ``recsvc train`` per store size, step by step.

For each ``--clients N`` the benchmark prepares a store once (the demo generator's files
imported into SQLite, the semantic index built with the deterministic fake embedder:
this measures training, not the embedding model) and then runs the full training
pipeline in a fresh process. It prints, per size, each step's wall time and the peak
resident memory so far, then the value step's fit next to a raw
``lightgbm.LGBMClassifier.fit`` on the same matrix with the same parameters and the
ranker's fit next to a raw ``lightgbm.LGBMRanker.fit`` on its matrix (ratios; same
process, same run), and the growth exponent of the total between the sizes it ran.
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


def prepare(folder: Path, clients: int) -> float:
    """Generate, import and index a store of ``clients`` clients (once per folder)."""
    done = folder / "prepared.json"
    if done.exists():
        return float(json.loads(done.read_text())["seconds"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    code = (
        "import sys; sys.path.insert(0, %r);"
        "from benchmarks.bench_train import _prepare_child; _prepare_child(%r, %d)"
    ) % (str(ROOT), str(folder), clients)
    subprocess.run([sys.executable, "-c", code], check=True)
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
    code = (
        "import sys; sys.path.insert(0, %r);"
        "from benchmarks.bench_train import _train_child; _train_child(%r, %r)"
    ) % (str(ROOT), str(folder), dask)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    result = json.loads(out.read_text())
    result["wall"] = time.perf_counter() - t0
    return result


def _train_child(folder: str, dask: bool) -> None:
    from recsvc.registry import Registry
    from training.pipeline import train

    base = Path(folder)
    settings = bench_settings(base, **({"dask": "local"} if dask else {}))
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
    (base / "result.json").write_text(json.dumps(result, indent=2))


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
            print(f"  {s['step']:<34}{s['seconds']:>8.1f} s{s['peak_rss_mb']:>9.0f} MB peak")
        print(
            f"  {'train':<34}{r['seconds']:>8.1f} s{r['peak_rss_mb']:>9.0f} MB peak"
            f"   value AUC {r['value_auc']}  NDCG@5 {r['ndcg5']}"
            f" (popularity {r['popularity_ndcg5']})"
        )
        for name in ("value", "ranker"):
            fit = r.get("fits", {}).get(name)
            if fit:
                print(
                    f"  {name} fit {fit['ours']:.2f} s vs raw {fit['raw']:.2f} s"
                    f" = {fit['ours'] / fit['raw']:.2f}x raw"
                )
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
