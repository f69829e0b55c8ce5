"""An offer's similar case: the product's past cases most like the trigger commission in
the explainer's text space, decoded once from the semantic index's case documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsvc.recommend.case_search import CASES_PER_PRODUCT, MIN_CASE_SIM, closest_cases
from recsvc.recommend.cases import CaseFinder
from recsvc.recommend.service import Recommender
from recsvc.semantic import FakeEmbedder, SemanticLayer, build_semantic
from recsvc.serving.recommender import open_recommender
from tests.test_recommend_service import _settings
from tests.test_recommend_synth import make_history


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recommender, SemanticLayer]:
    tmp = tmp_path_factory.mktemp("cases")
    frames = make_history()
    layer = build_semantic(frames, _settings(tmp), FakeEmbedder())
    return open_recommender(_settings(tmp), None, layer, None, frames=frames), layer


def _triggers(rec: Recommender) -> tuple[np.ndarray, np.ndarray]:
    """Every commission of the snapshot with its client."""
    comm = rec.context.history.commissions
    return (
        comm["commission_id"].to_numpy(np.int64),
        comm["client_id"].to_numpy(np.int64),
    )


@pytest.mark.parametrize("some_citable", [False, True])
def test_closest_cases_are_each_products_best_other_clients_cases(
    served: tuple[Recommender, SemanticLayer], some_citable: bool
) -> None:
    """Against the whole similarity matrix: per commission and product, the
    ``CASES_PER_PRODUCT`` most similar citable cases of other clients, best first over
    all products, none below ``MIN_CASE_SIM``, with the similarity as their score."""
    rec, _ = served
    cases = rec.explainer.lookups.case_base
    assert cases is not None and len(cases.spans) > 1
    text = rec.context.text
    ids, owners = _triggers(rec)
    citable = np.random.default_rng(3).random(len(cases.case_ids)) < 0.5
    found = closest_cases(text, cases, ids, owners, citable if some_citable else None)
    sims = text.similarity(text.commissions(ids), cases.vectors)
    row_of = {key: i for i, key in enumerate(cases.case_ids.tolist())}
    allowed = citable if some_citable else np.ones(len(citable), dtype=bool)
    for i, hits in enumerate(found):
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
        rows = [row_of[key] for key, _ in hits]
        assert all(cases.clients[r] != owners[i] for r in rows)  # never the client's own
        for code, (a, b) in cases.spans.items():
            mine = [(r, s) for r, (_, s) in zip(rows, hits, strict=True) if a <= r < b]
            others = [
                (r, sims[i, r]) for r in range(a, b) if cases.clients[r] != owners[i] and allowed[r]
            ]
            want = sorted((s for _, s in others), reverse=True)[:CASES_PER_PRODUCT]
            cited = [s for s in want if s >= MIN_CASE_SIM]
            assert [s for _, s in mine] == pytest.approx(cited, abs=1e-6)
            for r, s in mine:
                assert s == pytest.approx(sims[i, r], abs=1e-6), code
    assert sum(map(len, found)) > len(found), "too few hits to prove anything"


def test_hits_found_in_batches_are_those_found_alone_and_decoded_once(
    served: tuple[Recommender, SemanticLayer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches that cite the same cases give each trigger the hits one trigger
    alone gets; a recording finder decodes none of the cases the first batch recorded."""
    rec, layer = served
    lookups = rec.explainer.lookups
    ids, owners = _triggers(rec)
    batched, alone = (CaseFinder(layer, lookups.closest_cases) for _ in range(2))
    batched.record()
    decoded: list[list] = []
    many = layer.docs["cases"].many
    monkeypatch.setattr(
        layer.docs["cases"], "many", lambda keys: decoded.append(list(keys)) or many(keys)
    )
    half = len(ids) // 2
    pairs = list(zip(ids.tolist(), owners.tolist(), strict=True))
    batched.prefetch(pairs[:half])
    batched.prefetch(pairs[half:])
    assert len(decoded) == 2 and decoded[0]
    assert not set(decoded[0]) & set(decoded[1])
    again = {key for t, o in pairs[half:] for key, *_ in batched.hits(t, o)}
    assert again & set(decoded[0]), "the batches share cases, so the reuse is exercised"
    for t, o in pairs:
        assert batched.hits(t, o) == alone.hits(t, o)
    assert batched.recorded is not None and len(batched.recorded) == len(set(ids.tolist()))


def test_a_case_the_index_does_not_hold_is_not_cited(
    served: tuple[Recommender, SemanticLayer], tmp_path: Path
) -> None:
    """A case of the case base without a document in the index (the two count cases
    differently; or imported since the index was built) is not cited; the next ones of
    its product stand in."""
    rec, _ = served
    frames = rec.context.history
    layer = build_semantic(frames, _settings(tmp_path), FakeEmbedder())
    lookups = rec.explainer.lookups
    ids, owners = _triggers(rec)
    full = CaseFinder(layer, lookups.closest_cases)
    t, o = next(
        (t, o) for t, o in zip(ids.tolist(), owners.tolist(), strict=True) if full.hits(t, o)
    )
    first = full.hits(t, o)[0]
    del layer.docs["cases"][first[0]]
    hits = CaseFinder(layer, lookups.closest_cases).hits(t, o)
    assert first[0] not in [h[0] for h in hits]

    def of_product(found: tuple) -> list[str]:
        return [h[0] for h in found if h[2] == first[2]]

    before, after = of_product(full.hits(t, o)), of_product(hits)
    assert len(before) == len(after) == CASES_PER_PRODUCT  # another case stands in


def test_without_a_semantic_layer_or_cases_nothing_is_cited(
    served: tuple[Recommender, SemanticLayer],
) -> None:
    rec, layer = served
    assert not CaseFinder(None, rec.explainer.lookups.closest_cases).hits(1, 1)
    assert not CaseFinder(layer, None).hits(1, 1)
    assert not CaseFinder(layer, None).available
