"""Model versions: list them, promote one (hot swap), roll back, read evaluation
reports and their plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsvc.errors import NotFound, NotReady
from recsvc.registry import VersionInfo
from recsvc.runtime import Runtime

__all__ = [
    "EvaluationReport",
    "Versions",
    "build_serving",
    "evaluation_report",
    "list_versions",
    "plot_path",
    "promote",
    "rollback",
    "version",
]


@dataclass(frozen=True)
class Versions:
    """Every registered version, the active one and the one this process serves."""

    active: str | None
    serving: str | None
    versions: list[VersionInfo]


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics, training metadata and plot file names of a version, and the
    champion/challenger gate's last decision on it (``None`` if never put to it)."""

    version: str
    metrics: dict[str, Any]
    meta: dict[str, Any]
    plots: list[str] = field(default_factory=list)
    decision: dict[str, Any] | None = None


def version(rt: Runtime, *, name: str) -> str:
    """``name`` if it is a registered version.

    Raises:
        NotFound: no such version.
    """
    rt.registry.path(name)
    return name


def list_versions(rt: Runtime) -> Versions:
    """Every version with its metrics, the active one and the one serving."""
    registry = rt.registry
    bundle = rt.bundle
    return Versions(
        active=registry.active(),
        serving=bundle.version if bundle is not None else None,
        versions=registry.list(),
    )


def promote(rt: Runtime, *, name: str, force: bool = False) -> str:
    """Make ``name`` active (and serve it, swapped in whole); returns why it was accepted.

    Raises:
        NotFound: no such version.
        Conflict: it does not beat the champion on the same backtest (and not ``force``).
    """
    return rt.promote(name, force=force)


def rollback(rt: Runtime) -> str:
    """Return to the previously active version (and serve it); returns it.

    Raises:
        Conflict: nothing to roll back to.
    """
    return rt.rollback()


def evaluation_report(rt: Runtime, *, name: str) -> EvaluationReport:
    """Metrics, metadata and plot file names of ``name``.

    Raises:
        NotFound: no such version.
    """
    registry = rt.registry
    plots_dir = registry.path(name) / "plots"
    plots = sorted(p.name for p in plots_dir.glob("*.png")) if plots_dir.is_dir() else []
    return EvaluationReport(
        name, registry.metrics(name), registry.meta(name), plots, registry.decision(name)
    )


def plot_path(rt: Runtime, *, name: str, plot: str) -> Path:
    """The file of one plot of version ``name``.

    Raises:
        NotFound: no such version or plot.
    """
    folder = rt.registry.path(name) / "plots"
    path = folder / plot
    if path.parent != folder or not path.is_file():
        raise NotFound(f"no plot {plot!r} for {name}")
    return path


def build_serving(rt: Runtime, *, name: str | None = None) -> Path:
    """Write version ``name``'s (default: the active one's) ranker scores and
    explanation arrays for today's snapshot of the store; returns their folder.

    The one explicit step that writes them besides training: servers only map them
    (and compute them in memory when their fingerprint is not today's snapshot's).

    Raises:
        NotReady: no version named and none is active.
        NotFound: no such version.
    """
    registry = rt.registry
    name = name or registry.active()
    if name is None:
        raise NotReady("no active model version: train one first (recsvc train)")
    from recsvc.serving.build import build_serving_files  # LightGBM: only here

    return build_serving_files(rt.settings, rt.db, rt.semantic_or_none(), name, registry.path(name))
