"""Opening a version maps what training computed: it does not compute the features of
every client nor score them with the value model (:mod:`recsvc.serving.scores`). Only
files of another snapshot, or none, make it compute them, as before."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recsvc.recommend.text import TextSpace
from recsvc.registry import Registry
from recsvc.semantic import FakeEmbedder, SemanticLayer
from recsvc.serving import open_bundle, snapshot_dir
from recsvc.serving.layout import SCORES, TEXT_SNAPSHOT, TEXT_SPACE
from recsvc.store import Database
from recsvc.value import ValueService
from recsvc.value.logistic import LogisticValueModel
from recsvc.value.model import ValueModel
from tests.conftest import copy_tree
from tests.fixtures_api import _demo_settings


@pytest.fixture
def served(api_demo_bundle: Path, tmp_path: Path) -> Iterator[tuple[Any, ...]]:
    """A copy of the trained demo version: settings, store, semantic layer, version."""
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    version = Registry(settings.models_dir).active()
    assert version is not None
    db = Database.from_settings(settings)
    try:
        yield settings, db, SemanticLayer.load(settings, FakeEmbedder(), mmap=True), version
    finally:
        db.dispose()


@pytest.fixture
def scored(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each call of client features or of a value model's predict got."""
    calls: list[int] = []

    def spy(cls: type, name: str, rows: Any) -> None:
        inner = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            out = inner(self, *args, **kwargs)
            calls.append(rows(args, out))
            return out

        monkeypatch.setattr(cls, name, wrapper)

    spy(ValueService, "features", lambda args, out: len(out))
    for model in (ValueModel, LogisticValueModel):
        spy(model, "predict", lambda args, out: len(args[0]))
    return calls


def _mapped(array: np.ndarray) -> bool:
    """Whether ``array`` is a view of a memory-mapped file."""
    base: Any = array
    while base is not None and not isinstance(base, np.memmap):
        base = getattr(base, "base", None)
    return base is not None


def _open(served: tuple[Any, ...]) -> Any:
    settings, db, semantic, version = served
    return open_bundle(settings, db, semantic, version, Registry(settings.models_dir).path(version))


def test_loading_a_trained_version_scores_no_client(served, scored) -> None:  # type: ignore[no-untyped-def]
    bundle = _open(served)

    assert scored == [], "the load computed features or value scores"
    assert len(bundle.scores) > 100 and bundle.features.index.equals(bundle.scores.index)
    assert _mapped(bundle.features["rd_strength"].to_numpy()), "features are mapped, not copied"
    assert bundle.recommender.context.value_proba.equals(bundle.scores["probability"])


def test_mapped_scores_are_the_computed_ones(served, scored) -> None:  # type: ignore[no-untyped-def]
    settings, _, _, version = served
    mapped = _open(served)
    shutil.rmtree(snapshot_dir(settings, version) / SCORES)

    computed = _open(served)

    assert scored and max(scored) == len(computed.scores), "without files every client is scored"
    pd.testing.assert_frame_equal(mapped.features, computed.features)
    pd.testing.assert_frame_equal(mapped.scores, computed.scores)


def test_scores_of_another_value_model_are_not_mapped(served, scored) -> None:  # type: ignore[no-untyped-def]
    settings, _, _, version = served
    Registry(settings.models_dir).choose_value_model(version, "logistic")

    bundle = _open(served)

    assert bundle.value.value_model == "logistic"
    assert scored and max(scored) == len(bundle.scores)


def test_the_text_space_of_the_trained_snapshot_checks_no_commission_text(  # type: ignore[no-untyped-def]
    served, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _, _, version = served
    checked: list[int] = []
    refresh = TextSpace._refresh

    def spy(self: TextSpace, commissions: pd.DataFrame) -> None:
        checked.append(len(commissions))
        refresh(self, commissions)

    monkeypatch.setattr(TextSpace, "_refresh", spy)
    mapped = _open(served).recommender.context.text
    assert checked == []
    (snapshot_dir(settings, version) / TEXT_SPACE / TEXT_SNAPSHOT).unlink()

    checked_again = _open(served).recommender.context.text

    assert checked, "without the snapshot's tag every commission text is checked"
    assert np.array_equal(mapped.commission_ids_, checked_again.commission_ids_)
    assert np.array_equal(mapped.commissions_.lexical, checked_again.commissions_.lexical)


def test_opening_a_version_embeds_no_product_text_while_the_catalogue_is_unchanged(  # type: ignore[no-untyped-def]
    served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product vectors are the ones training saved: opening a version needs no
    embedding model (loading it is about 5 s of every command that opens a version).
    An edited product text is encoded again, and only then is the model asked."""
    _, db, semantic, _ = served
    embedded: list[int] = []
    embed = type(semantic).embed

    def spy(self: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        embedded.append(len(texts))
        return embed(self, texts, *args, **kwargs)

    monkeypatch.setattr(type(semantic), "embed", spy)
    kept = _open(served).recommender.context.text
    assert embedded == [], "opening the version embedded texts"

    from sqlalchemy import update

    from recsvc.store.models import Product

    code = str(kept.product_codes_[0])
    with db.session() as s:
        s.execute(update(Product).where(Product.code == code).values(description_en="Edited."))
    edited = _open(served).recommender.context.text

    assert embedded, "an edited product text must be encoded again"
    assert np.array_equal(kept.product_codes_, edited.product_codes_)
    assert not np.array_equal(kept.products_.lexical[0], edited.products_.lexical[0])
    assert np.array_equal(kept.products_.lexical[1:], edited.products_.lexical[1:])
