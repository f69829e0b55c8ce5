"""A model version opened for serving: everything a request needs, loaded whole.

:func:`open_bundle` reads a registered version folder and today's snapshot of the store
and returns a :class:`ServingBundle`; the holder (the runtime) publishes it with one
reference assignment, so no request sees a half-loaded version. :func:`freeze_heap`
is called after each swap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.config import Settings
from recsvc.features.today import business_today
from recsvc.semantic import SemanticLayer
from recsvc.serving.layout import PORTAL, SCORES, served_dir, snapshot_dir
from recsvc.serving.portal import PortalLists
from recsvc.serving.recommender import open_recommender
from recsvc.serving.scores import value_scores
from recsvc.serving.snapshot import recall_digest
from recsvc.store.db import Database
from recsvc.store.frames import Frames, load_frames
from recsvc.value import ValueService

__all__ = ["ServingBundle", "freeze_heap", "open_bundle"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingBundle:
    """Everything one model version serves with, loaded completely before use.

    Attributes:
        version: the registry version.
        path: its folder.
        recommender: the serving recommender bound to today's snapshot.
        portal_recs: precomputed portal lists by internal client id, each kept as
            ``(count, JSON array of offers)``: the bytes training wrote, served as they
            are from a file all workers map (:class:`~recsvc.recommend.PortalLists`).
        value: the value service (value model, CLV, segment thresholds).
        features: client features as of today (index ``client_id``).
        scores: probability, segment, stage and CLV per client as of today.
        loaded_at: when the bundle was loaded (epoch seconds).
    """

    version: str
    path: Path
    recommender: Any = None
    portal_recs: Mapping[int, tuple[int, bytes]] = field(default_factory=dict)
    value: ValueService | None = None
    features: pd.DataFrame | None = None
    scores: pd.DataFrame | None = None
    loaded_at: float = field(default_factory=time.time)
    load_steps: dict[str, float] = field(default_factory=dict, compare=False)
    """Seconds each part of opening the version took (data, scores, recommender …)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """Serialises filling the worklist memo (live recommender calls need no lock)."""
    cache: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    """Per-bundle memo (worklists are deterministic for one bundle)."""


def freeze_heap() -> None:
    """Move everything alive now (the loaded bundles: frames, memos, indexes, hundreds of
    thousands of objects) out of the cyclic GC's sight, and return the memory that
    loading freed to the system.

    Otherwise every full collection walks the whole model, a pause of hundreds of
    milliseconds in whichever request triggered it (measured: 0.3 s at 2,000 clients).
    Unfreezing and collecting first frees the cycles of bundles no longer kept.

    glibc keeps freed heap memory for reuse; after a load that is mostly the scratch
    of building indexes (bm25s at 87k past cases left 2 GB resident per worker), so
    ``malloc_trim`` hands it back.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> ctypes.CDLL | None:
    """glibc, for ``malloc_trim`` (``None`` on other C libraries)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def open_bundle(
    settings: Settings,
    db: Database | None,
    semantic: SemanticLayer | None,
    version: str,
    folder: Path,
    *,
    frames: Frames | None = None,
) -> ServingBundle:
    """Load everything ``version`` serves with, from its folder and today's snapshot.

    Nothing here is visible to requests until the holder publishes it. Nothing is
    written: the version's files and its snapshot files
    (:func:`~recsvc.serving.layout.snapshot_dir`: every client's value features and
    scores, ranker scores, explanation arrays) are mapped, and what is missing or of
    another snapshot is computed in memory.

    Args:
        settings: the configuration.
        db: the store (today's snapshot is read from it unless ``frames`` are given;
            live calls read cool-downs and new clients from it); ``None`` with
            ``frames`` for a recommender that only precomputes (no live reads).
        semantic: the semantic layer, or ``None`` when no index has been built.
        version: the registry version.
        folder: its folder.
        frames: today's snapshot when the caller holds it (a runtime shares one between
            the versions it opens, :class:`~recsvc.serving.snapshot.SnapshotHolder`);
            read from ``db`` otherwise.
    """
    steps: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        steps[name] = now - clock
        clock = now

    if frames is None:
        if db is None:
            raise ValueError("give a db or frames")
        frames = load_frames(db)
    if semantic is not None:  # case searches (and explanations the version kept no hits
        semantic.warm("cases")  # for) read these; at 100k loading them takes seconds
    step("data")
    value = ValueService.load(folder, settings)
    cutoff = business_today(frames, settings)
    saved = snapshot_dir(settings, version)
    recall_digest(saved, frames)  # the files' keys, without hashing every cell
    features, scores, key = value_scores(value, frames, cutoff, semantic, saved / SCORES)
    step("scores")
    served = served_dir(settings, version, folder)
    recommender = open_recommender(
        settings,
        db,
        semantic,
        folder,
        frames=frames,
        features=features,
        saved=saved,
        kept=served,
        value=value,
        scores=scores,
        features_key=key,
    )
    step("recommender")
    portal = PortalLists.open(served / PORTAL)
    step("portal lists")
    bundle = ServingBundle(
        version=version,
        path=folder,
        recommender=recommender,
        portal_recs=portal,
        value=value,
        features=features,
        scores=scores,
        load_steps=steps,
    )
    log.info(
        "loaded %s in %.1fs (%s; %d clients scored, %d portal lists)",
        version,
        sum(steps.values()),
        ", ".join(f"{name} {seconds:.1f}s" for name, seconds in steps.items()),
        len(scores),
        len(portal),
    )
    return bundle
