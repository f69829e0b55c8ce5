"""What keeps the recommender's all-clients products bounded as the history grows:
blockwise scoring, partial top-k, and the cap on cases per product. Each must give
exactly what the whole-matrix version gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import recsvc.recommend.sources.similar as sources
from recsvc.recommend.context import build_context
from recsvc.recommend.sources.similar import ContentSource, LookAlikeSource
from tests.conftest import make_settings
from tests.test_recommend_synth import CUTOFF, make_context, make_history


@pytest.fixture(scope="module")
def dense_context(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The synthetic world with dense vectors too (the fake embedder's)."""
    from recsvc.semantic import FakeEmbedder, build_semantic

    history = make_history(n_per_group=20)
    settings = make_settings(tmp_path_factory.mktemp("dense"))
    layer = build_semantic(history, settings, FakeEmbedder())
    return build_context(history, CUTOFF, semantic=layer, with_features=False)


@pytest.fixture(scope="module", params=["lexical", "dense"])
def context(request):  # type: ignore[no-untyped-def]
    if request.param == "dense":
        return request.getfixturevalue("dense_context")
    return make_context(make_history(n_per_group=20))


def test_blockwise_scores_equal_one_block(context, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = context.clients.index.to_numpy(dtype=np.int64)
    content = ContentSource().fit(context)
    look = LookAlikeSource().fit(context)
    whole = content.scores(ids), look.neighbours(ids)
    monkeypatch.setattr(sources, "CHUNK", 7)  # many small blocks
    monkeypatch.setattr(sources, "NEIGHBOUR_CHUNK", 7)
    assert len(ids) > 3 * sources.CHUNK
    # float32 products: BLAS sums a 7-row block in another order than a 120-row one
    close = {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(content.scores(ids), whole[0], equal_nan=True, **close)
    ids_b, sims_b = look.neighbours(ids)
    assert (ids_b == whole[1][0]).all()
    np.testing.assert_allclose(sims_b, whole[1][1], **close)


def test_cases_per_product_keep_the_newest(context) -> None:  # type: ignore[no-untyped-def]
    full = ContentSource().fit(context).cases_
    capped = ContentSource(max_cases_per_product=2).fit(context).cases_
    assert capped.groupby("product_code").size().max() == 2
    for code, kept in capped.groupby("product_code"):
        newest = full[full["product_code"] == code]["ordered_on"].nlargest(2)
        assert sorted(kept["ordered_on"]) == sorted(newest)
    assert len(full) > len(capped)


def test_neighbours_match_the_string_comparison_they_replace(context) -> None:  # type: ignore[no-untyped-def]
    """Profiles are compared as integer codes; the result must be what comparing the
    kind and field strings gives (an empty field matches nothing)."""
    ids = context.clients.index.to_numpy(dtype=np.int64)
    look = LookAlikeSource().fit(context)
    got_ids, got_sims = look.neighbours(ids)
    vecs, has = context.text.client_vectors(context.frames.commissions, ids, context.cutoff)
    s = context.text.similarity(vecs, look.buyer_vectors_)
    s[:, ~look.buyer_has_] = 0.0
    s[~has] = 0.0
    kind, field = look._profile(ids)
    buyer_kind, buyer_field = look._profile(look.buyers_)
    s += look.profile_weight * (kind[:, None] == buyer_kind[None, :])
    s += look.profile_weight * ((field[:, None] == buyer_field[None, :]) & (field[:, None] != ""))
    s[ids[:, None] == look.buyers_[None, :]] = -np.inf
    m = min(look.n_neighbours, len(look.buyers_))
    order = np.argsort(-s, axis=1, kind="stable")[:, :m]
    sims = np.take_along_axis(s, order, axis=1)
    sims[~np.isfinite(sims)] = 0.0
    want_ids = look.buyers_[order].copy()
    want_ids[sims <= 0] = -1
    assert (got_ids[:, :m] == want_ids).all()
    np.testing.assert_allclose(got_sims[:, :m], np.clip(sims, 0.0, None), rtol=1e-6)


def test_content_scores_are_the_mean_of_each_products_best_cases(context) -> None:  # type: ignore[no-untyped-def]
    """Cases are grouped by product and partitioned in place; the score must still be
    case_weight x mean(top similarities to that product's cases) + the description part."""
    ids = context.clients.index.to_numpy(dtype=np.int64)[:25]
    content = ContentSource().fit(context)
    vecs, has = context.text.client_vectors(context.frames.commissions, ids, context.cutoff)
    sim = context.text.similarity(vecs, content.case_vectors_)
    desc = context.text.similarity(vecs, context.text.products())
    want = np.zeros((len(ids), len(content.codes_)))
    for j, code in enumerate(content.codes_):
        cols = np.flatnonzero(content.case_products_ == code)
        top = np.sort(sim[:, cols], axis=1)[:, -content.top :] if len(cols) else None
        case = top.mean(axis=1) if top is not None else 0.0
        row = content.product_rows_[j]
        text = desc[:, row] if row >= 0 else 0.0
        want[:, j] = content.case_weight * case + (1 - content.case_weight) * text
    want[~has] = np.nan
    np.testing.assert_allclose(content.scores(ids), want, rtol=1e-5, equal_nan=True)


def test_look_alike_scores_are_each_clients_weighted_mean_of_its_buyers(context) -> None:  # type: ignore[no-untyped-def]
    """All clients at once, as the per-client loop they replace: the neighbours'
    purchases weighted by similarity, neighbours that are no buyer (or padding) left
    out, and no score for a client without a weighted neighbour."""
    ids = context.clients.index.to_numpy(dtype=np.int64)
    look = LookAlikeSource().fit(context)
    got = look.scores(ids)
    nbr, sims = look.neighbours(ids)
    where = {int(b): j for j, b in enumerate(look.buyers_)}
    for i in range(len(ids)):
        pairs = zip(nbr[i].tolist(), sims[i].tolist(), strict=True)
        ok = [(where[c], w) for c, w in pairs if c in where]
        total = sum(w for _, w in ok)
        if total <= 0:
            assert np.isnan(got[i]).all()
            continue
        want = sum(w * look.bought_[j] for j, w in ok) / total
        np.testing.assert_allclose(got[i], want, rtol=1e-9, atol=1e-12)
    assert np.isfinite(got).any(axis=1).mean() > 0.5  # most clients have buyers near them


def test_live_look_alike_is_the_comparison_the_ranker_was_trained_on(settings) -> None:  # type: ignore[no-untyped-def]
    """Serving (a live context with a semantic layer) finds the same neighbours and
    scores as the ranker's training rows at the same cutoff: recent buyers by
    point-in-time vectors and profile, not the semantic index's nearest clients."""
    from recsvc.recommend.context import build_context
    from recsvc.semantic import FakeEmbedder, build_semantic

    history = make_history(n_per_group=20)
    layer = build_semantic(history, settings, FakeEmbedder())
    ids = history.clients["client_id"].to_numpy(dtype=np.int64)
    cutoff = history.commissions["commissioned_on"].max() + np.timedelta64(1, "D")
    live = build_context(history, cutoff, semantic=layer, with_features=False, live=True)
    past = build_context(
        history, cutoff, semantic=layer, text=live.text, with_features=False, live=False
    )
    served, trained = LookAlikeSource().fit(live), LookAlikeSource().fit(past)
    got, want = served.neighbours(ids), trained.neighbours(ids)
    assert (got[0] >= 0).any()
    assert (got[0] == want[0]).all()
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(served.scores(ids), trained.scores(ids))
    # every neighbour is a recent buyer (the index's nearest clients mostly are not)
    assert np.isin(got[0][got[0] >= 0], served.buyers_).all()


@pytest.mark.parametrize("weight", [0.5, 0.3, 1.0])
def test_fused_similarity_is_the_weighted_sum_of_the_clipped_channels(weight: float) -> None:
    """``w * max(dense, 0) + (1 - w) * max(lexical, 0)``; a pair where either side has
    no dense vector (an unreadable text) keeps its lexical similarity alone."""
    from sklearn.preprocessing import normalize

    from recsvc.recommend.text import TextSpace
    from recsvc.recommend.vectors import Vectors

    rng = np.random.default_rng(3)

    def block(n: int, unreadable: list[int]) -> Vectors:
        dense = normalize(rng.normal(size=(n, 16))).astype(np.float32)
        dense[unreadable] = 0.0
        return Vectors(dense, normalize(rng.normal(size=(n, 8))).astype(np.float32))

    a, b = block(40, [3, 17]), block(30, [0, 29])
    lexical = np.maximum(a.lexical.astype(float) @ b.lexical.T, 0)
    dense = np.maximum(a.dense.astype(float) @ b.dense.T, 0)
    want = weight * dense + (1 - weight) * lexical
    want[[3, 17]] = lexical[[3, 17]]
    want[:, [0, 29]] = lexical[:, [0, 29]]
    got = TextSpace(dense_weight=weight).similarity(a, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-6)
    lexical_only = TextSpace(dense_weight=weight).similarity(Vectors(None, a.lexical), b)
    np.testing.assert_allclose(lexical_only, lexical, atol=1e-6)


def _with_unreadable(context):  # type: ignore[no-untyped-def]
    """Client vectors of ``context`` where every fifth has no dense part (a text the
    embedder cannot read), as the text space gives them."""
    ids = context.clients.index.to_numpy(dtype=np.int64)
    vecs, _ = context.text.client_vectors(context.frames.commissions, ids, context.cutoff)
    assert vecs.dense is not None
    vecs.dense[::5] = 0.0
    return vecs


def test_pair_similarity_is_the_similarity_of_those_pairs(dense_context) -> None:  # type: ignore[no-untyped-def]
    vecs = _with_unreadable(dense_context)
    text = dense_context.text
    cols = np.random.default_rng(0).integers(0, len(vecs), (len(vecs), 9))
    whole = text.similarity(vecs, vecs)
    want = np.take_along_axis(whole, cols, axis=1)
    np.testing.assert_allclose(text.pair_similarity(vecs, vecs, cols), want, rtol=1e-5, atol=1e-6)


def test_search_vectors_meet_as_the_unclipped_similarity(dense_context) -> None:  # type: ignore[no-untyped-def]
    """Their inner product is the similarity wherever no channel is below zero, also
    between a vector with a dense part and one without."""
    vecs = _with_unreadable(dense_context)
    text = dense_context.text
    q = text.search_vectors(vecs)
    ip = q @ q.T
    lex = vecs.lexical @ vecs.lexical.T
    dense = vecs.dense @ vecs.dense.T
    no_dense = ~np.any(vecs.dense != 0, axis=1)
    both_read = ~no_dense[:, None] & ~no_dense[None, :]
    # pairs the similarity compares on both channels, neither clipped; and pairs of one
    # readable and one unreadable vector (lexical alone, not clipped)
    fused = both_read & (lex >= 0) & (dense >= 0)
    mixed = (no_dense[:, None] ^ no_dense[None, :]) & (lex >= 0)
    assert fused.sum() > 100 and mixed.sum() > 100
    whole = text.similarity(vecs, vecs)
    np.testing.assert_allclose(ip[fused], whole[fused], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ip[mixed], whole[mixed], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("profile_weight", [0.1, 1.0])
def test_few_candidates_still_find_the_neighbours(context, monkeypatch, profile_weight) -> None:  # type: ignore[no-untyped-def]
    """The search scores only a few candidates per neighbour, found without the
    similarity's clipping; with fewer candidates than buyers it still finds what
    comparing every client with every buyer finds, for nearly every client. Kinds and
    fields are shuffled and weigh heavily: the search must weigh them as the score
    does, not find the text's neighbours."""
    history = context.history
    shuffled = history.clients.copy()
    rng = np.random.default_rng(5)
    for col in ("kind", "industry_field"):
        shuffled[col] = rng.permutation(shuffled[col].to_numpy())
    context = build_context(
        replace(history, clients=shuffled),
        context.cutoff,
        text=context.text,
        with_features=False,
    )
    ids = context.clients.index.to_numpy(dtype=np.int64)
    look = LookAlikeSource(n_neighbours=5, profile_weight=profile_weight).fit(context)
    monkeypatch.setattr(sources, "CANDIDATES", len(look.buyers_))  # every buyer
    whole = look.neighbours(ids)
    for candidates in (4, 1):  # 21 and 6 of the 60 buyers
        monkeypatch.setattr(sources, "CANDIDATES", candidates)
        assert len(look.buyers_) > sources.CANDIDATES * 5 + 1
        few = look.neighbours(ids)
        same = (few[0] == whole[0]).all(axis=1)
        assert same.mean() >= 0.9, same.mean()


def test_a_refitted_source_searches_its_new_buyers(context) -> None:  # type: ignore[no-untyped-def]
    """The buyers' search rows are built at the first search; fitting again at another
    cutoff (the buyers' point-in-time vectors moved) must not keep those of the first
    fit (with 9 candidates of 60 buyers, stale rows find other candidates)."""
    ids = context.clients.index.to_numpy(dtype=np.int64)
    earlier = context.at(context.cutoff - np.timedelta64(700, "D"))
    look = LookAlikeSource(n_neighbours=2).fit(context)  # 9 candidates of 60
    look.neighbours(ids)
    look.fit(earlier)
    fresh = LookAlikeSource(n_neighbours=2).fit(earlier)
    assert not np.array_equal(fresh.buyer_search_, LookAlikeSource().fit(context).buyer_search_)
    got, want = look.neighbours(ids), fresh.neighbours(ids)
    assert (got[0] == want[0]).all()
    np.testing.assert_array_equal(got[1], want[1])
