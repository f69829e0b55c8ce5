"""The recommender on the demo data (``tests/fixtures_demo.py``): temporal holdout,
worklist and portal output of a trained version."""

from __future__ import annotations

import numpy as np
import pytest

from recsvc.config import Settings
from recsvc.recommend import worklist
from recsvc.serving.recommender import open_recommender
from recsvc.store.enums import Surface
from recsvc.store.frames import Frames
from training.recommend_eval import evaluate, format_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def table(demo_frames: Frames, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("eval")
    settings = Settings(environment="test", data_dir=tmp, models_dir=tmp / "models")
    out = evaluate(settings, demo_frames, None, out_dirs=[tmp / "plots"])
    print("\n" + format_table(out))
    for lang in ("zh", "en"):
        assert (tmp / "plots" / f"recommend_eval.{lang}.png").stat().st_size > 1000
    return out


def test_full_recommender_beats_every_baseline(table) -> None:  # type: ignore[no-untyped-def]
    full = table.loc["full"]
    for base in ("popularity", "content", "random", "sources"):
        assert full["ndcg5"] > table.loc[base, "ndcg5"], base
        assert full["map5"] > table.loc[base, "map5"], base
    assert full["coverage"] >= 0.5


def test_ndcg_is_one_and_a_half_times_popularity(table) -> None:  # type: ignore[no-untyped-def]
    """Issue 5's target, on the 12-month temporal holdout with the same business rules
    for every method (1.69x on the 2000-client demo; docs/recommender.md)."""
    assert table.loc["full", "ndcg5"] >= 1.5 * table.loc["popularity", "ndcg5"]


def test_worklist_and_portal_on_demo_data(demo_frames: Frames, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(environment="test", data_dir=tmp_path)
    rec = open_recommender(settings, None, None, None, frames=demo_frames)
    rows = worklist(rec, limit=10)
    assert len(rows) == 10 and all(r.reason_zh and r.product_code for r in rows)
    value = [r.expected_value or 0.0 for r in rows]
    assert list(np.argsort([-v for v in value], kind="stable")) == list(range(10))
    cid = rows[0].client_id
    portal = rec.recommend(cid, Surface.PORTAL, k=5)
    others = demo_frames.clients[demo_frames.clients["client_id"] != cid]
    names = {n for n in [*others["name_zh"].dropna(), *others["name_en"].dropna()] if len(n) >= 4}
    for r in portal:
        for text in (*r.reasons_zh, *r.reasons_en):
            assert not [n for n in names if n in text]
