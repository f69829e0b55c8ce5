"""Open a model version's recommender: its files, mapped, over a snapshot of the store.

:func:`open_recommender` reads what a version folder holds (the text space, the ranker,
the kept similar-case hits and contributions) and, when given the folder of
:func:`~recsvc.serving.layout.snapshot_dir`, the ranker scores and explanation arrays of
the same snapshot; whatever is missing or of another snapshot is computed in memory.
It writes nothing (:mod:`recsvc.serving.build` does, for training and
``recsvc serving build``).

Example:
    >>> rec = open_recommender(settings, db, semantic, version_dir, frames=frames)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.features.today import business_today
from recsvc.recommend.context import build_context, shared_text_space
from recsvc.recommend.contributions import ContributionTable
from recsvc.recommend.explain import Explainer
from recsvc.recommend.ranker import Ranker
from recsvc.recommend.rules import BusinessRules
from recsvc.recommend.scored import ScoredRanker
from recsvc.recommend.service import Recommender
from recsvc.recommend.sources import SourceChain
from recsvc.recommend.text import TextSpace
from recsvc.serving.layout import (
    CASE_HITS,
    CONTRIBUTIONS,
    EXPLAINER_ARRAYS,
    RANKER_SCORES,
    TEXT_SNAPSHOT,
    TEXT_SPACE,
    served_dir,
)
from recsvc.store.db import Database
from recsvc.store.frames import Frames, load_frames
from recsvc.store.stamp import snapshot_digest
from recsvc.value import ValueService

__all__ = ["open_recommender", "version_text_space"]

log = logging.getLogger(__name__)


def version_text_space(
    folder: Path | None, history: Frames, semantic: Any, vectors: Path | None = None
) -> TextSpace:
    """The text space a version was trained with, brought up to date with ``history``;
    fitted in memory when the version has none (``folder`` ``None``: always). Its
    commission vectors are read from ``vectors`` when they are there (the version's
    :func:`~recsvc.serving.layout.served_dir`), else from the version's folder."""
    if folder is not None and (folder / TEXT_SPACE / "config.json").exists():
        at = vectors / TEXT_SPACE if vectors is not None else None
        try:
            return TextSpace.load(
                folder / TEXT_SPACE,
                history.commissions,
                history.products,
                semantic,
                vectors=at,
                refresh=at is None or _snapshot_of(at) != snapshot_digest(history),
            )
        except (OSError, ValueError, KeyError) as exc:
            log.warning("text space in %s unusable (%s); fitting one", folder, exc)
    return shared_text_space(history, semantic)


def _snapshot_of(vectors: Path) -> str | None:
    """The snapshot the commission vectors in ``vectors`` were written for, if recorded:
    for that very snapshot no commission text needs checking (hashing every text took
    0.4 s of a load at 10,000 clients)."""
    try:
        return str(json.loads((vectors / TEXT_SNAPSHOT).read_text())["snapshot"])
    except (OSError, ValueError, KeyError):
        return None


def _value_of(folder: Path, settings: Any) -> ValueService | None:
    """The value model of the version in ``folder``, or ``None`` when unusable."""
    try:
        return ValueService.load(folder, settings)
    except Exception:
        log.info("no usable value model in %s", folder, exc_info=True)
        return None


def open_recommender(
    settings: Any,
    db: Database | None,
    semantic: Any | None,
    folder: Path | None,
    *,
    frames: Frames | None = None,
    features: pd.DataFrame | None = None,
    saved: Path | None = None,
    kept: Path | None = None,
    rules: BusinessRules | None = None,
    value: ValueService | None = None,
    scores: pd.DataFrame | None = None,
    features_key: str | None = None,
    text: TextSpace | None = None,
) -> Recommender:
    """A recommender of the version in ``folder`` over a snapshot of the store.

    Args:
        settings: the configuration.
        db: the store (the snapshot is read from it unless ``frames`` is given; live
            calls read cool-downs and new clients from it); may be ``None`` with
            ``frames``.
        semantic: the semantic layer, or ``None``.
        folder: the version folder (``ranker/``, ``value/`` and the files of
            :mod:`recsvc.serving.layout` are used when present); ``None`` serves the
            source chain.
        frames: the snapshot (default ``load_frames(db)``).
        features: client features at the serving cutoff, when the caller has them.
        saved: the version's :func:`~recsvc.serving.layout.snapshot_dir`, whose ranker
            scores and explanation arrays are mapped when they are this snapshot's.
        kept: where the version's kept similar-case hits, contributions and text-space
            commission vectors are (default: :func:`~recsvc.serving.layout.served_dir`
            of the version the folder is named after).
        rules: business rules (default :meth:`BusinessRules.load`).
        value: the version's value model when the caller loaded it (the serving
            bundle); default: loaded from ``folder`` when it has one.
        scores: ``value.score(features)`` when the caller computed it (the bundle):
            the context takes probabilities and segments from it.
        features_key: the :func:`~recsvc.serving.scores.scores_fingerprint` that
            ``features`` and ``scores`` were computed under: what is computed from them
            (the ranker scores) is keyed by it instead of by hashing them.
        text: the version's text space when the caller holds it (training, which has
            just saved it): mapping the saved copy beside it would hold every
            commission's vectors twice (1.4 GB more at 100,000 clients).
    """
    if frames is None:
        if db is None:
            raise ValueError("give a db or frames")
        frames = load_frames(db)
    folder = Path(folder) if folder is not None else None
    if kept is None and folder is not None:
        kept = served_dir(settings, folder.name, folder)
    if value is None and folder is not None and (folder / "value").exists():
        value = _value_of(folder, settings)
    context = build_context(
        frames,
        business_today(frames, settings),
        semantic=semantic,
        settings=settings,
        text=text if text is not None else version_text_space(folder, frames, semantic, kept),
        value=value,
        live=True,
        features=features,
        scores=scores,
        features_key=features_key,
    )
    model: ScoredRanker | SourceChain
    if folder is not None and (folder / "ranker" / "config.json").exists():
        scores = saved / RANKER_SCORES if saved is not None else None
        ranker = Ranker.load(folder / "ranker")
        model = ScoredRanker(ranker).bind(context, precompute=True, saved=scores)
        sources = model.sources_
    else:
        model = SourceChain().fit(context)
        sources = model.sources
    explainer = Explainer(context, sources, semantic).prepare(
        saved / EXPLAINER_ARRAYS if saved is not None else None
    )
    contributions = None
    if kept is not None:
        explainer.use_case_table(kept / CASE_HITS)
        if isinstance(model, ScoredRanker):
            contributions = ContributionTable.open(kept / CONTRIBUTIONS)
    return Recommender(
        settings,
        context,
        model=model,
        explainer=explainer,
        contributions=contributions,
        db=db,
        rules=rules,
    )
