"""Similar commissions (and cases) of a stored commission: hybrid, so Chinese-only works.

The packaged model is English: a Chinese-only text is mostly ``[UNK]`` to it, so every
Chinese-only commission gets nearly the same vector and a dense-only search is blind
among them. :class:`_EnglishBlind` imitates that with the FakeEmbedder (CJK tokens are
invisible to it, and it says so through ``coverage``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recsvc.config import Settings
from recsvc.errors import NotFound
from recsvc.semantic import FakeEmbedder, SemanticLayer, build_semantic
from recsvc.semantic.documents import Doc, mark_coverage
from recsvc.semantic.sample import sample_frames
from recsvc.semantic.text import has_cjk, tokenize
from recsvc.store.frames import Frames

MAGNETS = {602, 603}  # share 稀土永磁 / 钕铁硼 / 晶界扩散 with 601
DECOYS = {604, 605}  # Chinese-only too, about something else

_CHINESE_ONLY = [
    # commission_id, client_id, external_id, title_zh, keywords
    (601, 4, "N-601", "稀土永磁材料晶界扩散工艺查新", "稀土永磁; 晶界扩散; 钕铁硼"),
    (602, 5, "N-602", "烧结钕铁硼磁体矫顽力提升技术", "钕铁硼; 矫顽力; 稀土永磁"),
    (603, 3, "N-603", "重稀土晶界扩散钕铁硼磁体", "晶界扩散; 重稀土; 永磁体"),
    (604, 1, "N-604", "中药材种植土壤重金属检测", "中药材; 重金属; 土壤检测"),
    (605, 2, "N-605", "城市道路沥青路面养护技术", "沥青路面; 养护; 道路"),
]


class _EnglishBlind(FakeEmbedder):
    """Sees Latin words only, like the English model; reports how much it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.model_id = "fake-english-blind"

    def encode(self, texts, *, progress: bool = False) -> np.ndarray:  # type: ignore[override]
        latin = [" ".join(t for t in tokenize(x) if not has_cjk(t)) for x in texts]
        return super().encode(latin, progress=progress)

    def coverage(self, text: str) -> float:
        """Share of letters that are not CJK (the real model: about 0.5 on a bilingual
        commission, below it on a Chinese-only one)."""
        letters = [c for c in text if c.isalpha()]
        return sum(not has_cjk(c) for c in letters) / len(letters) if letters else 0.0


def _with_chinese_only(frames: Frames) -> Frames:
    rows = pd.DataFrame(
        [
            {
                "commission_id": cid,
                "client_id": client,
                "external_id": ext,
                "title_zh": title,
                "title_en": "",
                "keywords": kw,
                "commissioned_on": pd.Timestamp("2023-05-01"),
                "completed_on": pd.Timestamp("2023-05-21"),
                "subject_area": None,
            }
            for cid, client, ext, title, kw in _CHINESE_ONLY
        ]
    )
    return replace(frames, commissions=pd.concat([frames.commissions, rows], ignore_index=True))


@pytest.fixture
def blind_layer(settings: Settings) -> SemanticLayer:
    return build_semantic(_with_chinese_only(sample_frames()), settings, _EnglishBlind())


def test_chinese_only_commission_finds_those_sharing_its_chinese_terms(
    blind_layer: SemanticLayer,
) -> None:
    hits = blind_layer.similar_commission_hits(601, k=4)
    assert {h.id for h in hits[:2]} == MAGNETS, [(h.id, h.channels) for h in hits]
    assert 601 not in {h.id for h in hits}
    assert all(h.channels.keys() == {"lexical"} for h in hits)  # its vector is noise: skipped
    ids, scores = blind_layer.similar_commissions(601, k=4)
    assert ids.dtype == np.int64 and list(ids) == [h.id for h in hits]
    assert list(scores) == sorted(scores, reverse=True)


def test_the_dense_channel_alone_is_blind_to_chinese_only_commissions(
    blind_layer: SemanticLayer,
) -> None:
    """What the lexical channel fixes: by vector, every Chinese-only record is a tie."""
    index = blind_layer.dense["commissions"]
    keys, scores = index.search(index.vectors([601]), 4, exclude=[601])
    assert set(keys[0]) - MAGNETS  # a decoy (any Chinese-only record) is among them
    assert max(scores[0]) - min(scores[0]) < 1e-5  # … scoring exactly as the magnets


def test_the_coverage_of_each_commission_is_kept_and_survives_save_and_load(
    blind_layer: SemanticLayer, settings: Settings
) -> None:
    docs = blind_layer.docs["commissions"]
    assert docs[601].meta["coverage"] == 0.0
    assert docs[101].meta["coverage"] > 0.5  # bilingual: its vector is searched
    assert 0.0 < docs[201].meta["coverage"] < 0.5  # Chinese title with "MBBR": it is not
    blind_layer.save()
    loaded = SemanticLayer.load(settings, _EnglishBlind())
    assert loaded.docs["commissions"][601].meta["coverage"] == 0.0
    assert [h.id for h in loaded.similar_commission_hits(601, k=2)] == [
        h.id for h in blind_layer.similar_commission_hits(601, k=2)
    ]


