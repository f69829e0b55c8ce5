"""ScoredRanker: a fitted ranker's rows over one snapshot, computed or mapped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsvc.errors import NotReady
from recsvc.recommend.context import build_context
from recsvc.recommend.ranker import Ranker
from recsvc.recommend.scored import RANKER_FILES, ScoredRanker
from tests.test_recommend_synth import CUTOFF, make_history


@pytest.fixture(scope="module")
def fitted():  # type: ignore[no-untyped-def]
    ctx = build_context(make_history(), CUTOFF, with_features=False)
    return ctx, Ranker(n_cutoffs=3, n_estimators=40, min_child_samples=5).fit(ctx)


def test_an_unfitted_ranker_refuses_to_predict() -> None:
    ctx = build_context(make_history(n_per_group=5), CUTOFF, with_features=False)
    with pytest.raises(NotReady):
        Ranker().predict(ctx, np.array([1]))


def test_lookups_are_the_rankers_own_predictions(fitted) -> None:  # type: ignore[no-untyped-def]
    ctx, ranker = fitted
    scored = ScoredRanker(ranker).bind(ctx)
    ids = np.array([40, 3, 17], dtype=np.int64)
    direct = ranker.predict(ctx, ids)
    frame = scored.predict_frame(ids)
    np.testing.assert_array_equal(frame["proba"], direct.scores["proba"])
    np.testing.assert_array_equal(scored.feature_matrix(ids), direct.features)
    got = scored.predicted(ids, ["proba", "src_content"])
    np.testing.assert_array_equal(got["src_content"], direct.scores["src_content"])
    assert scored.scores(ids).shape == (3, len(ranker.codes_))


def test_saved_rows_are_mapped_in_snapshot_order(tmp_path: Path, fitted) -> None:  # type: ignore[no-untyped-def]
    ctx, ranker = fitted
    lazy = ScoredRanker(ranker).bind(ctx)
    ids = ctx.clients.index.to_numpy(dtype=np.int64)
    lazy.scores(ids[::-1][:5])  # some clients first, out of order
    lazy.save(tmp_path / "ranker")
    assert RANKER_FILES.open(tmp_path / "ranker", fingerprint=lazy.fingerprint()) is not None
    mapped = ScoredRanker(ranker).bind(ctx, precompute=True, saved=tmp_path / "ranker")
    computed = ScoredRanker(ranker).bind(ctx, precompute=True)
    assert mapped.mapped and not computed.mapped and not lazy.mapped
    np.testing.assert_array_equal(mapped.scores(ids), computed.scores(ids))
    # source scores are quantised to 1e-6 (pairs._quantised); a rare one on a rounding
    # edge may differ by that step between batches of other sizes, never by more
    np.testing.assert_allclose(
        mapped.feature_matrix(ids), computed.feature_matrix(ids), rtol=0, atol=1.01e-6
    )


def test_rows_of_another_snapshot_are_not_mapped(tmp_path: Path, fitted) -> None:  # type: ignore[no-untyped-def]
    ctx, ranker = fitted
    ScoredRanker(ranker).bind(ctx, precompute=True).save(tmp_path / "ranker")
    other = build_context(make_history(seed=8), CUTOFF, with_features=False)
    again = ScoredRanker(ranker).bind(other, precompute=True, saved=tmp_path / "ranker")
    assert not again.mapped
