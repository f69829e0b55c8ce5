"""The ranker's batch-first training data: blocks, the pair budget, the reused holdout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recsvc.features.today import business_today
from recsvc.recommend.blocks import build_block, known_clients, stack_groups
from recsvc.recommend.context import build_context
from recsvc.recommend.fitting import LocalFitter
from recsvc.recommend.ranker import Ranker
from recsvc.store.frames import Frames
from tests.conftest import make_settings
from tests.test_recommend_synth import CUTOFF, make_history
from training.ranker import make_ranker
from training.recommend_eval import evaluate


@pytest.fixture(scope="module")
def world() -> Any:
    ctx = build_context(make_history(), CUTOFF, with_features=False)
    ranker = Ranker(n_cutoffs=3, n_estimators=20, min_child_samples=5)
    ranker.codes_ = ctx.codes
    ranker.categories_ = sorted(ctx.products["category"].astype(str).unique())
    ranker.kinds_ = sorted(ctx.history.clients["kind"].astype(str).unique())
    past = ctx.at(CUTOFF - np.timedelta64(365, "D"))
    return ranker, past


def _block(world: Any, non_buyers: int) -> Any:
    ranker, ctx = world
    return build_block(
        ctx,
        ranker.fit_sources(ctx),
        codes=ranker.codes_,
        categories=ranker.categories_,
        kinds=ranker.kinds_,
        horizon_months=12,
        non_buyers=non_buyers,
    )


def test_a_block_has_client_rows_of_all_and_pair_rows_of_buyers(world: Any) -> None:
    block = _block(world, non_buyers=0)
    m = len(world[0].codes_)
    assert len(block.client) == len(block.ids) == len(known_clients(world[1]))
    assert 0 < block.n_buyers < len(block.ids)
    assert block.rows.tolist() == np.flatnonzero(block.buyer).tolist()
    assert len(block.X) == len(block.rows) * m and (block.y.sum(axis=1) > 0).all()
    assert all(block.X[c].dtype == np.float32 for c in block.X.columns)
    assert (block.weight == 1).all()


def test_sampled_non_buyers_stand_for_all_of_them(world: Any) -> None:
    block = _block(world, non_buyers=5)
    others = int((~block.buyer).sum())
    sampled = block.rows[block.n_buyers :]
    assert len(sampled) == 5 and not block.buyer[sampled].any()
    assert block.weight[block.n_buyers :] == pytest.approx(others / 5)
    assert (block.y[block.n_buyers :] == 0).all()


def test_past_the_budget_each_group_keeps_its_positives_and_some_negatives(world: Any) -> None:
    block = _block(world, non_buyers=0)
    feats = list(block.X.columns)
    cfeats = list(block.client.columns)
    whole = stack_groups([block], feats, cfeats)
    assert not whole.sampled and len(whole.X) == int(block.elig[: block.n_buyers].sum())
    budget = len(whole.X) // 2
    thin = stack_groups([block], feats, cfeats, max_rows=budget, min_negatives=2)
    assert thin.sampled and len(thin.X) < len(whole.X)
    assert thin.y.sum() == whole.y.sum()  # every positive kept
    assert len(thin.groups) == len(whole.groups) == block.n_buyers
    starts = np.r_[0, np.cumsum(thin.groups)[:-1]]
    for start, size in zip(starts, thin.groups, strict=True):
        labels = thin.y[start : start + size]
        assert (labels > 0).any() and (labels <= 0).sum() >= min(2, size - (labels > 0).sum())
    assert len(thin.client_X) == len(block.ids)  # the client model keeps every client


def test_the_budget_stops_adding_cutoffs_past_the_minimum() -> None:
    ctx = build_context(make_history(), CUTOFF, with_features=False)
    full = Ranker(n_cutoffs=6, cutoff_step_months=6, n_estimators=10, min_child_samples=5)
    small = Ranker(
        n_cutoffs=6, cutoff_step_months=6, n_estimators=10, min_child_samples=5, max_pairs=1
    )
    full.fit(ctx)
    small.fit(ctx)
    assert len(full.cutoffs_) == 6 and len(small.cutoffs_) == small.min_cutoffs == 4
    assert small.sampled_ and not full.sampled_


class CountingFitter(LocalFitter):
    """Local fits, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def ranker(self, *args: Any) -> Any:
        self.calls += 1
        return super().ranker(*args)

    def classifier(self, *args: Any) -> Any:
        self.calls += 1
        return super().classifier(*args)


def test_the_evaluation_scores_the_fits_own_holdout_model(
    demo_frames: Frames, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, backtest_cutoffs=2)
    today = business_today(demo_frames, settings)
    ctx = build_context(demo_frames, today, settings=settings)
    fitter = CountingFitter()
    ranker = make_ranker(settings, fitter).fit(ctx)
    fits = fitter.calls
    held = ranker.holdout_ranker(ranker.holdout_[2])
    assert held is not None and held.model_ is not ranker.model_
    assert ranker.holdout_ranker(ranker.holdout_[2] - np.timedelta64(1, "D")) is None
    reused = evaluate(settings, demo_frames, ranker=ranker)
    assert fitter.calls == fits  # no second fit
    refit = evaluate(settings, demo_frames, ranker=make_ranker(settings, CountingFitter()))
    assert reused.loc["full", "ndcg5"] == pytest.approx(refit.loc["full", "ndcg5"], abs=0.03)
    assert reused.loc["full", "ndcg5"] > 1.5 * reused.loc["popularity", "ndcg5"]