def test_mark_coverage_stores_only_what_the_model_could_not_fully_see() -> None:
    docs = [
        Doc(1, "graphene coating", "t", "s"),
        Doc(2, "石墨烯涂层", "t", "s", meta={"coverage": 1}),
    ]
    mark_coverage(docs, _EnglishBlind())
    assert "coverage" not in docs[0].meta and docs[1].meta["coverage"] == 0.0
    plain = [Doc(3, "石墨烯涂层", "t", "s")]
    mark_coverage(plain, FakeEmbedder())  # no coverage(): it sees everything it embeds
    assert plain[0].meta == {}


def test_upserted_commissions_get_their_coverage_and_keep_it_on_a_meta_change(
    blind_layer: SemanticLayer,
) -> None:
    row = {
        "commission_id": 606,
        "client_id": 2,
        "external_id": "N-606",
        "title_zh": "钕铁硼永磁体表面防腐涂层",
        "title_en": "",
        "keywords": "钕铁硼; 防腐涂层",
        "commissioned_on": "2024-01-10",
    }
    assert blind_layer.upsert_commissions([row]) == 1
    assert blind_layer.docs["commissions"][606].meta["coverage"] == 0.0
    assert blind_layer.upsert_commissions([{**row, "external_id": "N-606b"}]) == 0
    meta = blind_layer.docs["commissions"][606].meta
    assert meta["external_id"] == "N-606b" and meta["coverage"] == 0.0
    assert 602 in {h.id for h in blind_layer.similar_commission_hits(606, k=3)}


def test_an_english_commission_still_uses_both_channels(blind_layer: SemanticLayer) -> None:
    hits = blind_layer.similar_commission_hits(101, k=2)
    assert {h.id for h in hits} == {102, 103}
    assert any(h.channels.keys() == {"dense", "lexical"} for h in hits)
    with pytest.raises(NotFound):
        blind_layer.similar_commission_hits(999)


def test_similar_cases_of_a_chinese_only_commission_skip_its_noise_vector(
    blind_layer: SemanticLayer,
) -> None:
    hits = blind_layer.similar_cases(601, k=5)
    assert all("dense" not in h.channels for h in hits)
    english = blind_layer.similar_cases(101, k=5)
    assert any("dense" in h.channels for h in english)


def test_the_cli_shows_lexical_matches_for_a_chinese_only_commission(
    blind_layer: SemanticLayer, tmp_path: Path
) -> None:
    """The use case speaks external ids and keeps each hit's channels."""
    from types import SimpleNamespace

    from recsvc.usecases import search as searching

    class _Db:  # the use case asks the store only for the commission's internal id
        pass

    rt = SimpleNamespace(db=_Db(), semantic=blind_layer, settings=blind_layer.settings)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(searching.queries, "commission_id", lambda db, external_id: 601)
        found = searching.similar_commissions(rt, external_id="N-601", k=3)  # type: ignore[arg-type]
    assert {h.id for h in found.commissions[:2]} == {"N-602", "N-603"}
    assert all(set(h.channels) == {"lexical"} for h in found.commissions)


def test_recsvc_similar_commission_finds_chinese_only_neighbours_end_to_end(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command itself, on a store it imported and an index it built: the English
    model's stand-in cannot see the Chinese-only commissions, the lexical channel can."""
    import json

    from typer.testing import CliRunner

    import recsvc.semantic.layer as layer_mod
    from recsvc.cli import _common, app

    folder = tmp_path / "import"
    folder.mkdir()
    pd.DataFrame(
        {"external_id": [f"K-{c}" for c in range(1, 6)], "kind": ["enterprise"] * 5}
    ).to_csv(folder / "clients.csv", index=False)
    pd.DataFrame(
        [
            {
                "external_id": ext,
                "client_external_id": f"K-{client}",
                "title_zh": title,
                "keywords": kw,
                "commissioned_on": "2023-05-01",
            }
            for _, client, ext, title, kw in _CHINESE_ONLY
        ]
    ).to_csv(folder / "commissions.csv", index=False)
    for name in ("data_dir", "database_url", "models_dir"):
        monkeypatch.setenv(f"RECSVC_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setattr(layer_mod, "load_embedder", lambda s, cached=True: _EnglishBlind())
    _common.settings.cache_clear()
    runner = CliRunner()
    try:
        for args in (["db", "upgrade"], ["import", str(folder)], ["index", "build"]):
            done = runner.invoke(app, args)
            assert done.exit_code == 0, (args, done.output)
        like = runner.invoke(app, ["similar", "--commission", "N-601", "-k", "3", "--json"])
    finally:
        _common.settings.cache_clear()
    assert like.exit_code == 0, like.output
    commissions = json.loads(like.stdout)["commissions"]
    assert {h["id"] for h in commissions[:2]} == {"N-602", "N-603"}, commissions
    assert all(set(h["channels"]) == {"lexical"} for h in commissions)
    assert "N-601" not in {h["id"] for h in commissions}


def test_a_commissions_past_cases_are_found_alike_before_and_after_saving(
    settings: Settings, blind_layer: SemanticLayer
) -> None:
    """Which cases came from which commission: the documents' own meta, whether the
    layer was just built (documents in memory) or loaded (the mapped column)."""
    from recsvc.semantic.similar import cases_by_commission

    expected: dict[int, set] = {}
    for doc in blind_layer.docs["cases"].values():
        expected.setdefault(int(doc.meta["commission_id"]), set()).add(doc.key)
    assert expected
    blind_layer.save()
    loaded = SemanticLayer.load(settings, _EnglishBlind())
    for layer in (blind_layer, loaded):
        found = cases_by_commission(layer)
        assert {c: found.get(c) for c in expected} == expected
        assert found.get(999_999) == set()
