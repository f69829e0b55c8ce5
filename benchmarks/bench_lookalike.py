"""Look-alike neighbours of every client: the FAISS candidate search against the whole
clients x buyers matrix it replaced.

On a store ``bench_train.py`` prepared (``--workdir``), the text space is fitted as a
training fits it; then every client's neighbours are found twice: by
``LookAlikeSource.neighbours`` (an exact inner-product search for candidates, then the
clipped similarity) and by the dense route (``TextSpace.similarity`` block by block,
the profile bonus, a stable top-k over every row with numpy). Prints both times, their
ratio, and how many clients get the same neighbours in the same order.

Usage:
    .venv/bin/python benchmarks/bench_train.py --clients 100000 --workdir /work/bt
    .venv/bin/python benchmarks/bench_lookalike.py --clients 100000 --workdir /work/bt
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_train import bench_settings, fake_embedder  # noqa: E402


def dense_neighbours(look: object, ids: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """The neighbours by the whole clients x buyers matrix (ids, ``-1`` pads)."""
    ctx = look.context_  # type: ignore[attr-defined]
    buyers = look.buyers_  # type: ignore[attr-defined]
    vecs, has = ctx.text.client_vectors(ctx.frames.commissions, ids, ctx.cutoff)
    profile = look._one_hot(*look._profile_codes(ids))  # type: ignore[attr-defined]
    m = min(look.n_neighbours, len(buyers))  # type: ignore[attr-defined]
    out = np.full((len(ids), m), -1, dtype=np.int64)
    for start in range(0, len(ids), chunk):
        rows = np.arange(start, min(start + chunk, len(ids)))
        s = ctx.text.similarity(vecs.take(rows), look.buyer_vectors_)  # type: ignore[attr-defined]
        s[:, ~look.buyer_has_] = 0.0  # type: ignore[attr-defined]
        s[~has[rows]] = 0.0
        s += profile[rows] @ look.buyer_profile_.T  # type: ignore[attr-defined]
        s[ids[rows, None] == buyers[None, :]] = -np.inf
        order = np.argsort(-s, axis=1, kind="stable")[:, :m]
        best = np.take_along_axis(s, order, axis=1)
        out[rows] = np.where(np.isfinite(best) & (best > 0), buyers[order], -1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()

    from recsvc.recommend.context import build_context
    from recsvc.recommend.sources.similar import LookAlikeSource
    from recsvc.semantic import SemanticLayer
    from recsvc.store import Database, load_frames

    print(f"load average {os.getloadavg()[0]:.2f}; cores {os.cpu_count()}")
    settings = bench_settings(args.workdir / f"clients_{args.clients}")
    frames = load_frames(Database.from_settings(settings))
    semantic = SemanticLayer.load(settings, fake_embedder())
    t0 = time.perf_counter()
    ctx = build_context(frames, semantic=semantic, settings=settings, with_features=False)
    look = LookAlikeSource().fit(ctx)
    ids = ctx.clients.index.to_numpy(dtype=np.int64)
    print(f"text space and source fitted in {time.perf_counter() - t0:.1f} s")
    print(f"{len(ids):,} clients, {len(look.buyers_):,} recent buyers")

    t0 = time.perf_counter()
    ours, _ = look.neighbours(ids)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    whole = dense_neighbours(look, ids)
    t_whole = time.perf_counter() - t0
    same = (ours[:, : whole.shape[1]] == whole).all(axis=1)
    print(f"candidate search: {t_ours:.1f} s; whole matrix: {t_whole:.1f} s")
    print(f"ratio: {t_ours / t_whole:.2f}x the whole matrix's time")
    print(f"same neighbours in the same order: {same.mean():.4%} of clients")


if __name__ == "__main__":
    main()
