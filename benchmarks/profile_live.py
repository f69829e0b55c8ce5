"""Where a live recommendation's time goes: per-call timings of its parts, and GC passes.

Loads a store that ``bench_api.py`` prepared (``--workdir``/c<clients>) into this process
as a server worker would (``open_runtime``), then asks for live librarian
recommendations (impressions recorded) for clients spread over the whole store. Prints
the latency percentiles, the mean milliseconds per call of each part (ranking and
rules, LightGBM contributions, explanations with their own-project and similar-case
parts, impressions), the same for the slowest 2 % of calls, and how long the cyclic
GC's passes took per generation.

Usage::

    .venv/bin/python benchmarks/profile_live.py --clients 5000 --calls 2000
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _timed(parts: dict[str, float], name: str, obj: Any, attr: str) -> None:
    """Wrap ``obj.attr`` so that each call adds its seconds to ``parts[name]``."""
    fn: Callable[..., Any] = getattr(obj, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - start

    setattr(obj, attr, wrapper)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=5000, help="the prepared store's size")
    ap.add_argument("--workdir", type=Path, default=ROOT / "data" / "bench-api")
    ap.add_argument("--calls", type=int, default=2000)
    args = ap.parse_args()

    import bench_api

    from recsvc.config import Settings
    from recsvc.semantic import FakeEmbedder
    from recsvc.store.enums import Surface
    from recsvc.usecases import open_runtime, recommendations

    base = args.workdir / f"c{args.clients}"
    settings = Settings(**bench_api._settings_values(base))  # type: ignore[arg-type]
    start = time.perf_counter()
    rt = open_runtime(settings, embedder=FakeEmbedder())
    bundle = rt.require_bundle()
    print(f"loaded {bundle.version} in {time.perf_counter() - start:.0f}s")
    rec = bundle.recommender
    ids = sorted(bundle.portal_recs)
    ids = ids[:: max(1, len(ids) // args.calls)][: args.calls]

    parts: dict[str, float] = {}
    for name, obj, attr in (
        ("rank", rec, "rank"),
        ("contributions", rec, "_contributions"),
        ("explain", rec.explainer, "explain"),
        ("own projects", rec.explainer.finder, "dated_own_projects"),
        ("similar cases", rec.explainer.finder, "similar_cases"),
        ("impressions", recommendations, "record_impressions"),
    ):
        if obj is not None:
            _timed(parts, name, obj, attr)
    passes: list[tuple[int, float]] = []
    began: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began.append(time.perf_counter())
        elif began:
            passes.append((info["generation"], time.perf_counter() - began.pop()))

    for cid in ids[:20]:  # warm-up
        recommendations.live(
            rt, client_id=cid, surface=Surface.LIBRARIAN, actor="profile", record=True
        )
    gc.callbacks.append(on_gc)
    calls: list[tuple[float, dict[str, float]]] = []
    for cid in ids[20:]:
        parts.clear()
        start = time.perf_counter()
        recommendations.live(
            rt, client_id=cid, surface=Surface.LIBRARIAN, actor="profile", record=True
        )
        calls.append((time.perf_counter() - start, dict(parts)))
    gc.callbacks.remove(on_gc)

    total = np.array([c[0] for c in calls]) * 1000
    p50, p90, p99 = np.percentile(total, [50, 90, 99])
    print(
        f"{len(total)} live calls: p50 {p50:.1f}  p90 {p90:.1f}  p99 {p99:.1f}  "
        f"max {total.max():.1f} ms"
    )
    names = sorted({n for _, p in calls for n in p})
    order = np.argsort(total)
    print(f"{'ms per call':<16}" + "".join(f"{n:>15}" for n in names))
    for label, rows in (("all", order), ("slowest 2 %", order[-max(1, len(order) // 50) :])):
        means = [np.mean([calls[i][1].get(n, 0.0) for i in rows]) * 1000 for n in names]
        print(f"{label:<16}" + "".join(f"{m:>15.2f}" for m in means))
    by_generation: dict[int, list[float]] = defaultdict(list)
    for generation, seconds in passes:
        by_generation[generation].append(seconds * 1000)
    for generation, ms in sorted(by_generation.items()):
        print(
            f"GC generation {generation}: {len(ms)} passes, mean {np.mean(ms):.2f} ms, "
            f"max {max(ms):.1f} ms"
        )
    print(f"objects the GC tracks now: {len(gc.get_objects())} (frozen: {gc.get_freeze_count()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
