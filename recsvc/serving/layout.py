"""Where a model version's serving files live.

Two places, by what may change them:

* **in the version folder** (written by training before it registers the version, then
  never again): the models, which name no client: ``text/`` (the text space's
  character n-gram vocabulary, IDF weights and LSA components).
* **in** ``settings.serving_dir/<version>/`` (:func:`snapshot_dir`): what holds client
  texts or ids, or depends on the store's snapshot too, and so may be rebuilt or
  patched. Written by training for the snapshot it trained on:

  - ``text/`` (the text space's commission ids, text hashes and vectors),
    ``portal/`` (every client's portal list as served) and ``kept/cases/``,
    ``kept/contributions/`` (what computing the portal lists searched and explained);
    an erasure (:mod:`recsvc.serving.erase`) patches them;
  - ``scores/`` (every client's value features, probability, segment, stage and
    CLV), ``ranker/`` (every client's scores and feature rows) and ``explainer/`` (the
    explanation arrays), also written by ``recsvc serving build`` for today's
    snapshot. A server maps them when their fingerprint is its snapshot's and
    otherwise computes them in memory; an erasure deletes them.
  - ``snapshot.json``, written with them: the stamp of the store read they were
    computed from and that snapshot's digest, so that a server which read the store
    at the same stamp keys its files without hashing every cell; and ``snapshot.pkl``,
    the frames of that read, which a server of the same stamp loads instead of
    reading the store (only the newest is kept; an erasure deletes it).

A version trained before these moved keeps them in its own folder; :func:`served_dir`
finds them there, and an erasure patches them there.

A server never writes either place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "CASE_HITS",
    "CONTRIBUTIONS",
    "EXPLAINER_ARRAYS",
    "PORTAL",
    "RANKER_SCORES",
    "SCORES",
    "SNAPSHOT",
    "SNAPSHOT_FRAMES",
    "TEXT_SNAPSHOT",
    "TEXT_SPACE",
    "served_dir",
    "snapshot_dir",
]

#: In the version: its text space's model (vocabulary, IDF, LSA components); in
#: :func:`served_dir`: its commission vectors.
TEXT_SPACE = "text"
#: In :func:`served_dir`'s ``text/``: the digest of the snapshot whose commissions the
#: vectors are (``recsvc.store.stamp.snapshot_digest``).
TEXT_SNAPSHOT = "snapshot.json"
#: In :func:`served_dir`: the portal lists, in served form.
PORTAL = "portal"
#: In :func:`served_dir`: the similar-case hits the portal lists searched (of one index).
CASE_HITS = "kept/cases"
#: In :func:`served_dir`: the model contributions the portal lists computed (per row,
#: with a digest of the row's features).
CONTRIBUTIONS = "kept/contributions"
#: In :func:`snapshot_dir`: every client's value features and scores.
SCORES = "scores"
#: In :func:`snapshot_dir`: the ranker's scores of every client.
RANKER_SCORES = "ranker"
#: In :func:`snapshot_dir`: the explanation arrays.
EXPLAINER_ARRAYS = "explainer"
#: In :func:`snapshot_dir`: the stamp and digest of the snapshot its files are of
#: (:mod:`recsvc.serving.snapshot`).
SNAPSHOT = "snapshot.json"
#: In :func:`snapshot_dir`: the frames of that read (:mod:`recsvc.serving.snapshot`).
SNAPSHOT_FRAMES = "snapshot.pkl"


def snapshot_dir(settings: Any, version: str) -> Path:
    """The folder of ``version``'s snapshot-dependent serving files."""
    return Path(settings.serving_dir) / version


def served_dir(settings: Any, version: str, folder: Path) -> Path:
    """Where ``version``'s portal lists and kept explanations are: its
    :func:`snapshot_dir`, or its own ``folder`` for a version trained before they
    moved there."""
    if getattr(settings, "serving_dir", None) is None:
        return Path(folder)
    outside = snapshot_dir(settings, version)
    if (outside / PORTAL).is_dir() or (outside / "kept").is_dir():
        return outside
    if (Path(folder) / PORTAL).is_dir() or (Path(folder) / "kept").is_dir():
        return Path(folder)
    return outside
