"""Batched searches give what one search per query gives (the portal precomputation
relies on it), and client features read the index's vectors instead of embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recsvc.config import Settings
from recsvc.features.builder import _commission_vectors
from recsvc.recommend.cases import CaseFinder
from recsvc.semantic import FakeEmbedder, SemanticLayer, build_semantic
from recsvc.semantic.sample import sample_frames
from recsvc.store.frames import Frames


@pytest.fixture
def frames() -> Frames:
    return sample_frames()


@pytest.fixture
def layer(frames: Frames, settings: Settings) -> SemanticLayer:
    return build_semantic(frames, settings, FakeEmbedder())


def test_similar_clients_many_equals_one_search_per_client(layer: SemanticLayer) -> None:
    clients = [int(c) for c in layer.dense["clients"].ids()]
    ids, scores = layer.similar_clients_many(np.array([*clients, 987654]), k=3)
    for row, cid in enumerate(clients):
        one_ids, one_scores = layer.similar_clients(cid, k=3)
        n = len(one_ids)
        assert ids[row, :n].tolist() == one_ids.tolist()
        np.testing.assert_allclose(scores[row, :n], one_scores, rtol=1e-6)
        assert (ids[row, n:] == -1).all() and cid not in ids[row]
    assert (ids[-1] == -1).all()  # a client the index does not hold gets no neighbours


def test_similar_cases_many_equals_one_search_per_commission(layer: SemanticLayer) -> None:
    commissions = [int(c) for c in layer.docs["commissions"]]
    many = layer.similar_cases_many([*commissions, 987654], k=5)
    assert set(many) == set(commissions)  # one not indexed is left out
    for cid in commissions:
        one = layer.similar_cases(cid, k=5)
        assert [(h.id, h.score, h.meta) for h in many[cid]] == [
            (h.id, h.score, h.meta) for h in one
        ]


def test_prefetched_case_hits_are_what_a_search_finds(layer: SemanticLayer) -> None:
    commissions = [int(c) for c in layer.docs["commissions"]]
    fetched, searched = CaseFinder(layer), CaseFinder(layer)
    fetched.record()
    fetched.prefetch(commissions)
    for cid in commissions:
        assert fetched.hits(cid) == searched.hits(cid)


class CountingSemantic:
    """Stored vectors for some commissions; counts what it is asked to embed."""

    def __init__(self, stored: dict[int, np.ndarray]) -> None:
        self.stored = stored
        self.embedded: list[str] = []

    def commission_vectors(self, ids: np.ndarray) -> np.ndarray:
        return np.vstack([self.stored.get(int(c), np.zeros(4, np.float32)) for c in ids])

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.ones((len(texts), 4), dtype=np.float32)


def test_features_embed_only_commissions_the_index_does_not_hold() -> None:
    comm = pd.DataFrame(
        {
            "commission_id": [1, 2, 3],
            "client_id": [10, 10, 11],
            "title_en": ["graphene sensor", "swine fever vaccine", "lidar mapping"],
            "title_zh": ["", "猪瘟疫苗", ""],
            "keywords": ["", "", ""],
        }
    )
    stored = {1: np.array([1, 0, 0, 0], np.float32), 3: np.array([0, 0, 1, 0], np.float32)}
    semantic = CountingSemantic(stored)
    vecs = _commission_vectors(semantic, comm)
    assert len(semantic.embedded) == 1 and "猪瘟疫苗" in semantic.embedded[0]
    np.testing.assert_array_equal(vecs[0], stored[1])
    np.testing.assert_array_equal(vecs[1], np.ones(4))
    np.testing.assert_array_equal(vecs[2], stored[3])
