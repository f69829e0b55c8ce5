"""Search latency of recsvc's VectorIndex vs raw FAISS on the same index, and the
recall@10 of the approximate index against exact search.

Synthetic unit vectors of width 384 (the packaged model's width), drawn around 2,000
random cluster centres so neighbourhoods exist, as in real text embeddings. Each query
is searched alone (one row, like a live request), single-threaded.

Usage:
    .venv/bin/python benchmarks/bench_search.py --sizes 10000,100000
    .venv/bin/python benchmarks/bench_search.py --sizes 1000000 --approx ivf --queries 50

Targets: wrapper p50 ≤ 1.5× raw FAISS p50; approximate recall@10 ≥ 0.95.
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np

from recsvc.semantic.index import VectorIndex


def synthetic(n: int, dim: int, seed: int, centres: np.ndarray) -> np.ndarray:
    """Unit vectors scattered around random cluster centres."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        c = centres[rng.integers(0, len(centres), m)]
        x = c + 0.08 * rng.standard_normal((m, dim)).astype(np.float32)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def compare(index: VectorIndex, queries: np.ndarray, k: int) -> dict[str, float]:
    """Per-query wall times (ms) of raw FAISS and the wrapper on the same FAISS object.

    Each query runs through both, in alternating order, so both share the machine's
    noise.
    """
    raw = index.raw
    raw.search(queries[:5], k)  # warm up
    index.search(queries[:5], k)
    r, o = np.empty(len(queries)), np.empty(len(queries))
    for i in range(len(queries)):
        q = queries[i : i + 1]
        for which in (0, 1) if i % 2 else (1, 0):
            t = time.perf_counter()
            if which == 0:
                raw.search(q, k)
                r[i] = (time.perf_counter() - t) * 1000
            else:
                index.search(q, k)
                o[i] = (time.perf_counter() - t) * 1000
    return {
        "raw_p50": float(np.percentile(r, 50)),
        "raw_p99": float(np.percentile(r, 99)),
        "ours_p50": float(np.percentile(o, 50)),
        "ours_p99": float(np.percentile(o, 99)),
    }


def recall_at_k(truth: list[list], found: list[list], k: int) -> float:
    return float(
        np.mean([len(set(t[:k]) & set(f[:k])) / k for t, f in zip(truth, found, strict=True)])
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated index sizes")
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--approx", choices=["hnsw", "ivf", "none"], default="hnsw")
    ap.add_argument("--ef-search", type=int, default=192, help="HNSW search breadth")
    ap.add_argument("--nprobe", type=int, default=32, help="IVF cells visited")
    ap.add_argument("--threads", type=int, default=1, help="FAISS threads while searching")
    ap.add_argument(
        "--build-threads",
        type=int,
        default=1,
        help="FAISS threads while building (1 on busy boxes)",
    )
    ap.add_argument("--nlist", type=int, default=None, help="IVF cells (default 4·√n)")
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, args.dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    print(
        f"faiss {faiss.__version__}, dim {args.dim}, {args.queries} single-row queries, k={args.k}"
    )
    cols = ["size", "index", "build s", "raw p50", "raw p99", "ours p50", "ours p99"]
    print(" ".join(f"{c:>9}" for c in [*cols, "p50 ratio", "recall@10"]))
    for n in [int(s) for s in args.sizes.split(",")]:
        base = synthetic(n, args.dim, 1, centres)
        queries = synthetic(args.queries, args.dim, 2, centres)
        keys = list(range(n))
        faiss.omp_set_num_threads(args.build_threads)
        t = time.perf_counter()
        exact = VectorIndex.build(keys, base, kind="exact")
        build_exact = time.perf_counter() - t
        faiss.omp_set_num_threads(args.threads)
        truth, _ = exact.search(queries, args.k)
        rows = [("exact", build_exact, compare(exact, queries, args.k), 1.0)]
        del exact
        if args.approx != "none":
            faiss.omp_set_num_threads(args.build_threads)
            t = time.perf_counter()
            approx = VectorIndex.build(
                keys,
                base,
                kind=args.approx,
                ef_search=args.ef_search,
                nprobe=args.nprobe,
                nlist=args.nlist,
            )
            build_approx = time.perf_counter() - t
            faiss.omp_set_num_threads(args.threads)
            found, _ = approx.search(queries, args.k)
            rows.append(
                (
                    args.approx,
                    build_approx,
                    compare(approx, queries, args.k),
                    recall_at_k(truth, found, args.k),
                )
            )
            del approx
        for kind, build_s, m, recall in rows:
            ratio = m["ours_p50"] / m["raw_p50"]
            print(
                f"{n:>9} {kind:>9} {build_s:>9.1f} {m['raw_p50']:>7.3f}ms {m['raw_p99']:>7.3f}ms "
                f"{m['ours_p50']:>7.3f}ms {m['ours_p99']:>7.3f}ms {ratio:>8.2f}x {recall:>9.3f}",
                flush=True,
            )
        del base


if __name__ == "__main__":
    main()
