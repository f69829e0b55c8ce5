"""Value model (trainer, calibration, explanations, artifact), segments, ValueService."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsvc.config import Settings
from recsvc.features import FEATURES, STAGES
from recsvc.value import (
    SEGMENT_LABELS,
    SEGMENTS,
    STRATEGIES,
    ValueModel,
    ValueService,
    assign_segments,
    segment_thresholds,
)
from recsvc.value.model import apply_calibrator
from training.clv import fit_clv
from training.dataset import backtest_cutoffs, labels, snapshot, stack
from training.metrics import roc_auc
from training.synthetic import synthetic_frames
from training.value_trainer import ValueTrainer, fit_calibrator

FAST = {"n_estimators": 150, "learning_rate": 0.08, "num_leaves": 7, "min_child_samples": 20}


@pytest.fixture(scope="module")
def world() -> dict:
    frames = synthetic_frames(900, seed=4)
    settings = Settings(environment="test", backtest_cutoffs=3)
    snaps = [snapshot(frames, c, settings) for c in backtest_cutoffs(frames, settings)]
    X, y = stack(snaps[2:])
    trainer = ValueTrainer(**FAST).fit(X, y, snaps[1].X, snaps[1].y)
    return {"frames": frames, "settings": settings, "snaps": snaps, "trainer": trainer}


def test_trainer_learns_and_calibrates(world: dict) -> None:
    ev = world["snaps"][0]
    p = world["trainer"].predict_proba(ev.X)
    assert p.shape == (len(ev.X),) and ((p >= 0) & (p <= 1)).all()
    assert roc_auc(ev.y, p) > 0.8
    # calibrated: mean probability close to the observed rate at a later cutoff
    assert p.mean() == pytest.approx(ev.y.mean(), abs=0.05)


def test_generic_xy_without_calibration_set() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 5)), columns=list("abcde"))
    y = (rng.random(2000) < 1 / (1 + np.exp(-(2 * X["a"] - X["b"])))).astype(int)
    trainer = ValueTrainer(**FAST).fit(X, y)
    assert trainer.model_.info["n_calibration"] == 400
    assert roc_auc(y, trainer.predict_proba(X)) > 0.8
    assert trainer.model_.calibrator["method"] == "sigmoid"


def test_calibrators() -> None:
    rng = np.random.default_rng(1)
    margin = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.5 * margin - 1)))).astype(int)
    sig = fit_calibrator(margin, y, "sigmoid")
    assert sig["a"] == pytest.approx(0.5, abs=0.15) and sig["b"] == pytest.approx(-1, abs=0.15)
    iso = fit_calibrator(margin, y, "isotonic")
    p = apply_calibrator(iso, margin)
    assert np.all(np.diff(p[np.argsort(margin)]) >= -1e-12)
    assert p.mean() == pytest.approx(y.mean(), abs=0.01)


def test_explain_bilingual_and_consistent(world: dict) -> None:
    model = world["trainer"].model_
    X = world["snaps"][0].X
    row = X.iloc[[int(np.argmax(model.predict(X)))]]
    reasons = model.explain(row, k=3)
    ups = [r for r in reasons if r.contribution > 0]
    downs = [r for r in reasons if r.contribution < 0]
    assert 1 <= len(ups) <= 3 and len(downs) <= 3
    assert [r.contribution for r in ups] == sorted((r.contribution for r in ups), reverse=True)
    for r in reasons:
        assert r.feature in FEATURES
        assert r.text_zh and r.text_en and r.text_zh != r.text_en
        assert ("提高" in r.text_zh) == (r.contribution > 0)
        assert ("raises" in r.text_en) == (r.contribution > 0)
    # contributions add up to the raw margin (what pred_contrib promises)
    contrib = model.contributions(row)
    assert contrib.sum(axis=1).iloc[0] == pytest.approx(model.margin(row)[0], abs=1e-6)


def test_artifact_roundtrip(world: dict, tmp_path: Path) -> None:
    model = world["trainer"].model_
    X = world["snaps"][0].X
    loaded = ValueModel.load(model.save(tmp_path / "value"))
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    # missing columns are tolerated (NaN), extra ones ignored
    partial = X.drop(columns=["rd_strength"]).assign(extra_col=1.0)
    assert loaded.predict(partial).shape == (len(X),)
    assert (tmp_path / "value" / "config.json").exists()


def test_labels_follow_the_horizon_and_threshold() -> None:
    frames = synthetic_frames(200, seed=9)
    od = frames.orders[frames.orders["status"].isin(["paid", "delivered"])]
    t = pd.Timestamp("2021-01-01")
    y = labels(frames, t, Settings(environment="test"))
    window = od[(od["ordered_on"] >= t) & (od["ordered_on"] < t + pd.DateOffset(months=12))]
    assert set(y[y == 1].index) == set(window["client_id"])
    big = labels(frames, t, Settings(environment="test", high_value_spend_threshold=30000))
    spend = window.groupby("client_id")["amount"].sum()
    assert set(big[big == 1].index) == set(spend[spend > 30000].index)


def test_every_segment_has_bilingual_actions() -> None:
    assert set(STRATEGIES) == set(SEGMENTS) == set(SEGMENT_LABELS)
    for segment, actions in STRATEGIES.items():
        assert actions, segment
        for a in actions:
            assert a.code and a.name_zh and a.name_en and a.item_code == f"action:{a.code}"
    key = {a.code for a in STRATEGIES["key"]}
    assert key == {"fixed_contact", "onsite_training", "return_visit", "service_agreement"}
    assert {a.code for a in STRATEGIES["potential"]} >= {"product_push", "holiday_greeting"}
    assert [a.code for a in STRATEGIES["general"]] == ["watch"]


def test_segment_rules() -> None:
    s = Settings(environment="test")
    f = pd.DataFrame(
        {
            "rd_strength": [9, 9, 5, 9, 1, 5, 9, 9],
            "loyalty_score": [9, 5, 9, 1, 9, 5, 9, 9],
            "n_commissions": [5, 5, 5, 5, 5, 5, 1, 5],
            "months_since_first_commission": [60, 60, 60, 60, 60, 60, 3, 60],
            "months_since_last_activity": [2, 2, 2, 2, 2, 2, 3, 30],
            "months_since_registration": [70] * 8,
        }
    )
    th = {"rd_strong": 8, "rd_average": 4, "loyalty_high": 8, "loyalty_average": 4}
    got = assign_segments(f, s, th).tolist()
    assert got == [
        "key",
        "potential",
        "potential",
        "general",
        "general",
        "general",
        "new",
        "dormant",
    ]


def test_segment_shares_on_synthetic(world: dict) -> None:
    s = world["settings"]
    X = world["snaps"][0].X
    th = segment_thresholds(X, s)
    seg = assign_segments(X, s, th)
    active = seg[~seg.isin(["new", "dormant"])].value_counts(normalize=True)
    assert 0.05 < active["key"] < 0.25
    assert 0.10 < active["potential"] < 0.40
    assert active["general"] > 0.40


def test_value_service(world: dict, tmp_path: Path) -> None:
    frames, settings = world["frames"], world["settings"]
    folder = tmp_path / "v1"
    world["trainer"].model_.save(folder / "value")
    today = pd.Timestamp("2026-01-01")
    fit_clv(frames, today, 52.18).save(folder / "clv")
    svc = ValueService.load(folder, settings)
    scores = svc.score_frames(frames, today)
    assert {"probability", "segment", "stage", "expected_commissions_12m", "p_alive"} <= set(
        scores.columns
    )
    assert set(scores["stage"]) <= set(STAGES) and set(scores["segment"]) <= set(SEGMENTS)
    cid = int(scores["probability"].idxmax())
    one = svc.explain_client(frames, cid, today)
    assert one.probability == pytest.approx(scores.loc[cid, "probability"])
    assert one.actions == STRATEGIES[one.segment] and one.reasons
    d = one.as_dict()
    assert d["segment_zh"] and d["stage_en"] and d["reasons"][0]["text_zh"]


def test_value_service_answers_for_a_features_frame(world: dict, tmp_path: Path) -> None:
    """The recommender takes probabilities and segments from the loaded service, so the
    version's value model is read once; they equal what scoring gives."""
    frames, settings = world["frames"], world["settings"]
    folder = tmp_path / "v1"
    world["trainer"].model_.save(folder / "value")
    svc = ValueService.load(folder, settings)
    today = pd.Timestamp("2026-01-01")
    feats = svc.features(frames, today)
    p = svc.probabilities(feats)
    assert p.index.equals(feats.index) and p.between(0, 1).all()
    again = ValueModel.load(folder / "value").predict(feats)
    assert np.allclose(p.to_numpy(), np.asarray(again, dtype=float))
    assert svc.segments(feats).equals(assign_segments(feats, settings, None))
    scored = svc.score(feats)
    assert np.allclose(scored["probability"], p) and scored["segment"].equals(svc.segments(feats))


def test_business_today_is_the_as_of_date_or_the_day_after_the_data(world: dict) -> None:
    from recsvc.features.today import business_today

    frames = world["frames"]
    latest = pd.Timestamp(frames.latest_date)
    day_after = latest.normalize() + pd.Timedelta(days=1)
    assert business_today(frames) == day_after
    assert business_today(frames, Settings(environment="test")) == day_after
    fixed = Settings(environment="test", as_of_date="2024-03-05")
    assert business_today(frames, fixed) == pd.Timestamp("2024-03-05")
