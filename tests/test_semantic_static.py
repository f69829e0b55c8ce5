"""The static embedder: selected by a setting, refused when it does not match.

Fast: the static model here is a real model2vec ``StaticModel`` over the packaged
model's own tokenizer, with seeded random vectors instead of distilled ones (a real
distillation takes a minute; it runs in ``tests/test_static_real.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recsvc.config import DEFAULT_EMBEDDING_MODEL, Settings
from recsvc.errors import NotReady
from recsvc.semantic import (
    CachedEmbedder,
    FakeEmbedder,
    SemanticLayer,
    StaticEmbedder,
    build_semantic,
    load_embedder,
)
from recsvc.semantic.embedders import resolve_model_path
from recsvc.semantic.sample import sample_frames
from recsvc.semantic.static import PROVENANCE, base_model_id
from tests.conftest import make_settings

DIM = 32


def write_static_model(folder: Path, *, base_id: str | None = None, seed: int = 0) -> Path:
    """A small static model in ``folder`` with provenance, as ``distill_static`` writes."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    base = resolve_model_path(DEFAULT_EMBEDDING_MODEL)
    assert base is not None
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((tokenizer.get_vocab_size(), DIM)).astype(np.float32)
    StaticModel(vectors, tokenizer, normalize=True).save_pretrained(folder)
    provenance = {
        "format": 1,
        "base_model": DEFAULT_EMBEDDING_MODEL,
        "base_model_id": base_id or base_model_id(DEFAULT_EMBEDDING_MODEL),
        "distiller": "test",
        "dims": DIM,
        "vocabulary": len(vectors),
        "distilled_at": "2026-01-01T00:00:00+00:00",
        "seconds": 0.0,
    }
    (folder / PROVENANCE).write_text(json.dumps(provenance))
    return folder


@pytest.fixture
def static_settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path, embedding_backend="static")
    assert settings.static_model_dir == settings.data_dir / "static-model"
    write_static_model(settings.static_model_dir)
    return settings


def test_the_static_backend_setting_loads_the_static_model(static_settings: Settings) -> None:
    emb = load_embedder(static_settings)
    assert isinstance(emb, CachedEmbedder) and isinstance(emb.inner, StaticEmbedder)
    assert emb.model_id.startswith(f"static-{DEFAULT_EMBEDDING_MODEL}@") and emb.dim == DIM
    vecs = emb.encode(["graphene coating for steel", "graphene coating", "swine fever"])
    assert vecs.shape == (3, DIM) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]  # shared word pieces, closer vectors
    assert emb.inner.encode([]).shape == (0, DIM)


def test_bulk_encoding_on_threads_gives_the_vectors_of_one_thread(
    static_settings: Settings,
) -> None:
    folder = static_settings.static_model_dir
    texts = [
        f"patent {i} on neural network layer {i % 17} for baseball {i % 5}" for i in range(3000)
    ]
    threaded = StaticEmbedder(folder, bulk_threads=0, batch_size=256).encode(texts)
    single = StaticEmbedder(folder, bulk_threads=1, batch_size=256).encode(texts)
    np.testing.assert_array_equal(threaded, single)


def test_the_static_model_says_how_much_of_a_chinese_text_it_sees(
    static_settings: Settings,
) -> None:
    emb = StaticEmbedder(static_settings.static_model_dir)
    assert emb.coverage("graphene coating") == 1.0
    assert emb.coverage("稀土永磁材料晶界扩散工艺") < 0.5  # the layer then skips its vector
    assert emb.coverage("") == 0.0


def test_a_static_model_of_another_base_model_or_none_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotReady, match="recsvc index distill"):
        StaticEmbedder(tmp_path / "nothing-here")
    other = write_static_model(tmp_path / "other", base_id="another-model@0123456789ab")
    with pytest.raises(NotReady, match="distilled from another-model"):
        StaticEmbedder(other, base_model=DEFAULT_EMBEDDING_MODEL)
    assert StaticEmbedder(other).model_id.startswith("static-")  # no base given: no check


def test_new_static_weights_are_a_new_model_id(tmp_path: Path) -> None:
    one = StaticEmbedder(write_static_model(tmp_path / "a", seed=0))
    two = StaticEmbedder(write_static_model(tmp_path / "b", seed=1))
    assert one.model_id == StaticEmbedder(tmp_path / "a").model_id
    (tmp_path / "b" / PROVENANCE).write_text(
        (tmp_path / "b" / PROVENANCE).read_text().replace("2026-01-01", "2026-02-02")
    )
    assert StaticEmbedder(tmp_path / "b").model_id not in {one.model_id, two.model_id}


def test_an_index_built_with_the_static_model_serves_only_static_queries(
    static_settings: Settings,
) -> None:
    layer = build_semantic(sample_frames(), static_settings)  # the configured backend
    assert layer.model_id.startswith("static-")
    layer.save()
    transformer = static_settings.model_copy(update={"embedding_backend": "transformer"})
    with pytest.raises(NotReady, match=r"\(static\).*\(transformer\)"):
        SemanticLayer.load(transformer)
    with pytest.raises(NotReady, match="was built with static-"):
        SemanticLayer.load(static_settings, FakeEmbedder())
    loaded = SemanticLayer.load(static_settings)  # loads the static model on first query
    hits = loaded.search("wastewater treatment", "commissions", k=3)
    assert hits and "dense" in {ch for h in hits for ch in h.channels}
    assert [h.id for h in hits] == [
        h.id for h in layer.search("wastewater treatment", "commissions", k=3)
    ]


def test_index_distill_refuses_a_model_it_cannot_find_locally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is downloaded: an unknown base model is a clear error, not a fetch."""
    from typer.testing import CliRunner

    from recsvc.cli import _common, app

    monkeypatch.setenv("RECSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RECSVC_EMBEDDING_MODEL", str(tmp_path / "no-such-model"))
    _common.settings.cache_clear()
    try:
        done = CliRunner().invoke(app, ["index", "distill"])
    finally:
        _common.settings.cache_clear()
    assert done.exit_code != 0
    assert isinstance(done.exception, NotReady) and "never downloads" in str(done.exception)
    assert not (tmp_path / "data" / "static-model").exists()
