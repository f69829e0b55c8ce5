"""Fusion functions and the layer's choice between them (fast, FakeEmbedder)."""

from __future__ import annotations

import numpy as np
import pytest

from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder, SemanticLayer, build_semantic, rrf
from recsvc.semantic.fusion import weighted, weighted_many
from recsvc.semantic.sample import sample_frames


def test_weighted_matches_the_naive_formula() -> None:
    channels = {
        "dense": (["a", "b", "c"], [0.8, 0.4, 0.2]),
        "lexical": (["c", "d"], [10.0, 5.0]),
    }
    fused = dict(weighted(channels, {"dense": 0.8, "lexical": 0.2}))
    assert fused == pytest.approx({"a": 0.8, "b": 0.4, "c": 0.8 * 0.25 + 0.2 * 1.0, "d": 0.2 * 0.5})
    ranked = [k for k, _ in weighted(channels, {"dense": 0.8, "lexical": 0.2})]
    assert ranked == ["a", "b", "c", "d"]


@pytest.mark.parametrize("seed", range(40))
def test_weighted_many_is_weighted_of_each_query_to_the_bit(seed: int) -> None:
    """Random queries with ties (rounded scores), scores at or below 0, empty channels
    and an unweighted one: each query's ``k`` best as :func:`weighted` ranks them."""
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 7)), int(rng.integers(1, 9))
    weights = {
        "dense": float(rng.choice([0.8, 0.5, 0.0])),
        "lexical": float(rng.choice([0.2, 1.0])),
    }
    flat: dict[str, tuple[list[int], list[int], list[float]]] = {}
    each: list[dict[str, tuple[list[int], list[float]]]] = [{} for _ in range(n)]
    for name in ("dense", "lexical"):
        rows, ids, values = flat.setdefault(name, ([], [], []))
        for q in range(n):
            found = rng.choice(15, size=int(rng.integers(0, 9)), replace=False).tolist()
            scores = rng.random(len(found)) - 0.2
            scores = np.sort(scores.round(1) if rng.random() < 0.5 else scores)[::-1]
            scores = scores.astype(np.float32).tolist()
            rows += [q] * len(found)
            ids += found
            values += scores
            each[q][name] = (found, scores)
    channels = {name: tuple(np.asarray(a) for a in arrays) for name, arrays in flat.items()}
    rows, ids, fused = weighted_many(channels, weights, n, k)  # type: ignore[arg-type]
    assert np.all(np.diff(rows) >= 0)
    for q in range(n):
        at = rows == q
        got = list(zip(ids[at].tolist(), fused[at].tolist(), strict=True))
        assert got == weighted(each[q], weights)[:k]


def test_weighted_scores_one_channel_alone_from_one_and_ignores_unweighted_ones() -> None:
    channels = {"dense": ([], []), "lexical": (["x", "y"], [4.0, 1.0])}
    only_lexical = weighted(channels, {"dense": 0.8, "lexical": 0.2})
    assert [k for k, _ in only_lexical] == ["x", "y"]
    assert [s for _, s in only_lexical] == pytest.approx([1.0, 0.25])
    assert weighted({"other": (["z"], [3.0])}, {"dense": 1.0}) == []
    assert weighted({}, {"dense": 1.0}) == []


def test_score_magnitudes_count_where_reciprocal_ranks_do_not() -> None:
    """A near-tie in the dense channel is settled by a strong lexical match, a wide dense
    gap is not overturned by a weak one; reciprocal ranks see neither difference."""
    dense = (["a", "b"], [0.90, 0.89])
    strong = {"dense": dense, "lexical": (["b", "a"], [9.0, 1.0])}
    weak = {"dense": (["a", "b"], [0.90, 0.30]), "lexical": (["b", "a"], [9.0, 8.9])}
    weights = {"dense": 0.8, "lexical": 0.2}
    assert weighted(strong, weights)[0][0] == "b"
    assert weighted(weak, weights)[0][0] == "a"
    ranks = {n: keys for n, (keys, _) in strong.items()}
    assert rrf(ranks)[0][1] == rrf(ranks)[1][1]  # a tie whatever the scores


def test_the_layer_fuses_by_weight_by_default_and_by_rank_on_request(settings: Settings) -> None:
    layer = build_semantic(sample_frames(), settings, FakeEmbedder())
    assert SemanticLayer.fusion == "weighted"
    hits = layer.search("swine vaccine", "commissions", k=5)
    assert hits[0].score <= 1.0 and hits[0].channels.keys() == {"dense", "lexical"}
    by_weight = [(h.id, round(h.score, 6)) for h in hits]
    dense, lexical = hits[0].channels["dense"], hits[0].channels["lexical"]
    assert dense["rank"] >= 1 and lexical["score"] > 0
    layer.fusion = "rrf"
    by_rank = layer.search("swine vaccine", "commissions", k=5)
    assert by_rank[0].score == pytest.approx(
        sum(1 / (settings.rrf_k + ch["rank"]) for ch in by_rank[0].channels.values())
    )
    assert [(h.id, round(h.score, 6)) for h in by_rank] != by_weight
