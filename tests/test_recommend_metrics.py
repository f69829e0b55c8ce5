"""Ranking metrics against naive reference implementations (lightfm-style)."""

from __future__ import annotations

import math
import random

import pytest

from recsvc.recommend.metrics import catalogue_coverage, map_at_k, ndcg_at_k, recall_at_k

ITEMS = [f"p{i}" for i in range(12)]


def _naive_ndcg(rec: list[str], rel: set[str], k: int) -> float:
    dcg = 0.0
    for i in range(min(k, len(rec))):
        if rec[i] in rel:
            dcg += 1.0 / math.log2(i + 2)
    idcg = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
    return dcg / idcg


def _naive_ap(rec: list[str], rel: set[str], k: int) -> float:
    score, hits = 0.0, 0
    for i in range(min(k, len(rec))):
        if rec[i] in rel:
            hits += 1
            score += hits / (i + 1)
    return score / min(len(rel), k)


def _random_case(seed: int) -> tuple[list[list[str]], list[set[str]]]:
    rng = random.Random(seed)
    recs, rels = [], []
    for _ in range(30):
        recs.append(rng.sample(ITEMS, rng.randint(0, 8)))
        rels.append(set(rng.sample(ITEMS, rng.randint(1, 6))))
    return recs, rels


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 3, 5])
def test_metrics_match_naive_references(seed: int, k: int) -> None:
    recs, rels = _random_case(seed)
    n = len(recs)
    assert ndcg_at_k(recs, rels, k) == pytest.approx(
        sum(_naive_ndcg(r, s, k) for r, s in zip(recs, rels, strict=True)) / n
    )
    assert recall_at_k(recs, rels, k) == pytest.approx(
        sum(len(set(r[:k]) & s) / len(s) for r, s in zip(recs, rels, strict=True)) / n
    )
    assert map_at_k(recs, rels, k) == pytest.approx(
        sum(_naive_ap(r, s, k) for r, s in zip(recs, rels, strict=True)) / n
    )
    seen = {x for r in recs for x in r[:k]}
    assert catalogue_coverage(recs, ITEMS, k) == pytest.approx(len(seen) / len(ITEMS))


def test_metric_edge_cases() -> None:
    assert ndcg_at_k([["a", "b"]], [{"a"}]) == 1.0
    assert ndcg_at_k([["b", "a"]], [{"a"}]) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([["", "a"]], [{"a"}]) == 1.0  # padding is not a slot
    assert recall_at_k([["x"]], [set()]) == 0.0  # clients without truth are skipped
    assert map_at_k([["a", "c", "b"]], [{"a", "b"}], 3) == pytest.approx((1 + 2 / 3) / 2)
    assert catalogue_coverage([], ITEMS) == 0.0
