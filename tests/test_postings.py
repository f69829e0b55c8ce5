"""BM25 through each term's top postings: candidates from the head, exact scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from recsvc.config import Settings
from recsvc.semantic import FakeEmbedder
from recsvc.semantic.evaluation import label_precision, one_kind_layer, real_sets
from recsvc.semantic.lexical import LexicalIndex
from recsvc.semantic.postings import CANDIDATES_PER_HIT, Postings
from recsvc.semantic.text import tokenize


def _corpus(n: int = 3000, seed: int = 0) -> list[str]:
    """Texts like commissions: a topic's distinctive words (each topic in 1 % of the
    documents) among common words of a Zipf-like vocabulary, some in most documents."""
    rng = np.random.default_rng(seed)
    common = np.minimum(rng.zipf(1.3, size=(n, 10)), 5000)
    topic = np.arange(n) % 100
    return [
        f"t{t}a t{t}b 污水{t}处理 " + " ".join(f"w{w}" for w in row)
        for t, row in zip(topic, common, strict=True)
    ]


def test_the_head_keeps_each_terms_best_postings_and_the_rest_holds_the_others() -> None:
    rng = np.random.default_rng(1)
    dense = rng.random((30, 400)).astype(np.float32) * (rng.random((30, 400)) < 0.3)
    dense[0] = 0.5  # a term in every document, all tied: lower documents stay
    weights = sparse.csr_matrix(dense)
    postings = Postings(weights, keep=20)
    head = postings.head.toarray()
    assert (np.count_nonzero(head, axis=1) <= 20).all()
    assert np.flatnonzero(head[0]).tolist() == list(range(20))
    rest = np.zeros_like(dense)
    rest[postings.cut_terms] = postings.rest.toarray().T
    np.testing.assert_array_equal(head + rest, dense)  # a partition of the postings
    for term in range(30):
        kept, lost = head[term][head[term] > 0], rest[term][rest[term] > 0]
        assert (term in postings.cut_terms) == bool(len(lost))
        assert not len(lost) or lost.max() <= kept.min()


def test_every_score_returned_is_the_exact_bm25_score() -> None:
    texts = _corpus()
    index = LexicalIndex.build(range(len(texts)), texts)
    index.candidate_postings = 40  # most of the common terms are cut
    queries = [texts[i] for i in range(0, 3000, 97)]
    found = index.search_many(queries, 20, excludes=[{i} for i in range(0, 3000, 97)])
    assert index._postings is not None and len(index._postings.cut_terms) > 10
    bm = index._bm25
    assert bm is not None
    for query, (keys, scores) in zip(queries, found, strict=True):
        ref = bm.get_scores(tokenize(query))  # the library, every posting
        np.testing.assert_allclose(scores, ref[keys], rtol=1e-5)
        assert scores == sorted(scores, reverse=True)


def _exhaustive_and_pruned() -> tuple[list[str], LexicalIndex, LexicalIndex]:
    """The corpus indexed twice: no term cut, and each term's head at 40 postings."""
    texts = _corpus()
    exhaustive = LexicalIndex.build(range(len(texts)), texts)
    exhaustive.candidate_postings = len(texts)
    pruned = LexicalIndex.build(range(len(texts)), texts)
    pruned.candidate_postings = 40
    return texts, exhaustive, pruned


def test_candidates_from_the_head_find_the_exhaustive_top_hits() -> None:
    texts, exhaustive, pruned = _exhaustive_and_pruned()
    queries = [texts[i] for i in range(1, 3000, 31)]
    excludes = [{i} for i in range(1, 3000, 31)]
    want = exhaustive.search_many(queries, 10, excludes=excludes)
    got = pruned.search_many(queries, 10, excludes=excludes)
    shared = [len(set(g[0]) & set(w[0])) / len(w[0]) for g, w in zip(got, want, strict=True)]
    best = [g[1][0] == pytest.approx(w[1][0], rel=1e-5) for g, w in zip(got, want, strict=True)]
    assert np.mean(shared) >= 0.97, np.mean(shared)
    assert np.mean(best) >= 0.97, np.mean(best)  # the best score there is (ties: any of them)


def test_only_a_query_with_a_cut_term_is_scored_from_the_head() -> None:
    _, exhaustive, pruned = _exhaustive_and_pruned()
    rare = "t7a t7b t8a w4999"  # each in fewer than 40 documents
    assert pruned.search(rare, 100) == exhaustive.search(rare, 100)
    common = [tokenize("w1 w2 t7a")]  # w1 and w2 are in most documents: their postings are cut
    every = exhaustive._main_scores(common, 10)
    candidates = pruned._main_scores(common, 10)
    assert every.nnz > 1000
    assert CANDIDATES_PER_HIT * 10 <= candidates.nnz <= 2 * 40 + 30  # within the head


@pytest.mark.parametrize("keep", [1, 5, 10_000])
def test_any_head_size_returns_k_hits_best_first(keep: int) -> None:
    texts = _corpus(500)
    index = LexicalIndex.build(range(500), texts)
    index.candidate_postings = keep
    keys, scores = index.search("w1 w2 w3", 25)
    assert len(keys) == 25 and len(set(keys)) == 25
    assert scores == sorted(scores, reverse=True)


def test_warming_a_layer_splits_its_postings_before_any_search() -> None:
    texts = _corpus(500)
    emb = FakeEmbedder()
    layer = one_kind_layer(texts, emb.encode(texts), Settings(environment="development"), emb)
    index = layer.lexical["commissions"]
    assert index._postings is None  # built on first use
    layer.warm("commissions")
    split = index._postings
    assert split is not None
    index.search("w1 w2", 5)
    assert index._postings is split  # the search used the one split


@pytest.mark.realdata
@pytest.mark.slow
def test_on_real_patent_titles_the_head_loses_no_label_precision(realdata: Path) -> None:
    patents = next(s for s in real_sets(realdata, patent_queries=300) if s.name == "patents")
    emb = FakeEmbedder()  # the dense channel is not measured here
    vectors = emb.encode(patents.texts)
    layer = one_kind_layer(patents.texts, vectors, Settings(environment="development"), emb)
    index = layer.lexical["commissions"]
    precision = {}
    for keep in (len(patents.texts), 256):  # every posting; the head of the four most
        index.candidate_postings = keep  # common terms cut to 1/24 of the titles
        index._postings = None
        precision[keep] = label_precision(layer, vectors, patents)["lexical"]
    assert index._postings is not None and len(index._postings.cut_terms) >= 4
    assert precision[256] >= precision[len(patents.texts)] - 0.002, precision


def _mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a mapped file."""
    base = array
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    return base is not None


def test_a_saved_index_maps_its_split_instead_of_splitting_again(tmp_path: Path) -> None:
    texts = _corpus(800)
    index = LexicalIndex.build(range(800), texts)
    index.candidate_postings = 40  # common terms are cut
    expected = index.search_many(texts[:50], 10)
    index.save(tmp_path)

    loaded = LexicalIndex.load(tmp_path)
    loaded.candidate_postings = 40
    split = loaded.postings()
    assert split is not None and len(split.cut_terms)
    assert _mapped(split.head.data) and _mapped(split.rest.indices)
    assert loaded.search_many(texts[:50], 10) == expected

    other = LexicalIndex.load(tmp_path)
    other.candidate_postings = 30  # saved with 40 per term: split again, as asked
    assert (np.diff(other.postings().head.indptr) <= 30).all()
