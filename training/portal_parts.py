"""The portal lists over client partitions, on the training's Dask cluster.

Writing every client's portal list (its offers, their reasons, the similar cases and
model contributions behind them) is the longest step of a training at scale, and each
client's list depends only on the version and the snapshot. With a cluster
(:func:`training.cluster.session`), the training process writes the snapshot files
first, then each worker opens the version over the same frames as a server does,
mapping those files, and computes the lists of one contiguous range of clients
(:func:`recsvc.serving.build.portal_part`). The training process writes their rows and
merges what they recorded into the kept tables
(:func:`recsvc.serving.build.write_version_files` with ``parts``): the same lists as
computing them here (byte for byte without a semantic layer; with one the similar
cases' scores may differ from the 7th digit, as float32 products summed on one thread
differ from those summed on two).

Each worker opens the version once (one partition per worker) and loads the semantic
layer from the shared index folder (``settings.index_dir``, docs/scale.md); a training
given another semantic layer than that of its settings writes the lists itself.

Example:
    >>> parts = partial(portal_parts, cluster, settings, v, folder, frames, semantic=True)
    >>> write_version_files(settings, frames, layer, folder, parts=parts)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from recsvc.recommend.service import Recommender
from recsvc.serving.build import PortalPart, portal_part
from recsvc.serving.portal import portal_clients
from recsvc.store.frames import Frames
from training.cluster import Cluster, client_partitions, map_partitions

__all__ = ["portal_parts"]

log = logging.getLogger(__name__)


def portal_parts(
    cluster: Cluster,
    settings: Any,
    version: str,
    folder: Path,
    frames: Frames,
    recommender: Recommender,
    *,
    semantic: bool,
) -> list[PortalPart]:
    """The portal lists of ``recommender``'s portal clients, one partition per worker,
    in client order.

    ``semantic``: whether the training process explains with the semantic layer of
    ``settings`` (the workers load it), or without one.
    """
    client_ids = portal_clients(recommender)
    parts = [(ids, frames) for ids in client_partitions(client_ids, cluster.n_workers)]
    log.info("portal lists of %d clients over %d workers", len(client_ids), len(parts))
    return map_partitions(
        cluster,
        _part,
        parts,
        settings=settings,
        version=version,
        folder=str(folder),
        semantic=semantic,
    )


def _part(
    part: tuple[np.ndarray, Frames], *, settings: Any, version: str, folder: str, semantic: bool
) -> PortalPart:
    """One worker's partition (runs on the worker)."""
    from training.pipeline import load_semantic  # the pipeline imports this module

    ids, frames = part
    layer = load_semantic(settings) if semantic else None
    return portal_part(settings, layer, version, Path(folder), frames, ids)
