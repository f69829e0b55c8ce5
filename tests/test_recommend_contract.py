"""One contract, run against every candidate source and the ranker (implicit-style).

The synthetic world (``test_recommend_synth``) has known right answers; each case
adds one probe client and names the product that must come first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsvc.recommend.ranker import Ranker
from recsvc.recommend.scored import ScoredRanker
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    LadderSource,
    LookAlikeSource,
    PopularInSegmentSource,
    PopularSource,
    PurposeSource,
    RandomSource,
    SourceChain,
)
from tests.test_recommend_synth import CUTOFF, add_client, make_context, make_history

VACCINE = [("猪瘟疫苗研制", "Swine fever vaccine development")]
PATENT = [("高熵合金涂层制备方法", "High-entropy alloy coating preparation method")]


def _probe(name: str):  # type: ignore[no-untyped-def]
    """(frames, probe client id, acceptable first products) for each known answer."""
    h = make_history()
    if name == "content":
        f, cid = add_client(h, kind="enterprise", field=None, titles=VACCINE)
        return f, cid, {"trend_analysis", "thematic_database"}
    if name == "look-alike":
        f, cid = add_client(
            h,
            kind="enterprise",
            field="environment",
            titles=[("农村污水MBBR处理工艺", "Rural sewage treatment with MBBR process")],
        )
        return f, cid, {"literature_patent_analysis", "competitor_intelligence"}
    if name == "ladder":
        f, cid = add_client(
            h,
            kind="university",
            field="materials",
            titles=[("无关标题", "Unrelated title")],
            orders=(("patent_analysis", pd.Timestamp("2023-11-01")),),
        )
        return f, cid, {"patent_navigation"}
    if name == "purpose":
        f, cid = add_client(
            h,
            kind="university",
            field=None,
            titles=[("一种装置", "A device")],
            purpose="patent_application",
        )
        return f, cid, {"patent_analysis"}
    if name == "popular-in-segment":
        f, cid = add_client(h, kind="university", field="materials", titles=[("x", "x")])
        return f, cid, {"patent_analysis", "patent_navigation"}
    if name == "ranker":
        f, cid = add_client(h, kind="enterprise", field="agriculture", titles=VACCINE)
        return f, cid, {"trend_analysis", "thematic_database"}
    raise KeyError(name)


SOURCES: dict[str, type[CandidateSource] | object] = {
    "content": ContentSource,
    "look-alike": LookAlikeSource,
    "ladder": LadderSource,
    "purpose": PurposeSource,
    "popular-in-segment": PopularInSegmentSource,
    "ranker": lambda: ScoredRanker(Ranker(n_cutoffs=3, n_estimators=40, min_child_samples=5)),
}


@pytest.fixture(scope="module", params=list(SOURCES))
def fitted(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    name = request.param
    frames, cid, answer = _probe(name)
    model = SOURCES[name]()  # type: ignore[operator]
    model.fit(make_context(frames, CUTOFF))
    return name, model, cid, answer


def test_returns_named_codes_and_scores_of_shape_n_by_k(fitted) -> None:  # type: ignore[no-untyped-def]
    name, model, cid, _ = fitted
    assert model.name == name
    ids = np.array([cid, 1, 2, 31], dtype=np.int64)
    codes, scores = model.recommend(ids, 4)
    assert codes.shape == (4, 4) and scores.shape == (4, 4)
    assert codes.dtype == object and scores.dtype == float
    for row_c, row_s in zip(codes, scores, strict=True):
        filled = row_c != ""
        assert np.all(np.isfinite(row_s[filled])) and np.all(row_s[~filled] == -np.inf)
        assert list(row_s[filled]) == sorted(row_s[filled], reverse=True)
        assert len(set(row_c[filled])) == filled.sum()


def test_known_right_answer_comes_first(fitted) -> None:  # type: ignore[no-untyped-def]
    name, model, cid, answer = fitted
    codes, _ = model.recommend(np.array([cid]), 3)
    assert codes[0, 0] in answer, f"{name}: {codes[0]}"


def test_exclude_set_is_respected_and_pads(fitted) -> None:  # type: ignore[no-untyped-def]
    _, model, cid, answer = fitted
    everything = set(model.codes_)
    codes, scores = model.recommend(
        np.array([cid]), 3, exclude={cid: everything - {"market_research"}}
    )
    assert set(codes[0]) <= {"market_research", ""}
    assert (scores[0][codes[0] == ""] == -np.inf).all()
    codes, _ = model.recommend(np.array([cid]), 3, exclude={cid: set(answer)})
    assert not set(codes[0]) & answer


def test_one_client_or_a_batch_give_the_same_answer(fitted) -> None:  # type: ignore[no-untyped-def]
    _, model, cid, _ = fitted
    one = model.recommend(np.array([cid]), 5)
    batch = model.recommend(np.array([3, cid, 40]), 5)
    assert list(one[0][0]) == list(batch[0][1])
    np.testing.assert_allclose(one[1][0], batch[1][1], rtol=1e-5)


def test_chain_falls_back_for_a_client_with_no_evidence() -> None:
    h = make_history(n_per_group=10)
    f, cid = add_client(h, kind="other", field=None, titles=[])
    chain = SourceChain().fit(make_context(f))
    codes, origin = chain.recommend_with_origin(np.array([cid, 1]), 5)
    assert (codes != "").all()
    assert set(origin[0]) <= {"popular", "ladder", "popular-in-segment"}
    assert "content" in set(origin[1]) or "look-alike" in set(origin[1])
    c2, _ = chain.recommend(np.array([1]), 5, exclude={1: {codes[1, 0]}})
    assert codes[1, 0] not in set(c2[0])


def test_baselines_share_the_contract() -> None:
    ctx = make_context(make_history(n_per_group=5))
    for model in (PopularSource(), RandomSource(seed=1)):
        codes, scores = model.fit(ctx).recommend(np.array([1, 2]), 3)
        assert codes.shape == scores.shape == (2, 3)


def test_a_sources_saved_columns_read_back_alike(tmp_path: Path) -> None:
    """What a source saves of its fit (numbers, dates, text) comes back equal; a text
    column with a gap is refused rather than read back as "nan"."""
    from recsvc.recommend.sources.base import save_columns, saved_columns

    frame = pd.DataFrame(
        {
            "commission_id": np.array([3, 1], dtype=np.int64),
            "product_code": pd.Series(["patent_analysis", "trend_report"], dtype="str"),
            "ordered_on": pd.to_datetime(["2024-01-02", "2024-03-04"]),
            "lift": [1.5, 0.25],
        }
    )
    save_columns(tmp_path, "cases", frame)
    pd.testing.assert_frame_equal(saved_columns(tmp_path, "cases"), frame)
    assert saved_columns(tmp_path, "other") is None and saved_columns(None, "cases") is None
    gap = frame.assign(product_code=pd.Series(["x", None], dtype="str"))
    with pytest.raises(ValueError, match="product_code"):
        save_columns(tmp_path / "gap", "cases", gap)
