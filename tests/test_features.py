"""Point-in-time features: no leakage, no personal data, documented, vectorised."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from recsvc.features import FEATURES, STAGES, client_features, relationship_stage
from recsvc.features.vectors import commission_vectors
from recsvc.store.frames import PERSONAL_COLUMNS, Frames
from training.synthetic import synthetic_frames

CUTOFF = pd.Timestamp("2022-01-01")


class FakeSemantic:
    """Deterministic hashed bag-of-words vectors behind the ``embed`` interface."""

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.split():
                out[i, sum(map(ord, w)) % 16] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def frames() -> Frames:
    return synthetic_frames(300, seed=3)


def _truncate(f: Frames, t: pd.Timestamp) -> Frames:
    return Frames(
        clients=f.clients[f.clients["registered_on"] < t],
        commissions=f.commissions[f.commissions["commissioned_on"] < t],
        products=f.products,
        orders=f.orders[f.orders["ordered_on"] < t],
        interactions=f.interactions[f.interactions["occurred_on"] < t],
        feedback=f.feedback[f.feedback["received_on"] < t],
        complaints=f.complaints[f.complaints["opened_at"] < t],
        events=f.events,
    )


def _mutate_future(f: Frames, t: pd.Timestamp) -> Frames:
    """Change every post-cutoff row wildly (values, and rows pointing to past clients)."""
    g = Frames(**{k: v.copy() for k, v in f.tables().items()})
    late = g.commissions["commissioned_on"] >= t
    g.commissions.loc[late, ["fee", "recognition_score", "cooperation_score"]] = [1e9, -50, 99]
    g.commissions.loc[late, ["industry_type", "subject_area", "purpose"]] = "x"
    g.orders.loc[g.orders["ordered_on"] >= t, ["amount", "status"]] = [1e9, "paid"]
    g.feedback.loc[g.feedback["received_on"] >= t, "overall"] = -100.0
    g.interactions.loc[g.interactions["occurred_on"] >= t, "kind"] = "meeting"
    late_c = g.complaints["opened_at"] >= t
    g.complaints.loc[late_c, "severity"] = "critical"
    # complaints opened before T but answered after T: answer time is not known at T
    early = g.complaints["opened_at"] < t
    answered_late = early & (g.complaints["responded_at"] >= t)
    g.complaints.loc[answered_late, "responded_at"] += pd.Timedelta(days=400)
    extra = g.orders.head(50).copy()
    extra["ordered_on"] = t + pd.Timedelta(days=1)
    g.orders = pd.concat([g.orders, extra], ignore_index=True)
    return g


@pytest.mark.parametrize("semantic", [None, FakeSemantic()])
def test_no_leakage(frames: Frames, semantic: FakeSemantic | None) -> None:
    full = client_features(frames, CUTOFF, semantic)
    truncated = client_features(_truncate(frames, CUTOFF), CUTOFF, semantic)
    mutated = client_features(_mutate_future(frames, CUTOFF), CUTOFF, semantic)
    pd.testing.assert_frame_equal(full, truncated)
    pd.testing.assert_frame_equal(full, mutated)


def test_the_leakage_check_would_notice_a_change(frames: Frames) -> None:
    later = pd.Timestamp("2023-01-01")
    a = client_features(frames, later)
    b = client_features(_mutate_future(frames, CUTOFF), later)
    assert not a.equals(b)


def test_numeric_documented_and_private(frames: Frames) -> None:
    X = client_features(frames, CUTOFF, FakeSemantic())
    assert X.index.name == "client_id" and X.index.is_unique
    assert all(pd.api.types.is_float_dtype(t) for t in X.dtypes)
    assert set(X.columns) <= set(FEATURES)
    assert not PERSONAL_COLUMNS & set(X.columns)
    assert not any(c in X.columns for c in ("external_id", "name_zh", "name_en", "account_manager"))
    for doc in FEATURES.values():
        assert doc.zh and doc.en
    assert "semantic_sim_buyers" in X.columns
    assert "semantic_sim_buyers" not in client_features(frames, CUTOFF).columns
    # only clients registered before the cutoff
    known = frames.clients[frames.clients["registered_on"] < CUTOFF]["client_id"]
    assert set(X.index) == set(known)


def test_rfm_values_against_hand_computation(frames: Frames) -> None:
    X = client_features(frames, CUTOFF)
    cm = frames.commissions[frames.commissions["commissioned_on"] < CUTOFF]
    cid = cm["client_id"].value_counts().idxmax()
    mine = cm[cm["client_id"] == cid]
    row = X.loc[cid]
    assert row["n_commissions"] == len(mine)
    assert row["fee_total"] == pytest.approx(mine["fee"].sum())
    assert row["months_since_last_commission"] == pytest.approx(
        (CUTOFF - mine["commissioned_on"].max()).days / 30.4375
    )
    in12 = mine["commissioned_on"] >= CUTOFF - pd.Timedelta(days=365.25)
    assert abs(row["n_commissions_12m"] - in12.sum()) <= 1  # month arithmetic at the edge


def test_complaint_targets_by_severity() -> None:
    f = synthetic_frames(60, seed=1)
    cp = f.complaints.head(3).copy()
    cid = int(f.clients["client_id"].iloc[0])
    opened = pd.Timestamp("2021-06-01 09:00")
    cp["client_id"] = cid
    cp["severity"] = ["general", "serious", "critical"]
    cp["opened_at"] = opened
    cp["responded_at"] = opened + pd.to_timedelta([40, 30, 9], unit="h")  # met, missed, missed
    f.complaints = cp
    f.clients.loc[f.clients["client_id"] == cid, "registered_on"] = pd.Timestamp("2015-01-01")
    row = client_features(f, CUTOFF).loc[cid]
    assert row["complaint_on_time_rate"] == pytest.approx(1 / 3)
    assert row["n_complaints_missed_target"] == 2
    assert row["n_complaints_severe_24m"] == 2


def test_relationship_stage_rules() -> None:
    X = pd.DataFrame(
        {
            "n_commissions": [0, 1, 3, 6, 2, 4],
            "n_purchases": [0, 0, 0, 1, 2, 0],
            "months_since_last_activity": [np.nan, 3, 3, 3, 3, 30],
        }
    )
    got = [STAGES[c] for c in relationship_stage(X)]
    assert got == [
        "awareness",
        "exploration",
        "expansion",
        "commitment",
        "commitment",
        "dissolution",
    ]


def test_vectorised_speed() -> None:
    f = synthetic_frames(8000, seed=5)
    t = time.perf_counter()
    X = client_features(f, CUTOFF)
    assert len(X) > 4000
    assert time.perf_counter() - t < 5.0


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
    vecs = commission_vectors(semantic, comm)
    assert len(semantic.embedded) == 1 and "猪瘟疫苗" in semantic.embedded[0]
    np.testing.assert_array_equal(vecs[0], stored[1])
    np.testing.assert_array_equal(vecs[1], np.ones(4))
    np.testing.assert_array_equal(vecs[2], stored[3])
