"""Train the next-best-service ranker for a model version (called by ``training.pipeline``).

Example:
    >>> metrics = train(settings, frames, semantic, version_dir)   # doctest: +SKIP
    >>> sorted(metrics)[:2]                                         # doctest: +SKIP
    ['eval_full_ndcg5', 'eval_popularity_ndcg5']
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.config import Settings
from recsvc.features.today import business_today
from recsvc.recommend.context import build_context
from recsvc.recommend.fitting import BoosterFitter
from recsvc.recommend.ranker import Ranker
from recsvc.store.frames import Frames
from recsvc.value import ValueService

log = logging.getLogger(__name__)


def make_ranker(settings: Settings, fitter: BoosterFitter | None = None) -> Ranker:
    """The ranker with the project's settings (cutoffs, horizon, pair budget).

    LightGBM gets one thread: on this project's 2-core machines two threads ran 5-7x
    slower than one whenever anything else was running.
    """
    return Ranker(
        n_cutoffs=2 * max(2, settings.backtest_cutoffs),
        horizon_months=settings.horizon_months,
        cutoff_step_months=6,
        n_jobs=1,
        max_pairs=settings.ranker_max_pairs or None,
        fitter=fitter,
    )


def train(
    settings: Settings,
    frames: Frames,
    semantic: Any,
    version_dir: Path,
    progress: bool = False,
    *,
    evaluate: bool = True,
    known_features: Callable[[pd.Timestamp], pd.DataFrame | None] | None = None,
    fitter: BoosterFitter | None = None,
    step: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Fit the ranker on the full history, save it to ``version_dir / "ranker"``.

    With ``evaluate`` the temporal-holdout evaluation (``training.recommend_eval``)
    runs too, with the ranker as it stood before its held-out cutoff (no second fit);
    its table and plot go to the version folder and ``settings.reports_dir``.

    ``known_features`` gives client features at a cutoff when the caller computed them
    already (the pipeline's of today); ``fitter`` fits the LightGBM models (on a cluster);
    ``step`` is told when the evaluation starts (the pipeline times its steps).

    Returns:
        Flat metrics: the ranker's held-out calibration metrics and, with
        ``evaluate``, NDCG@5 / recall@5 / MAP@5 / coverage per method.
    """
    version_dir = Path(version_dir)
    has_value = (version_dir / "value" / "model.txt").exists()
    value = ValueService.load(version_dir, settings) if has_value else None
    cutoff = business_today(frames, settings)
    today_features = known_features(cutoff) if known_features else None
    ctx = build_context(
        frames, cutoff, semantic=semantic, settings=settings, value=value, features=today_features
    )
    ctx.extras["value"] = value
    ranker = make_ranker(settings, fitter).fit(ctx, known_features=known_features)
    summary = {
        "as_of": str(cutoff.date()),
        "clients": len(frames.clients),
        "orders": len(frames.orders),
        "events": len(frames.events),
        "semantic": semantic is not None,
        "value_probability": ctx.value_proba is not None,
        "pairs_sampled": bool(getattr(ranker, "sampled_", False)),
    }
    ranker.save(version_dir / "ranker", data=summary, version=version_dir.name)
    metrics = {k: round(float(v), 6) for k, v in ranker.metrics_.items()}
    log.info("ranker trained on cutoffs %s: %s", ranker.cutoffs_, metrics)
    if evaluate:
        from training.recommend_eval import evaluate as run_eval

        if step is not None:
            step("ranker evaluation")
        table = run_eval(
            settings,
            frames,
            semantic,
            out_dirs=[version_dir / "plots"],
            version=version_dir.name,
            value=value,
            ranker=ranker,
            known_features=known_features,
        )
        for method, row in table.iterrows():
            for col in ("ndcg5", "recall5", "map5", "coverage"):
                metrics[f"eval_{method}_{col}"] = round(float(row[col]), 6)
    return metrics
