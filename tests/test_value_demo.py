"""The value side on the (small) demo dataset: segments follow Table 4, the model beats RFM."""

from __future__ import annotations

import pytest

from recsvc.config import Settings
from recsvc.features import business_today, client_features
from recsvc.store.frames import Frames
from recsvc.value import STRATEGIES, assign_segments, segment_thresholds
from training.dataset import backtest_cutoffs, snapshot
from training.value import train_value


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(environment="test")


def test_segments_follow_table_4(demo_frames: Frames, settings: Settings) -> None:
    X = client_features(demo_frames, business_today(demo_frames, settings))
    seg = assign_segments(X, settings, segment_thresholds(X, settings))
    enterprise = X["kind_enterprise"] > 0
    active = seg[enterprise & ~seg.isin(["new", "dormant"])].value_counts(normalize=True)
    # seed 000 Table 4: key 40/315 ≈ 13%, potential 78/315 ≈ 25%, general > 60%
    assert 0.07 <= active.get("key", 0) <= 0.22
    assert 0.15 <= active.get("potential", 0) <= 0.35
    assert 0.45 <= active.get("general", 0) <= 0.75
    assert {"new", "dormant"} <= set(seg)
    for s in set(seg):
        assert STRATEGIES[s], s


def test_model_beats_rfm_on_demo_backtest(demo_frames: Frames, settings: Settings) -> None:
    snaps = [snapshot(demo_frames, c, settings) for c in backtest_cutoffs(demo_frames, settings)]
    result = train_value(snaps)
    m = result.metrics
    assert m["eval_cutoff"] == str(snaps[0].cutoff.date())
    # 600 clients here (2000 in the reported run, where the margin is +0.05 and lift ≥ 5)
    assert m["value"]["auc"] >= m["baselines"]["rfm"]["auc"] + 0.02
    assert m["value"]["lift@10%"] >= 3.0
    assert m["value"]["brier"] < m["baselines"]["rfm"]["brier"]


def test_train_and_score_cli_on_demo_store(demo_settings: Settings, monkeypatch) -> None:
    from typer.testing import CliRunner

    from recsvc.cli import _common, app
    from recsvc.registry import Registry
    from training.pipeline import train

    version = train(demo_settings, track=False, with_ranker=False, params={"n_estimators": 150})
    assert Registry(demo_settings.models_dir).active() == version
    for key, value in {
        "RECSVC_DATABASE_URL": demo_settings.database_url,
        "RECSVC_MODELS_DIR": str(demo_settings.models_dir),
        "RECSVC_DATA_DIR": str(demo_settings.data_dir),
    }.items():
        monkeypatch.setenv(key, value)
    _common.settings.cache_clear()
    try:
        from recsvc.store import Database, load_frames

        db = Database.from_settings(demo_settings)
        external = str(load_frames(db).clients["external_id"].iloc[0])
        db.dispose()
        runner = CliRunner()
        scored = runner.invoke(app, ["score", external])
        assert scored.exit_code == 0, scored.output
        assert "价值概率" in scored.output and "segment" in scored.output
        evaluated = runner.invoke(app, ["evaluate"])
        assert evaluated.exit_code == 0, evaluated.output
        assert "lift.zh.png" in evaluated.output
        missing = runner.invoke(app, ["score", "NO-SUCH-CLIENT"])
        assert missing.exit_code != 0
    finally:
        _common.settings.cache_clear()
