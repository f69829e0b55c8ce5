"""Model versions: list them, promote one (hot swap), roll back, choose which value
model a version serves, read evaluation reports and their plots."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsvc.errors import NotFound, NotReady
from recsvc.registry import VALUE_MODELS, VersionInfo
from recsvc.runtime import Runtime

if TYPE_CHECKING:
    from recsvc.value.choice import ModelComparison

__all__ = [
    "NDCG5_PATHS",
    "EvaluationReport",
    "Versions",
    "build_serving",
    "choose_value_model",
    "evaluation_report",
    "held_value_models",
    "list_versions",
    "metric",
    "plot_path",
    "promote",
    "rollback",
    "value_comparison",
    "version",
]


#: Where "NDCG@5" of a version's recommendations is read, first found wins: the
#: backtest at the evaluation cutoff (the split of the AUC beside it in every list),
#: then the ranker's training holdout for versions that have only that. ``recsvc models
#: list`` and the console's models page both read it here, so one label is one number.
NDCG5_PATHS: tuple[tuple[str, ...], ...] = (
    ("ranker", "ndcg@5"),
    ("ranker", "eval_full_ndcg5"),
    ("ranker", "ranker_holdout_ndcg5"),
)


def metric(metrics: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> float | None:
    """The first number found in ``metrics`` along one of ``paths`` (None if none is).

    Example:
        >>> metric({"ranker": {"eval_full_ndcg5": 0.68}}, NDCG5_PATHS)
        0.68
    """
    for path in paths:
        node: Any = metrics
        for key in path:
            if not isinstance(node, dict) or key not in node:
                node = None
                break
            node = node[key]
        if isinstance(node, int | float) and not isinstance(node, bool):
            return float(node)
    return None


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
    value_model: str = "lightgbm"
    """The value model the version serves (``lightgbm`` or ``logistic``)."""
    value_choice: dict[str, Any] | None = None
    """The analyst's choice of it (``{"model", "by", "at"}``), None if training's default."""
    value_models: tuple[str, ...] = ("lightgbm",)
    """The value models the version holds (one can be chosen)."""
    comparison: ModelComparison | None = None
    """LightGBM vs logistic vs RFM on the version's backtest."""

    def plots_for(self, lang: str) -> list[tuple[str, str]]:
        """``(plot, file)`` of each plot as drawn for ``lang``: ``lift.zh.png`` for
        Chinese; a version trained before plots had languages has ``lift.png`` only."""
        chosen: dict[str, tuple[int, str]] = {}
        for file in self.plots:
            stem = file.removesuffix(".png")
            base, _, suffix = stem.rpartition(".")
            if suffix in ("zh", "en"):
                rank = 0 if suffix == lang else 2
            else:
                base, rank = stem, 1
            if base not in chosen or rank < chosen[base][0]:
                chosen[base] = (rank, file)
        return [(base, file) for base, (_, file) in sorted(chosen.items())]


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
    metrics = registry.metrics(name)
    return EvaluationReport(
        name,
        metrics,
        registry.meta(name),
        plots,
        registry.decision(name),
        value_model=registry.value_model(name),
        value_choice=registry.value_model_choice(name),
        value_models=held_value_models(rt, name=name),
        comparison=value_comparison(rt, metrics),
    )


def held_value_models(rt: Runtime, *, name: str) -> tuple[str, ...]:
    """The value models version ``name`` holds an artifact of (it can serve any)."""
    folder = rt.registry.path(name)
    return tuple(m for m, sub in VALUE_MODELS.items() if (folder / sub / "config.json").exists())


def value_comparison(rt: Runtime, metrics: dict[str, Any]) -> ModelComparison:
    """LightGBM vs logistic vs RFM of one version's ``metrics``, and whether the simpler
    model is as good (within ``settings.simpler_model_tolerance`` AUC)."""
    from recsvc.value.choice import compare  # not at import: the CLI starts without it

    return compare(metrics, rt.settings.simpler_model_tolerance)


def choose_value_model(rt: Runtime, *, name: str, model: str, by: str | None = None) -> str:
    """Make version ``name`` serve its ``model`` (``lightgbm`` or ``logistic``) value model;
    the version in service is reopened with it at once, other processes follow the
    registry. Returns the model.

    Raises:
        NotFound: no such version.
        Conflict: an unknown model, or one the version does not hold.
    """
    rt.registry.choose_value_model(name, model, by=by)
    rt.value_model_changed(name)
    return model


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
