"""What the live path serves with, opened from a registered model version.

:mod:`~recsvc.serving.artifact` describes every derived serving folder and
:mod:`~recsvc.serving.layout` says where each lives; :mod:`~recsvc.serving.build` is
the only writer (training, ``recsvc serving build``); :func:`open_recommender`,
:class:`PortalLists` and :func:`open_bundle` open them for a server, which never writes.

The names below are resolved on first use, so that the recommender's modules can save
and open artifacts without importing the modules that import them.

Example:
    >>> from recsvc.serving import open_bundle
    >>> bundle = open_bundle(settings, db, semantic, "v1", folder)   # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from recsvc.serving.artifact import ArtifactKind

__all__ = [
    "ArtifactKind",
    "PortalLists",
    "ServingBundle",
    "build_serving_files",
    "freeze_heap",
    "open_bundle",
    "open_recommender",
    "snapshot_dir",
    "write_version_files",
]

_WHERE = {
    "PortalLists": "portal",
    "ServingBundle": "bundle",
    "build_serving_files": "build",
    "freeze_heap": "bundle",
    "open_bundle": "bundle",
    "open_recommender": "recommender",
    "snapshot_dir": "layout",
    "write_version_files": "build",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"recsvc.serving.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
