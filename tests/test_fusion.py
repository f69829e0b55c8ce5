"""Fusion functions and the layer's choice between them (fast, FakeEmbedder)."""

from __future__ import annotations

import pytest

from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder, SemanticLayer, build_semantic, rrf
from recsvc.semantic.fusion import weighted
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
