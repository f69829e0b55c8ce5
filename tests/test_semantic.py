"""Fast tests of the semantic layer, on the FakeEmbedder and the hand-made sample."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import recsvc.semantic as semantic
from recsvc.config import Settings
from recsvc.errors import Forbidden, InvalidInput, NotFound, NotReady
from recsvc.semantic import (
    CachedEmbedder,
    FakeEmbedder,
    LexicalIndex,
    Scope,
    SemanticLayer,
    VectorIndex,
    build_semantic,
    choose_kind,
    rrf,
    tokenize,
)
from recsvc.semantic.artifact import LazyIndexes
from recsvc.semantic.docstore import DocStore
from recsvc.semantic.documents import build_docs
from recsvc.semantic.lexical import MAPPED
from recsvc.semantic.sample import sample_frames
from recsvc.store.frames import Frames
from tests.conftest import make_settings

SEWAGE = {201, 202, 203}
SWINE = {101, 102, 103}
OTHER_VACCINES = {403, 503}  # partly relevant: neither required nor forbidden near the top


def assert_ranked_above_unrelated(hit_ids: list, relevant: set, partial: set = frozenset()) -> None:
    """Every relevant id is found, and ranks above every unrelated one."""
    assert relevant <= set(hit_ids), hit_ids
    last_relevant = max(hit_ids.index(i) for i in relevant)
    unrelated = [i for i in hit_ids[:last_relevant] if i not in relevant | partial]
    assert not unrelated, hit_ids


@pytest.fixture
def frames() -> Frames:
    return sample_frames()


@pytest.fixture
def layer(frames: Frames, settings: Settings) -> SemanticLayer:
    return build_semantic(frames, settings, FakeEmbedder())


def ids(hits: list) -> list:
    return [h.id for h in hits]


# -- text, embedder, cache ------------------------------------------------------------
def test_tokenize_cjk_unigrams_bigrams_and_latin_words() -> None:
    assert tokenize("MBR 污水处理 of the Plant") == [
        "mbr",
        *"污水处理",
        "污水",
        "水处",
        "处理",
        "plant",
    ]
    assert tokenize("ＭＢＲ") == ["mbr"]  # full-width folded
    assert tokenize(None) == []


def test_fake_embedder_is_deterministic_normalised_and_topical() -> None:
    a, b = FakeEmbedder(dim=48), FakeEmbedder(dim=48)
    va = a.encode(["swine fever vaccine", "swine vaccine", "sewage treatment"])
    np.testing.assert_array_equal(
        va, b.encode(["swine fever vaccine", "swine vaccine", "sewage treatment"])
    )
    np.testing.assert_allclose(np.linalg.norm(va, axis=1), 1.0, rtol=1e-5)
    assert va.dtype == np.float32 and va.shape == (3, 48)
    assert va[0] @ va[1] > va[0] @ va[2] + 0.3
    assert FakeEmbedder(seed=1).model_id != FakeEmbedder().model_id


def test_cache_embeds_only_new_texts_and_namespaces_by_model(tmp_path: Path) -> None:
    inner = FakeEmbedder()
    cache = CachedEmbedder(inner, tmp_path)
    first = cache.encode(["a b", "c d", "a b"])
    assert cache.last_misses == 2 and inner.n_encoded == 2
    reopened = CachedEmbedder(inner, tmp_path)  # from disk
    again = reopened.encode(["c d", "a b"])
    assert reopened.last_misses == 0 and inner.n_encoded == 2
    np.testing.assert_array_equal(again, first[[1, 0]])
    reopened.encode(["c d", "e f"])
    assert reopened.last_misses == 1
    other = CachedEmbedder(FakeEmbedder(seed=7), tmp_path)  # another model: own namespace
    other.encode(["a b"])
    assert other.last_misses == 1
    assert len(list((tmp_path / "embeddings").iterdir())) == 2


def test_second_build_embeds_nothing_and_one_change_embeds_one(
    frames: Frames, settings: Settings
) -> None:
    build_semantic(frames, settings, FakeEmbedder())
    inner = FakeEmbedder()
    build_semantic(frames, settings, CachedEmbedder(inner, settings.cache_dir))
    assert inner.n_encoded == 0
    frames.products.loc[0, "description_en"] = "Something new entirely."
    cached = CachedEmbedder(inner, settings.cache_dir)
    build_semantic(frames, settings, cached)
    assert cached.total_misses == 1
    # a commission title also feeds its client's research direction: exactly two texts
    frames.commissions.loc[0, "title_en"] = "A recombinant swine fever vaccine"
    cached = CachedEmbedder(inner, settings.cache_dir)
    build_semantic(frames, settings, cached)
    assert cached.total_misses == 2


# -- documents -----------------------------------------------------------------------
def test_documents_cover_every_kind(frames: Frames) -> None:
    docs = build_docs(frames)
    assert len(docs["commissions"]) == len(frames.commissions)
    assert len(docs["clients"]) == len(frames.clients)
    assert len(docs["products"]) == len(frames.products)
    client1 = next(d for d in docs["clients"] if d.key == 1)
    assert "swine vaccines" in client1.text and "African swine fever" in client1.text
    product = next(d for d in docs["products"] if d.key == "trend_analysis")
    assert "领域态势分析" in product.text and "Field trend analysis" in product.text


def test_cases_are_anonymised_and_within_twelve_months(frames: Frames) -> None:
    cases = build_docs(frames)["cases"]
    assert {c.meta["product_code"] for c in cases} == {
        "trend_analysis",
        "thematic_database",
        "literature_patent_analysis",
        "industry_analysis",
    }
    titles = [
        t
        for t in frames.commissions["title_zh"].tolist() + frames.commissions["title_en"].tolist()
        if t
    ]
    names = frames.clients[["name_zh", "name_en", "external_id"]].to_numpy().ravel().tolist()
    for case in cases:
        assert case.key.startswith("case-") and str(case.meta["commission_id"]) not in case.key
        blob = case.text + case.title + case.summary + case.meta["summary_zh"]
        assert not [t for t in titles + names if t in blob], blob
    vaccine = next(c for c in cases if c.meta["product_code"] == "trend_analysis")
    assert "vaccine" in vaccine.summary  # used by three clients: safe to show
    assert "porcine" not in vaccine.summary  # one client's keyword: withheld
    late = frames.orders.copy()
    late.loc[late["order_id"] == 3, "ordered_on"] = late["ordered_on"].max() + np.timedelta64(
        900, "D"
    )
    frames.orders = late
    assert "literature_patent_analysis" not in {
        c.meta["product_code"] for c in build_docs(frames)["cases"]
    }


# -- search ---------------------------------------------------------------------------
def test_english_query_ranks_matching_commissions_first(layer: SemanticLayer) -> None:
    hits = layer.search("swine vaccine", "commissions", k=20)
    assert_ranked_above_unrelated(ids(hits), SWINE, OTHER_VACCINES)
    assert hits[0].channels.keys() == {"dense", "lexical"}
    assert hits[0].score >= hits[-1].score


def test_chinese_query_finds_chinese_only_commissions(layer: SemanticLayer) -> None:
    hits = layer.search("污水处理", "commissions", k=5)
    assert set(ids(hits)[:3]) == SEWAGE
    assert all(layer.docs["commissions"][i].meta["title_line"].isascii() is False for i in SEWAGE)
    assert "lexical" in hits[0].channels


class _EnglishOnly(FakeEmbedder):
    """Imitates the English model: Chinese text is invisible (coverage 0)."""

    def coverage(self, text: str) -> float:
        return 0.0 if semantic.text.has_cjk(text) else 1.0


def test_dense_channel_is_skipped_when_the_model_cannot_see_the_query(
    frames: Frames, settings: Settings
) -> None:
    layer = build_semantic(frames, settings, _EnglishOnly())
    hits = layer.search("污水处理", "commissions", k=5)
    assert set(ids(hits)) == SEWAGE
    assert all(h.channels.keys() == {"lexical"} for h in hits)


def test_multilingual_model_lets_english_queries_reach_chinese_only_records(
    frames: Frames, tmp_path: Path
) -> None:
    plain = build_semantic(frames, make_settings(tmp_path / "a"), FakeEmbedder())
    plain_hits = plain.search("sewage treatment", "commissions", k=3)
    assert set(ids(plain_hits)) != SEWAGE  # a monolingual model: only chance overlaps
    assert not any("lexical" in h.channels for h in plain_hits if h.id in SEWAGE)
    bilingual = FakeEmbedder(synonyms={"sewage": "污水", "treatment": "处理"})
    layer = build_semantic(frames, make_settings(tmp_path / "b"), bilingual)
    hits = layer.search("sewage treatment", "commissions", k=3)
    assert set(ids(hits)) == SEWAGE
    assert all(h.channels.keys() == {"dense"} for h in hits)  # BM25 cannot cross languages


def test_products_cases_and_clients_search(layer: SemanticLayer) -> None:
    assert ids(layer.search("趋势 态势 trend", "products", k=1)) == ["trend_analysis"]
    case = layer.search("animal health vaccine", "cases", k=1)[0]
    assert case.meta["product_code"] in {"trend_analysis", "thematic_database"}
    assert ids(layer.search("lithium battery cathode", "clients", k=1)) == [4]
    with pytest.raises(InvalidInput):
        layer.search("x", "patents")
    assert layer.search("   ", "products") == []


def test_similar_clients_and_vectors(layer: SemanticLayer) -> None:
    client_ids, scores = layer.similar_clients(1, k=3)
    assert client_ids.dtype == np.int64 and 1 not in client_ids and len(client_ids) == 3
    assert list(scores) == sorted(scores, reverse=True)
    vecs = layer.client_vectors([1, 2, 999])
    np.testing.assert_allclose(np.linalg.norm(vecs[:2], axis=1), 1.0, rtol=1e-5)
    assert not vecs[2].any()  # unknown client: zero row
    codes, pv = layer.product_vectors()
    assert len(codes) == len(pv) == 16 and "trend_analysis" in set(codes)
    assert layer.embed(["x y"]).shape == (1, layer.embedder.dim)
    with pytest.raises(NotFound):
        layer.similar_clients(999)


def test_similar_cases_by_text_and_by_commission(layer: SemanticLayer) -> None:
    by_text = layer.similar_cases("vaccine animal health", k=2)
    assert {h.meta["product_code"] for h in by_text} == {"trend_analysis", "thematic_database"}
    own = {d.key for d in layer.docs["cases"].values() if d.meta["commission_id"] == 103}
    assert own and not own & set(ids(layer.similar_cases(103, k=10)))
    with pytest.raises(Forbidden):
        layer.similar_cases(103, k=3, scope=Scope.portal(2))
    assert layer.similar_cases(103, k=3, scope=Scope.portal(1))


# -- confidentiality ------------------------------------------------------------------
def test_portal_scope_never_returns_another_clients_text_or_identity(
    layer: SemanticLayer, frames: Frames
) -> None:
    a, b = 1, 2
    comm_b = frames.commissions[frames.commissions["client_id"] == b]
    client_b = frames.clients[frames.clients["client_id"] == b].iloc[0]
    secrets = [client_b["name_zh"], client_b["name_en"], client_b["external_id"]]
    secrets += [t for t in comm_b["title_zh"].tolist() + comm_b["title_en"].tolist() if t]
    secrets += [k.strip() for kw in comm_b["keywords"] for k in kw.split(";")]
    scope = Scope.portal(a)
    for kind in ("commissions", "clients"):
        with pytest.raises(Forbidden):
            layer.search("污水处理", kind, scope=scope)
    queries = ["污水处理", "MBBR sewage", str(client_b["name_zh"]), "环保 analysis", "vaccine"]
    for query in queries:
        for kind in ("cases", "products"):
            for hit in layer.search(query, kind, k=20, scope=scope):
                blob = json.dumps(hit.as_dict(), ensure_ascii=False)
                assert "client_id" not in hit.meta and "commission_id" not in hit.meta
                assert not [s for s in secrets if s in blob], blob
    librarian = layer.search("环保 literature patent analysis", "cases", k=20)
    assert any(h.meta.get("client_id") == b for h in librarian)  # the check can fail


# -- updates --------------------------------------------------------------------------
def test_upsert_makes_a_new_commission_searchable_in_under_a_second(layer: SemanticLayer) -> None:
    new = {
        "commission_id": 901,
        "client_id": 5,
        "external_id": "N-901",
        "title_zh": "石墨烯涂层涡轮叶片",
        "title_en": "Graphene coatings for turbine blades",
        "keywords": "graphene; coating",
        "commissioned_on": "2024-02-01",
    }
    started = time.perf_counter()
    assert layer.upsert_commissions([new]) == 1
    hits = layer.search("graphene turbine coating", "commissions", k=1)
    assert time.perf_counter() - started < 1.0
    assert ids(hits) == [901]
    assert "Graphene" in layer.docs["clients"][5].text  # research direction refreshed
    assert layer.upsert_commissions([new]) == 0  # unchanged: nothing embedded
    changed = dict(
        new, title_en="Ceramic thermal barrier coatings", title_zh="", keywords="ceramic"
    )
    assert layer.upsert_commissions([changed]) == 1
    assert 901 not in ids(layer.search("graphene", "commissions", k=5))
    assert ids(layer.search("ceramic thermal barrier", "commissions", k=1)) == [901]


def test_remove_client_removes_its_vectors_commissions_and_cases(layer: SemanticLayer) -> None:
    before = {k: len(v) for k, v in layer.docs.items()}
    removed = layer.remove_client(2)
    assert removed == 1 + 3 + 1
    assert 2 not in layer.dense["clients"] and not any(
        i in layer.dense["commissions"] for i in SEWAGE
    )
    assert len(layer.dense["commissions"]) == before["commissions"] - 3
    assert not SEWAGE & set(ids(layer.search("污水处理", "commissions", k=20)))
    assert all(h.meta["client_id"] != 2 for h in layer.search("analysis", "cases", k=20))
    assert 2 not in layer.similar_clients(1, k=10)[0]
    with pytest.raises(NotFound):
        layer.similar_clients(2)


# -- persistence ----------------------------------------------------------------------
def test_save_load_symmetry(layer: SemanticLayer, settings: Settings) -> None:
    layer.upsert_commissions(
        [
            {
                "commission_id": 902,
                "client_id": 3,
                "title_en": "Heat-not-burn devices",
                "keywords": "aerosol",
            }
        ]
    )
    folder = layer.save()
    assert (folder / "config.json").exists() and (
        folder / "commissions" / "dense" / "index.faiss"
    ).exists()
    loaded = SemanticLayer.load(settings, FakeEmbedder())
    # BM25 is rebuilt per kind on first use only (serving searches cases alone)
    assert isinstance(loaded.lexical, LazyIndexes) and loaded.lexical.loaded() == set()
    assert loaded.stats() == layer.stats() and loaded.model_id == layer.model_id
    for kind, docs in layer.docs.items():  # mapped from a file, decoded when asked for
        assert isinstance(loaded.docs[kind], DocStore) and not loaded.docs[kind]._changed
        assert list(loaded.docs[kind].items()) == list(docs.items())
    loaded.similar_cases("swine fever vaccine", k=3)
    assert loaded.lexical.loaded() == {"cases"}
    for query, kind in [
        ("swine vaccine", "commissions"),
        ("污水", "cases"),
        ("patent", "products"),
    ]:
        a, b = layer.search(query, kind, k=5), loaded.search(query, kind, k=5)
        assert [(h.id, h.title, h.summary, h.meta) for h in a] == [
            (h.id, h.title, h.summary, h.meta) for h in b
        ]
        # fused scores carry BM25 magnitudes: the live layer's main segment keeps the
        # corpus statistics of its last re-index (before the upsert), the reloaded one
        # counts the upserted commission too, hence a hair of difference
        assert [h.score for h in a] == pytest.approx([h.score for h in b], rel=5e-3)
    np.testing.assert_array_equal(loaded.client_vectors([1, 3]), layer.client_vectors([1, 3]))
    loaded.save()  # saving a loaded layer replaces the folder
    assert SemanticLayer.load(settings, FakeEmbedder()).stats() == layer.stats()


def test_load_refuses_another_model_or_a_missing_index(
    layer: SemanticLayer, settings: Settings
) -> None:
    with pytest.raises(NotReady):
        SemanticLayer.load(settings, FakeEmbedder())
    layer.save()
    with pytest.raises(NotReady):
        SemanticLayer.load(settings, FakeEmbedder(seed=3))
    other = settings.model_copy(update={"embedding_model": "/some/multilingual-model"})
    with pytest.raises(NotReady):
        SemanticLayer.load(other)


# -- the index and the fusion ---------------------------------------------------------
def _unit(n: int, dim: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_vector_index_update_remove_save_load(kind: str, tmp_path: Path) -> None:
    vecs = _unit(400, 16)
    keys = [f"k{i}" for i in range(400)]
    idx = VectorIndex.build(keys, vecs, kind=kind, nprobe=64)
    assert idx.kind == kind
    got, scores = idx.search(vecs[:3], k=1)
    assert [g[0] for g in got] == ["k0", "k1", "k2"] and scores[0][0] == pytest.approx(
        1.0, abs=1e-4
    )
    idx.add(["k0"], vecs[[5]])  # replace
    assert idx.search(vecs[[5]], k=2)[0][0] in (["k0", "k5"], ["k5", "k0"])
    assert idx.remove(["k5", "missing"]) == 1 and "k5" not in idx and len(idx) == 399
    assert "k5" not in idx.search(vecs[[5]], k=10)[0][0]
    assert "k1" not in idx.search(vecs[[1]], k=3, exclude=["k1"])[0][0]
    idx.save(tmp_path / kind)
    again = VectorIndex.load(tmp_path / kind)
    assert again.search(vecs[:20], k=5) == idx.search(vecs[:20], k=5)
    assert again.key_type == "str" and len(again) == 399


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_vectors_by_key_after_updates_saved_and_mapped(kind: str, tmp_path: Path) -> None:
    """Each key's stored vector (a replaced key's new one), zero rows for unknown and
    removed keys, in the order asked; the same from a loaded and a mapped copy."""
    vecs = _unit(300, 8)
    idx = VectorIndex.build(list(range(300)), vecs, kind=kind)
    idx.add([7], vecs[[9]])  # replaced
    idx.remove([11])
    asked = [12, 7, 999, 11, 0, 12]
    want = np.stack([vecs[12], vecs[9], np.zeros(8), np.zeros(8), vecs[0], vecs[12]])
    np.testing.assert_allclose(idx.vectors(asked), want, atol=1e-6)
    assert idx.vectors([]).shape == (0, 8) and not idx.vectors([999]).any()
    idx.save(tmp_path / kind)
    for mmap in (False, True):
        again = VectorIndex.load(tmp_path / kind, mmap=mmap)
        np.testing.assert_array_equal(again.vectors(asked), idx.vectors(asked))


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_a_mapped_index_answers_alike_and_copies_itself_in_before_a_change(
    kind: str, tmp_path: Path
) -> None:
    """Server workers map the stored vectors (one copy in the page cache); FAISS aborts
    the process on a write to mapped vectors, so the first change copies them in, and a
    save replaces the file instead of rewriting the one another process maps."""
    vecs = _unit(300, 16)
    idx = VectorIndex.build(list(range(300)), vecs, kind=kind)
    idx.save(tmp_path / "ix")
    mapped = VectorIndex.load(tmp_path / "ix", mmap=True)
    assert mapped.mapped and not VectorIndex.load(tmp_path / "ix").mapped
    assert mapped.search(vecs[:20], k=5) == idx.search(vecs[:20], k=5)
    inode = (tmp_path / "ix" / "index.faiss").stat().st_ino

    idx.add([999], vecs[[7]])
    idx.save(tmp_path / "ix")  # what a rebuild does while a server maps the old file
    assert (tmp_path / "ix" / "index.faiss").stat().st_ino != inode
    assert mapped.search(vecs[:5], k=1)[0] == [[0], [1], [2], [3], [4]]

    mapped.add([1000], vecs[[9]])  # would abort the test process if still mapped
    mapped.remove([3])
    assert not mapped.mapped
    assert mapped.search(vecs[[9]], k=2)[0][0] in ([9, 1000], [1000, 9])
    assert 3 not in mapped.search(vecs[[3]], k=5)[0][0]


@pytest.mark.parametrize("key", [str, int])
def test_a_loaded_index_searches_from_its_key_arrays_and_reads_format_1(
    key: type, tmp_path: Path
) -> None:
    """A loaded index answers searches, its length and its keys from the saved arrays,
    building no dict (a server's start at 100,000 clients spent 0.3 s on them); a lookup
    by key builds them and answers alike. An index saved with its keys as JSON
    (format 1) still loads and answers the same."""
    vecs = _unit(200, 16)
    keys = [key(f"{i}") if key is str else i * 7 for i in range(200)]
    idx = VectorIndex.build(keys, vecs, kind="hnsw")
    idx.remove([keys[3], keys[50]])  # tombstones: still in FAISS, never returned
    want = idx.search(vecs[:30], k=5)
    idx.save(tmp_path / "ix")
    assert not (tmp_path / "ix" / "ids.json").exists()

    loaded = VectorIndex.load(tmp_path / "ix", mmap=True)
    assert loaded.search(vecs[:30], k=5) == want
    assert len(loaded) == 198 and loaded.ids() == idx.ids() and loaded.tombstones == 2
    assert not loaded._keys.unpacked, "a search built the key dicts"
    assert np.array_equal(loaded.vectors(keys[:5]), idx.vectors(keys[:5]))
    assert loaded._keys.unpacked  # the lookup by key built them
    assert loaded.search(vecs[:30], k=5) == want
    assert loaded.search(vecs[[3]], k=3, exclude=[keys[4]]) == idx.search(
        vecs[[3]], k=3, exclude=[keys[4]]
    )

    old = tmp_path / "old"  # the same index as format 1 wrote it
    shutil.copytree(tmp_path / "ix", old)
    ids = {
        "labels": np.load(old / "labels.npy").tolist(),
        "keys": np.load(old / "keys.npy").tolist(),
        "tombstones": np.load(old / "tombstones.npy").tolist(),
    }
    for name in ("labels", "keys", "tombstones"):
        (old / f"{name}.npy").unlink()
    (old / "ids.json").write_text(json.dumps(ids))
    config = json.loads((old / "config.json").read_text())
    (old / "config.json").write_text(json.dumps({**config, "format": 1}))
    again = VectorIndex.load(old)
    assert again.search(vecs[:30], k=5) == want and again.ids() == idx.ids()
    assert all(type(k) is key for k in again.ids())


def test_hnsw_tombstones_compact_past_the_threshold() -> None:
    vecs = _unit(100, 8)
    idx = VectorIndex.build(list(range(100)), vecs, kind="hnsw")
    idx.remove(range(10))
    assert idx.tombstones == 10
    assert not set(range(10)) & set(idx.search(vecs[:10], k=5)[0][0])
    idx.remove(range(10, 30))  # 30 % dead > 20 %: rebuilt
    assert idx.tombstones == 0 and len(idx) == 70 and idx.raw.ntotal == 70


def test_hnsw_recall_against_exact_on_random_vectors() -> None:
    base, queries = _unit(3000, 32, seed=1), _unit(100, 32, seed=2)
    exact = VectorIndex.build(list(range(3000)), base, kind="exact")
    approx = VectorIndex.build(list(range(3000)), base, kind="hnsw")
    truth, _ = exact.search(queries, k=10)
    found, _ = approx.search(queries, k=10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95


def test_choose_kind_by_size_and_setting() -> None:
    assert choose_kind(10, "auto", exact_max=100) == "exact"
    assert choose_kind(101, "auto", exact_max=100) == "hnsw"
    assert choose_kind(5, "ivf") == "ivf"
    with pytest.raises(InvalidInput):
        choose_kind(5, "annoy")


def _naive_rrf(rankings: dict, k: int) -> dict:
    keys = {x for r in rankings.values() for x in r}
    return {x: sum(1 / (k + r.index(x) + 1) for r in rankings.values() if x in r) for x in keys}


def test_rrf_matches_the_naive_formula_and_rewards_agreement() -> None:
    rankings = {"dense": ["a", "b", "c", "d"], "lexical": ["c", "e", "a"]}
    fused = rrf(rankings, k=60)
    assert dict(fused) == pytest.approx(_naive_rrf(rankings, 60))
    assert [x for x, _ in fused][:2] == ["a", "c"]
    assert rrf({}, k=60) == []


def test_lexical_index_upsert_remove_and_round_trip(tmp_path: Path) -> None:
    lex = LexicalIndex.build([1, 2], ["农村污水处理", "swine vaccine"])
    assert lex.search("污水", 5)[0] == [1]
    lex.upsert([3], ["污水 MBR"])
    assert set(lex.search("污水", 5)[0]) == {1, 3}
    lex.remove([1])
    assert lex.search("污水", 5)[0] == [3] and lex.search("nothing", 5) == ([], [])
    again = LexicalIndex.load(lex.save(tmp_path / "lex"))
    tokens = [["swine", "vaccine"], ["污", "水", "污水", "mbr"]]
    assert again.live() == lex.live() == ([2, 3], tokens)
    lex.compact()  # the saved form holds live documents only, indexed afresh
    assert again.search("vaccine", 5) == lex.search("vaccine", 5) and len(again) == len(lex) == 2
    assert lex.live() == again.live()  # token lists survive being kept as vocabulary ids


def test_a_saved_lexical_index_is_mapped_not_indexed_again(tmp_path: Path) -> None:
    texts = [f"w{i % 7} w{i % 11} 污水{i % 3} doc{i}" for i in range(300)]
    built = LexicalIndex.build(range(300), texts)
    folder = built.save(tmp_path / "lex")
    assert (folder / MAPPED / "meta.json").exists()

    mapped = LexicalIndex.load(folder)

    assert isinstance(mapped._tokens.ids, np.memmap), "the saved BM25 matrix is mapped"
    assert mapped.live() == built.live() and mapped._df == built._df
    for query in ["w1 w2", "污水", "doc295 w3", "nothing"]:
        assert mapped.search(query, 20) == built.search(query, 20)
    mapped.upsert([7], ["污水 MBR"])  # a mapped index takes updates like a built one
    built.upsert([7], ["污水 MBR"])
    assert mapped.search("污水", 5) == built.search("污水", 5)
    (folder / "docs.json").write_text((folder / "docs.json").read_text() + " ")
    again = LexicalIndex.load(folder)  # docs.json changed since: indexed from it again
    assert not isinstance(again._tokens.ids, np.memmap)
    assert again.search("w1 w2", 20) == LexicalIndex.load(folder).search("w1 w2", 20)


def test_an_index_with_a_delta_saves_no_matrix(tmp_path: Path) -> None:
    lex = LexicalIndex.build([1, 2], ["农村污水处理", "swine vaccine"])
    lex.upsert([3], ["污水 MBR"])
    folder = lex.save(tmp_path / "lex")
    assert not (folder / MAPPED).exists()
    assert LexicalIndex.load(folder).search("污水", 5)[0] == lex.search("污水", 5)[0]


def test_public_api_is_what_all_lists() -> None:
    for name in semantic.__all__:
        assert hasattr(semantic, name), name
    for contract in (
        "SemanticLayer",
        "build_semantic",
        "Scope",
        "SearchHit",
        "FakeEmbedder",
        "SentenceTransformerEmbedder",
        "CachedEmbedder",
        "Embedder",
        "load_embedder",
    ):
        assert contract in semantic.__all__
    assert isinstance(FakeEmbedder(), semantic.Embedder)


def test_lexical_delta_segment_scores_like_a_full_rebuild() -> None:
    texts = [f"w{i % 7} w{i % 11} 污水{i % 3} doc{i}" for i in range(300)]
    grown = LexicalIndex.build(range(290), texts[:290])
    grown.upsert(range(290, 300), texts[290:])  # no re-index: the delta segment
    assert grown._bm25 is not None and len(grown._delta) == 10
    full = LexicalIndex.build(range(300), texts)
    for query in ["w1 w2", "污水", "doc295 w3"]:
        got = dict(zip(*grown.search(query, 300), strict=True))
        ref = dict(zip(*full.search(query, 300), strict=True))
        assert set(got) == set(ref)
        for key in range(290, 300):
            assert got.get(key, 0.0) == pytest.approx(ref.get(key, 0.0), rel=1e-4)
    grown.max_delta = 5  # past max(max_delta, 10 % of the main index): the next search folds
    grown.upsert(range(300, 330), texts[:30])
    grown.search("w1", 3)
    assert not grown._delta and len(grown) == 330


def test_lexical_search_many_scores_as_bm25s_does_one_query_at_a_time() -> None:
    texts = [f"w{i % 7} w{i % 11} 污水{i % 3} doc{i} w{i % 5}" for i in range(600)]
    index = LexicalIndex.build(range(600), texts)
    queries = ["w1 w2", "污水处理 w3", "doc17 w4 w4", "nothing here", "", "w0 w6 doc599"]
    excludes = [set(), {3, 4}, {17}, set(), set(), set(range(0, 600, 2))]
    found = index.search_many(queries, 25, excludes=excludes)
    bm = index._bm25
    assert bm is not None
    for query, excluded, (keys, scores) in zip(queries, excludes, found, strict=True):
        tokens = tokenize(query)
        ref = bm.get_scores(tokens) if tokens else np.zeros(600)  # the library, per query
        ranked = sorted(
            (-float(s), pos) for pos, s in enumerate(ref) if s > 0 and pos not in excluded
        )[:25]
        assert keys == [pos for _, pos in ranked], query  # ties in index order
        np.testing.assert_allclose(scores, [-s for s, _ in ranked], rtol=1e-5)
    index.remove([1, 8])
    index.upsert([600], ["w1 w2 w1 w2"])
    keys, _ = index.search_many(["w1 w2"], 600)[0]
    assert 600 in keys and 1 not in keys and 8 not in keys
    assert index.search_many(["w1 w2"], 600)[0] == index.search("w1 w2", 600)


def test_docs_name_every_command_and_setting_of_the_layer() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "semantic.md").read_text()
    for command in (
        "recsvc index build",
        "recsvc search",
        "recsvc similar --client",
        "recsvc similar --commission",
        "--kind",
        "--json",
    ):
        assert command in doc, command
    for setting in (
        "embedding_model",
        "embedding_batch_size",
        "embedding_device",
        "embedding_threads",
        "index_kind",
        "index_exact_max",
        "rrf_k",
        "index_dir",
        "cache_dir",
    ):
        assert f"`{setting}`" in doc and setting in Settings.model_fields, setting


def test_layer_on_hnsw_updates_through_tombstones_and_reloads(
    frames: Frames, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, index_kind="hnsw")
    layer = build_semantic(frames, settings, FakeEmbedder())
    assert {v["index"] for v in layer.stats().values()} == {"hnsw"}
    changed = {
        "commission_id": 101,
        "client_id": 1,
        "title_en": "Ceramic membranes",
        "keywords": "ceramic",
    }
    layer.upsert_commissions([changed])
    assert layer.stats()["commissions"]["tombstones"] == 1
    assert ids(layer.search("ceramic membranes", "commissions", k=1)) == [101]
    assert 101 not in ids(layer.search("African swine fever subunit", "commissions", k=20))
    layer.save()
    again = SemanticLayer.load(settings, FakeEmbedder())
    assert again.stats() == layer.stats()
    assert 101 not in ids(again.search("African swine fever subunit", "commissions", k=20))


def test_every_searching_thread_applies_the_search_thread_count() -> None:
    """OpenMP keeps its thread count per thread: set once in the main thread, it would not
    reach a server's request threads (measured: 8.4 ms per HNSW search with 2 threads,
    0.57 ms with 1)."""
    import threading

    import faiss

    from recsvc.semantic import index as index_module

    idx = VectorIndex.build(["a", "b"], np.eye(2, dtype=np.float32))
    seen: dict[str, int] = {}

    def search_in_a_fresh_thread(key: str) -> None:
        idx.search(np.array([[1.0, 0.0]], dtype=np.float32), k=1)
        seen[key] = faiss.omp_get_max_threads()

    before = index_module._search_threads
    try:
        for n in (1, 2):
            semantic.set_search_threads(n)
            t = threading.Thread(target=search_in_a_fresh_thread, args=(f"n{n}",))
            t.start()
            t.join()
    finally:
        semantic.set_search_threads(before)
    assert seen == {"n1": 1, "n2": 2}


# -- batched searches (the portal precomputation) give what one search per query gives
@pytest.mark.parametrize("fusion", ["weighted", "rrf"])
@pytest.mark.parametrize("erased", [False, True])
def test_similar_case_keys_many_equals_one_search_per_commission(
    layer: SemanticLayer, fusion: str, erased: bool
) -> None:
    """Fused together (weighted) or one at a time (rrf); with cases removed from both
    channels (an erasure) and a case's words changed (the lexical delta segment), or
    not: the same keys, order and scores to the last bit."""
    layer.fusion = fusion  # type: ignore[assignment]
    if erased:
        owner = next(d.client_id for d in layer.docs["cases"].values())
        assert layer.erase_client(owner).case_ids
        case = next(iter(layer.docs["cases"].values()))
        layer.lexical["cases"].upsert([case.key], [case.text + " 新材料 coating"])
    commissions = [int(c) for c in layer.docs["commissions"]]
    many = layer.similar_case_keys_many([*commissions, 987654], k=5)
    assert set(many) == set(commissions)  # one not indexed is left out
    assert sum(len(hits) for hits in many.values()) > len(commissions)
    for cid in commissions:
        one = layer.similar_cases(cid, k=5)
        assert many[cid] == [(h.id, h.score) for h in one]
