"""Write a model version's serving files: the only code that does.

* :func:`write_version_files`: training, before it registers a version, writes its
  text space's model into its folder and, into
  :func:`~recsvc.serving.layout.snapshot_dir`, the text space's commission vectors,
  the portal lists, kept similar-case hits and contributions (they quote or index
  clients, so they stay out of the immutable folder) and the value scores, ranker
  scores and explanation arrays of the snapshot it trained on.
* :func:`build_serving_files`: ``recsvc serving build`` writes the value scores,
  ranker scores and explanation arrays of today's snapshot, exactly as a server opens
  it, so that every server worker maps them instead of computing them.

Servers only read (:func:`~recsvc.serving.recommender.open_recommender`).

Example:
    >>> build_serving_files(settings, db, semantic, "v1", registry.path("v1"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from recsvc.features.today import business_today
from recsvc.recommend.context import shared_text_space
from recsvc.recommend.kept import Recorded
from recsvc.recommend.service import Recommender
from recsvc.serving.bundle import open_bundle
from recsvc.serving.layout import (
    CASE_HITS,
    CONTRIBUTIONS,
    EXPLAINER_ARRAYS,
    PORTAL,
    RANKER_SCORES,
    SCORES,
    TEXT_SNAPSHOT,
    TEXT_SPACE,
    snapshot_dir,
)
from recsvc.serving.portal import PortalLists, portal_clients, portal_rows
from recsvc.serving.recommender import open_recommender
from recsvc.serving.scores import save_value_scores, scores_fingerprint, value_scores
from recsvc.serving.snapshot import record_snapshot
from recsvc.store.db import Database
from recsvc.store.frames import Frames
from recsvc.store.stamp import snapshot_digest
from recsvc.value import ValueService

__all__ = [
    "PortalPart",
    "build_serving_files",
    "portal_part",
    "write_snapshot_files",
    "write_version_files",
]

log = logging.getLogger(__name__)


def write_snapshot_files(
    recommender: Recommender,
    folder: Path,
    *,
    value: ValueService | None = None,
    features: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
) -> Path:
    """Write ``recommender``'s ranker scores and explanation arrays (of its snapshot)
    into ``folder``, each kind replaced whole; with ``value``, every client's
    ``features`` and ``scores`` by it too (:mod:`recsvc.serving.scores`); and the
    snapshot's stamp, digest and frames (:func:`~recsvc.serving.snapshot.record_snapshot`)."""
    folder = Path(folder)
    record_snapshot(folder, recommender.context.history)
    if value is not None and features is not None and scores is not None:
        ctx = recommender.context
        fingerprint = scores_fingerprint(value, ctx.history, ctx.cutoff, ctx.semantic)
        save_value_scores(folder / SCORES, features, scores, fingerprint)
    if recommender.ranker is not None:
        recommender.ranker.save(folder / RANKER_SCORES)
    recommender.explainer.save_state(folder / EXPLAINER_ARRAYS)
    log.info("serving files of this snapshot written to %s", folder)
    return folder


class PortalPart(NamedTuple):
    """The portal lists of some clients (``(client id, number of offers, JSON array)``,
    as :meth:`~recsvc.serving.portal.PortalLists.write` takes them) and what explaining
    them recorded."""

    rows: list[tuple[int, int, bytes]]
    recorded: Recorded


def write_version_files(
    settings: Any,
    frames: Frames,
    semantic: Any | None,
    folder: Path,
    *,
    snapshot: Path | None = None,
    served: Path | None = None,
    parts: Callable[[Recommender], Iterable[PortalPart]] | None = None,
) -> int:
    """Write a version's serving files: the text space's model into its (not yet
    registered) ``folder``, the rest into ``served``.

    Every client's portal list; explaining the lists records the similar-case hits and
    model contributions they computed, which are kept for live calls. These and the
    text space's commission vectors go into ``served`` (training: the version's
    :func:`~recsvc.serving.layout.snapshot_dir`, where an erasure may patch them;
    default ``folder``). With ``snapshot`` the value scores, ranker scores and
    explanation arrays of ``frames`` go there too, before the lists are computed.

    Args:
        parts: computes the lists elsewhere, client partition by partition, given the
            recommender whose snapshot files were just written (training's cluster:
            :func:`portal_part` on each worker, mapping those files); default: the
            lists are computed in this process.

    Returns:
        The number of clients with a portal list.
    """
    folder = Path(folder)
    served = Path(served) if served is not None else folder
    vectors = served / TEXT_SPACE if served != folder else None
    text = shared_text_space(frames, semantic)
    text.save(folder / TEXT_SPACE, vectors=vectors)
    if vectors is not None:  # a server of the same snapshot checks no commission text
        (vectors / TEXT_SNAPSHOT).write_text(json.dumps({"snapshot": snapshot_digest(frames)}))
    value = ValueService.load(folder, settings) if (folder / "value").exists() else None
    features = scores = key = None
    if value is not None:  # scored once, here: the server maps them (serving.scores)
        features, scores, key = value_scores(
            value, frames, business_today(frames, settings), semantic
        )
    recommender = open_recommender(
        settings,
        None,
        semantic,
        folder,
        frames=frames,
        kept=served,
        value=value,
        features=features,
        scores=scores,
        features_key=key,
        text=text,
    )
    if snapshot is not None:
        write_snapshot_files(recommender, snapshot, value=value, features=features, scores=scores)
    recommender.record_explanations()
    if parts is None:
        rows = portal_rows(recommender, portal_clients(recommender), settings.recommend_k)
    else:
        rows = _merged(recommender, parts(recommender))
    n = PortalLists.write(served / PORTAL, rows)
    log.info("portal lists of %d clients written to %s", n, served)
    recommender.save_explanations(served / CASE_HITS, served / CONTRIBUTIONS)
    return n


def _merged(
    recommender: Recommender, parts: Iterable[PortalPart]
) -> Iterator[tuple[int, int, bytes]]:
    """The rows of ``parts``, each part's recordings merged into ``recommender``'s."""
    for part in parts:
        recommender.merge_recorded(part.recorded)
        yield from part.rows


def portal_part(
    settings: Any,
    semantic: Any | None,
    version: str,
    folder: Path,
    frames: Frames,
    client_ids: np.ndarray,
) -> PortalPart:
    """The portal lists of ``client_ids``, computed by ``version`` opened as a server
    opens it over ``frames`` (mapping the snapshot files :func:`write_version_files`
    wrote), and what explaining them recorded: one partition of the lists, for a
    process other than the one that trains."""
    bundle = open_bundle(settings, None, semantic, version, Path(folder), frames=frames)
    recommender = bundle.recommender
    recommender.record_explanations()
    rows = list(portal_rows(recommender, np.asarray(client_ids), settings.recommend_k))
    return PortalPart(rows, recommender.recorded())


def build_serving_files(
    settings: Any, db: Database, semantic: Any | None, version: str, folder: Path
) -> Path:
    """Write ``version``'s ranker scores and explanation arrays of today's snapshot
    into its :func:`~recsvc.serving.layout.snapshot_dir` (``recsvc serving build``).

    The version is opened as a server opens it, so the files are exactly what a
    server of this snapshot maps.
    """
    bundle = open_bundle(settings, db, semantic, version, Path(folder))
    return write_snapshot_files(
        bundle.recommender,
        snapshot_dir(settings, version),
        value=bundle.value,
        features=bundle.features,
        scores=bundle.scores,
    )
