"""``recsvc serving build`` writes a version's snapshot files, exactly those a server of
today's snapshot maps, and leaves the registered version folder as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import recsvc.recommend.explain_state as explain_state_module
import recsvc.recommend.scored as scored_module
import recsvc.store.stamp as stamp_module
from recsvc.cli import _common, app
from recsvc.config import Settings
from recsvc.registry import Registry
from recsvc.semantic import FakeEmbedder, SemanticLayer
from recsvc.serving import open_bundle, snapshot_dir
from recsvc.serving.layout import EXPLAINER_ARRAYS, RANKER_SCORES
from recsvc.store import Database
from recsvc.usecases import open_runtime
from tests.conftest import copy_tree, tree_digest
from tests.fixtures_api import _demo_settings


def _cli_runtime(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """The CLI's runtime over ``settings``, with the deterministic test embedder."""
    monkeypatch.setattr(
        _common,
        "runtime",
        lambda **_: open_runtime(
            settings, embedder=FakeEmbedder(), load_model=False, warm_worklist=False
        ),
    )


def test_serving_build_writes_what_a_server_maps(
    api_demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    _cli_runtime(monkeypatch, settings)
    registry = Registry(settings.models_dir)
    version = registry.active()
    assert version is not None
    folder = registry.path(version)
    saved = snapshot_dir(settings, version)
    shutil.rmtree(saved)
    before = tree_digest([folder])

    result = CliRunner().invoke(app, ["serving", "build"])

    assert result.exit_code == 0, result.output
    assert str(saved) in result.output.replace("\n", "")
    assert (saved / RANKER_SCORES / "config.json").exists()
    assert (saved / EXPLAINER_ARRAYS / "config.json").exists()
    assert tree_digest([folder]) == before
    monkeypatch.setattr(stamp_module, "_DIGESTS", {})  # a server process of its own
    db = Database.from_settings(settings)
    try:
        semantic = SemanticLayer.load(settings, FakeEmbedder(), mmap=True)
        with monkeypatch.context() as patched:  # the files are keyed by the store's stamp
            patched.setattr(stamp_module, "digest_tables", _no_hashing)
            # and the ranker scores by the value scores' fingerprint, not the features
            patched.setattr(scored_module, "digest_tables", _no_hashing)
            # and each client's latest commissions are the rows saved with the arrays
            patched.setattr(explain_state_module, "latest_rows", _no_hashing)
            rec = open_bundle(settings, db, semantic, version, folder).recommender
    finally:
        db.dispose()
    assert isinstance(rec.explainer.state.sims, np.memmap)
    assert rec.ranker is not None and rec.ranker.mapped


def _no_hashing(*_: object) -> None:
    raise AssertionError("the snapshot or the features hashed, or commissions sorted")


def test_serving_build_names_an_unknown_version(
    api_demo_bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    _cli_runtime(monkeypatch, settings)
    result = CliRunner().invoke(app, ["serving", "build", "v19990101-000000"])
    assert result.exit_code != 0
    assert "v19990101-000000" in str(result.exception)
