"""Where a model version's serving files live.

Two places, by what the files depend on:

* **in the version folder** (written by training before it registers the version, then
  never again): what depends on the version alone. ``text/`` (the text space),
  ``portal/`` (every client's portal list as served), ``kept/cases/`` and
  ``kept/contributions/`` (what computing the portal lists searched and explained;
  each row or hit carries what it was computed from).
* **in** ``settings.serving_dir/<version>/`` (:func:`snapshot_dir`): what depends on
  the store's snapshot too. ``ranker/`` (every client's scores and feature rows) and
  ``explainer/`` (the explanation arrays), written by training for the snapshot it
  trained on and by ``recsvc serving build`` for today's. A server maps them when
  their fingerprint is its snapshot's and otherwise computes them in memory.

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
    "TEXT_SPACE",
    "snapshot_dir",
]

#: In the version: its text space (vocabulary, LSA components, commission vectors).
TEXT_SPACE = "text"
#: In the version: its portal lists, in served form.
PORTAL = "portal"
#: In the version: the similar-case hits its portal lists searched (of one index).
CASE_HITS = "kept/cases"
#: In the version: the model contributions its portal lists computed (per row, with a
#: digest of the row's features).
CONTRIBUTIONS = "kept/contributions"
#: In :func:`snapshot_dir`: the ranker's scores of every client.
RANKER_SCORES = "ranker"
#: In :func:`snapshot_dir`: the explanation arrays.
EXPLAINER_ARRAYS = "explainer"


def snapshot_dir(settings: Any, version: str) -> Path:
    """The folder of ``version``'s snapshot-dependent serving files."""
    return Path(settings.serving_dir) / version
