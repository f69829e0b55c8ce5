"""Every client's value features and scores of one snapshot, written once and mapped.

Opening a version used to compute the client features of every client and score them
with the value model (7.4 s of the 55.7 s load at 100,000 clients). Training and
``recsvc serving build`` now write both for the snapshot they opened
(:func:`save_value_scores`, into :func:`~recsvc.serving.layout.snapshot_dir`), and a
server maps them (:func:`value_scores`) when they were computed from the same
snapshot, cutoff, semantic index and value model (:func:`scores_fingerprint`);
otherwise it computes them in memory, as before. A client the snapshot did not know
is scored on its own by the live path (:func:`recsvc.usecases.scoring.client_score`).

Files (numpy, mapped read-only so that every worker of a server shares one copy):
``clients.npy`` (the index), ``features.npy`` (one row per feature column, so each
column is contiguous), one file per score column; text columns (segment, stage) as
fixed-width unicode.

Example:
    >>> value_scores(value, frames, cutoff, semantic, folder)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.artifact import ArtifactKind
from recsvc.files import prefetch
from recsvc.store.frames import Frames
from recsvc.store.stamp import snapshot_digest
from recsvc.value import ValueService
from recsvc.value.clv import clv_summary

__all__ = ["SCORE_FILES", "save_value_scores", "scores_fingerprint", "value_scores"]

log = logging.getLogger(__name__)

#: The folder of the features and scores :func:`save_value_scores` writes.
SCORE_FILES = ArtifactKind("scores", format=1)


def scores_fingerprint(
    value: ValueService, frames: Frames, cutoff: pd.Timestamp, semantic: Any | None
) -> str:
    """What the features and scores depend on: the version and the value model it
    serves (LightGBM or logistic), the segment thresholds and settings, the cutoff,
    every table of the snapshot and the semantic index."""
    settings = value.settings
    h = hashlib.sha256(
        json.dumps(
            [
                value.version,
                value.value_model,
                value.thresholds,
                str(pd.Timestamp(cutoff)),
                _segment_settings(settings),
            ],
            sort_keys=True,
            default=str,
        ).encode()
    )
    h.update(snapshot_digest(frames).encode())
    if semantic is not None:
        h.update(semantic.signature().encode())
    return h.hexdigest()[:20]


def _segment_settings(settings: Any) -> dict[str, Any]:
    """The settings features and segments read (months, the thresholds' quantiles)."""
    values = settings.model_dump(mode="json")
    return {
        k: v
        for k, v in values.items()
        if k.startswith("segment_") or k in ("dormant_months", "new_client_months")
    }


def save_value_scores(
    folder: Path, features: pd.DataFrame, scores: pd.DataFrame, fingerprint: str
) -> Path:
    """Write ``features`` and ``scores`` (same index) into ``folder``, replaced whole:
    training and ``recsvc serving build`` do, servers never."""
    if not features.index.equals(scores.index):
        raise ValueError("features and scores must have the same index")
    dtypes = {str(c): str(t) for c, t in features.dtypes.items()}
    text = [str(c) for c in scores.columns if not pd.api.types.is_numeric_dtype(scores[c])]
    with SCORE_FILES.save(
        folder,
        fingerprint=fingerprint,
        features=[str(c) for c in features.columns],
        dtypes=dtypes,
        index=features.index.name,
        scores=[str(c) for c in scores.columns],
        text=text,
    ) as tmp:
        np.save(tmp / "clients.npy", features.index.to_numpy(dtype=np.int64))
        np.save(tmp / "features.npy", np.ascontiguousarray(features.to_numpy(np.float64).T))
        for i, col in enumerate(scores.columns):
            values = scores[col]
            array = values.to_numpy(str) if str(col) in text else values.to_numpy(np.float64)
            np.save(tmp / f"score_{i}.npy", array)
    return Path(folder)


def open_value_scores(folder: Path, fingerprint: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The features and scores saved in ``folder`` (mapped) when they are of
    ``fingerprint``; ``None`` otherwise."""
    meta = SCORE_FILES.open(folder, fingerprint=fingerprint)
    if meta is None:
        return None
    try:
        prefetch(folder / "features.npy")
        index = pd.Index(np.load(folder / "clients.npy"), name=meta["index"])
        X = np.load(folder / "features.npy", mmap_mode="r")
        names = list(meta["features"])
        # X.T is a view: the frame's one float block is the mapped array itself
        features = pd.DataFrame(X.T, index=index, columns=names, copy=False)
        odd = {c: t for c, t in meta["dtypes"].items() if t != "float64"}
        if odd:
            features = features.astype(odd)
        columns: dict[str, Any] = {}
        for i, col in enumerate(meta["scores"]):
            array = np.load(folder / f"score_{i}.npy", mmap_mode="r")
            columns[col] = array.astype(object) if col in meta["text"] else array
        scores = pd.DataFrame(columns, index=index, copy=False)
        for col in meta["text"]:
            scores[col] = scores[col].astype("str")
    except (OSError, ValueError, KeyError) as exc:
        log.warning("value scores in %s unreadable: %s", folder, exc)
        return None
    return features, scores


def value_scores(
    value: ValueService,
    frames: Frames,
    cutoff: pd.Timestamp,
    semantic: Any | None,
    saved: Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Every client's features and scores as of ``cutoff``: mapped from ``saved`` when
    that folder holds this snapshot's (:func:`save_value_scores`), else computed.

    Returns:
        ``(features, scores, fingerprint)``: the fingerprint
        (:func:`scores_fingerprint`) says what they were computed from, so what is
        computed from them in turn is keyed without hashing them.
    """
    fingerprint = scores_fingerprint(value, frames, cutoff, semantic)
    if saved is not None:
        opened = open_value_scores(saved, fingerprint)
        if opened is not None:
            log.info("value scores of %d clients mapped from %s", len(opened[0]), saved)
            return (*opened, fingerprint)
    features = value.features(frames, cutoff, semantic)
    return features, value.score(features, clv_summary(frames, cutoff)), fingerprint
