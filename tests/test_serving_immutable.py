"""A registered model version is immutable: opening it for serving, serving live and
portal calls, promoting and rolling back write nothing into its folder, nor into the
snapshot files of :mod:`recsvc.serving.layout` (only training and
``recsvc serving build`` write those)."""

from __future__ import annotations

from pathlib import Path

from recsvc.recommend import OFFERS
from recsvc.registry import Registry
from recsvc.semantic import FakeEmbedder, SemanticLayer
from recsvc.serving import open_bundle
from recsvc.store import Database
from recsvc.store.enums import Surface
from tests.conftest import copy_tree, tree_digest
from tests.fixtures_api import _demo_settings, second_version


def test_a_registered_version_is_byte_identical_after_serving(
    api_demo_bundle: Path, tmp_path: Path
) -> None:
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    v1, v2 = second_version(settings)
    registry = Registry(settings.models_dir)
    assert registry.active() == v1
    watched = [registry.path(v1), registry.path(v2), Path(settings.serving_dir)]
    assert (Path(settings.serving_dir) / v1).is_dir(), "training writes v1's snapshot files"
    before = tree_digest(watched)
    assert any("/portal/" in k for k in before) and any("/kept/" in k for k in before)

    db = Database.from_settings(settings)
    semantic = SemanticLayer.load(settings, FakeEmbedder(), mmap=True)
    try:
        bundles = [open_bundle(settings, db, semantic, v, registry.path(v)) for v in (v1, v2, v1)]
        for bundle in bundles:
            ids = sorted(bundle.portal_recs)[:5]
            assert ids
            for cid in ids:
                count, body = bundle.portal_recs[cid]
                assert len(OFFERS.validate_json(body)) == count
                for surface in (Surface.LIBRARIAN, Surface.PORTAL):
                    assert bundle.recommender.recommend(cid, surface, 3)
        registry.promote(v2, force=True)
        registry.rollback()
        assert registry.active() == v1
    finally:
        db.dispose()
    assert tree_digest(watched) == before
