"""What the live path serves with, opened from a registered model version.

:mod:`~recsvc.artifact` describes every derived serving folder and
:mod:`~recsvc.serving.layout` says where each lives; :mod:`~recsvc.serving.build` is
the only writer (training, ``recsvc serving build``); :func:`open_recommender`,
:class:`PortalLists` and :func:`open_bundle` open them for a server, which never writes.

Example:
    >>> from recsvc.serving import open_bundle
    >>> bundle = open_bundle(settings, db, semantic, "v1", folder)   # doctest: +SKIP
"""

from __future__ import annotations

from recsvc.serving.build import build_serving_files, write_version_files
from recsvc.serving.bundle import ServingBundle, freeze_heap, open_bundle
from recsvc.serving.layout import snapshot_dir
from recsvc.serving.portal import PortalLists
from recsvc.serving.recommender import open_recommender
from recsvc.serving.snapshot import SnapshotHolder

__all__ = [
    "PortalLists",
    "ServingBundle",
    "SnapshotHolder",
    "build_serving_files",
    "freeze_heap",
    "open_bundle",
    "open_recommender",
    "snapshot_dir",
    "write_version_files",
]
