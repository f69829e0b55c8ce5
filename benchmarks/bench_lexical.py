"""The similar-case lexical search at scale: each term's top postings vs every posting.

On a store prepared by ``bench_train.py`` (the same ``--workdir``), stored commissions
are the queries against the past cases' BM25 index, as the portal precomputation asks
them (``k`` = the fusion depth of its 30 similar cases, the commission's own cases
excluded). Three ways, same queries, same run:

- ``head``: :meth:`LexicalIndex.search_many` as it ships (candidates from each term's
  top postings, exact scores; :mod:`recsvc.semantic.postings`);
- ``every posting``: the same code with no term cut;
- ``bm25s``: the raw library, ``BM25.get_scores`` of one query and its top ``k``.

It prints milliseconds per query, the postings of a query's terms in the head and in
all, and how many of the exhaustive top 30 and top ``k`` the head finds (scores are
exact either way; a query takes the head only where that reads fewer postings).

Usage:
    .venv/bin/python benchmarks/bench_lexical.py --workdir /work/bt --clients 10000 100000
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
from recsvc.semantic.postings import CANDIDATE_POSTINGS, CANDIDATES_PER_HIT  # noqa: E402

K = 150  # SemanticLayer.depth(30): the lexical candidates of 30 fused similar cases


def measure(folder: Path, queries: int, keep: int, per_hit: int) -> None:
    """Time and compare the three searches on one prepared store."""
    from recsvc.semantic import postings as postings_module
    from recsvc.semantic.layer import SemanticLayer
    from recsvc.semantic.similar import _cases_of_commission, _commission_query
    from recsvc.semantic.text import tokenize

    layer = SemanticLayer.load(bench_settings(folder), fake_embedder())
    ids = np.random.default_rng(0).choice(sorted(layer.docs["commissions"]), queries, False)
    texts = [_commission_query(layer, int(c))[0] for c in ids]
    excludes = [set(_cases_of_commission(layer, int(c))) for c in ids]
    index = layer.lexical["cases"]
    index.candidate_postings = keep
    postings_module.CANDIDATES_PER_HIT = per_hit
    postings = index.postings()
    assert postings is not None and index._bm25 is not None
    vocab = index._bm25.vocab_dict
    reach = {"head": postings.head, "every posting": postings.weights}
    print(
        f"{folder.name}: {postings.weights.shape[1]:,} cases; {len(postings.cut_terms)} terms"
        f" in more than {keep} of them; {per_hit} candidates per hit"
    )
    index.search_many(texts, K, excludes=excludes)  # untimed: the first pass warms caches
    found, ms = {}, {}
    for name, head_size in (("head", keep), ("every posting", 10**12)):
        index.candidate_postings, index._postings = head_size, None
        t0 = time.perf_counter()
        index.postings()
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        found[name] = index.search_many(texts, K, excludes=excludes)
        ms[name] = 1000 * (time.perf_counter() - t0) / len(texts)
        rows = reach[name]
        touched = np.mean(
            [
                np.diff(rows.indptr)[[vocab[t] for t in tokenize(q) if t in vocab]].sum()
                for q in texts
            ]
        )
        print(
            f"  {name:14} {ms[name]:6.2f} ms/query  {touched:9,.0f} postings of its terms"
            f"  (split {built:.2f} s)"
        )
    bm = index._bm25
    t0 = time.perf_counter()
    for text in texts:
        scores = bm.get_scores(tokenize(text))
        np.argpartition(-scores, K)[:K]
    raw = 1000 * (time.perf_counter() - t0) / len(texts)
    print(f"  {'bm25s':14} {raw:6.2f} ms/query")
    print(
        f"  head / bm25s: {ms['head'] / raw:.2f}x; every posting / bm25s: "
        f"{ms['every posting'] / raw:.2f}x"
    )
    for depth in (30, K):
        shared = [
            len(set(h[0][:depth]) & set(e[0][:depth])) / max(1, len(e[0][:depth]))
            for h, e in zip(found["head"], found["every posting"], strict=True)
        ]
        print(f"  head finds {np.mean(shared):.4f} of the exhaustive top {depth}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="bench_train.py's stores")
    parser.add_argument("--clients", type=int, nargs="+", default=[10000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--keep", type=int, default=CANDIDATE_POSTINGS, help="postings per term")
    parser.add_argument(
        "--per-hit", type=int, default=CANDIDATES_PER_HIT, help="candidates per hit"
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    for n in args.clients:
        folder = args.workdir / f"clients_{n}"
        if not (folder / "prepared.json").exists():
            sys.exit(f"{folder} is not prepared: run bench_train.py --clients {n} --workdir first")
        measure(folder, args.queries, args.keep, args.per_hit)


if __name__ == "__main__":
    main()
