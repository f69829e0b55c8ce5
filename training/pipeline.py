"""The training pipeline: frames → features → value model + CLV → ranker → portal → registry.

``train(settings)`` is what ``recsvc train`` and the API's training job run. Optional
steps (semantic layer, ranker) are skipped only when their module is absent; once
present, their errors propagate. The version's serving files (portal lists and the
rest, :mod:`recsvc.serving.build`) are written before it is registered: a registered
version folder is never written again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import resource
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.errors import Conflict, NotReady
from recsvc.features import stage_names
from recsvc.features.today import business_today
from recsvc.registry import Registry, write_json
from recsvc.semantic import SemanticLayer
from recsvc.serving.build import write_version_files
from recsvc.serving.layout import snapshot_dir
from recsvc.store.frames import Frames
from recsvc.value.choice import selection
from recsvc.value.clv import WEEKS_PER_YEAR
from recsvc.value.segments import assign_segments, segment_thresholds
from training.cluster import Cluster, ClusterFitter, session, worker_peaks
from training.clv import clv_backtest, fit_clv
from training.dataset import backtest_cutoffs, features_at, snapshots
from training.plots import write_plots
from training.portal_parts import portal_parts
from training.ranker import train as train_ranker
from training.value import DEFAULT_PARAMS, rescore_champion, train_value

log = logging.getLogger(__name__)

STEPS = (
    "load data",
    "features",
    "value model",
    "CLV",
    "write artifacts",
    "ranker",
    "portal",
    "register",
)


def code_version() -> str | None:
    """The git commit of the checkout, if there is one."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def data_summary(frames: Frames, today: pd.Timestamp) -> dict[str, Any]:
    """Row counts and date range of the snapshot the version was trained on."""
    return {
        "as_of": str(today.date()),
        "clients": len(frames.clients),
        "commissions": len(frames.commissions),
        "orders": len(frames.orders),
        "interactions": len(frames.interactions),
        "feedback": len(frames.feedback),
        "complaints": len(frames.complaints),
        "first_commission": str(frames.commissions["commissioned_on"].min())[:10]
        if len(frames.commissions)
        else None,
        "last_activity": str(frames.latest_date.date()),
    }


def _load(settings: Any, semantic: Any) -> tuple[Frames, Any]:
    """The store's snapshot, and the saved semantic layer unless one was given."""
    from recsvc.store import Database, load_frames

    db = Database.from_settings(settings)
    db.upgrade()
    frames = load_frames(db)
    db.dispose()
    return frames, semantic if semantic is not None else load_semantic(settings)


def load_semantic(settings: Any) -> SemanticLayer | None:
    """The saved semantic layer, or None when no index has been built."""
    try:
        return SemanticLayer.load(settings)
    except NotReady as exc:
        log.info("semantic layer not used: %s", exc.detail)
        return None


class StepClock:
    """Wall time and peak resident memory of each pipeline step (kept in ``meta.json``).

    A step runs from its announcement to the next one; the peak is the process's
    high-water mark when the step ends (``ru_maxrss``: it never goes down). With a
    cluster (:attr:`cluster`), each worker's high-water mark too
    (``worker_peak_rss_mb``, by worker address).
    """

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.cluster: Cluster | None = None
        self._head: str | None = None
        self._started = time.perf_counter()

    def __call__(self, msg: str) -> None:
        head = msg.split(":")[0]
        if head == self._head:
            return
        self.close()
        self._head, self._started = head, time.perf_counter()

    def close(self) -> None:
        """End the current step."""
        if self._head is None:
            return
        step = {
            "step": self._head,
            "seconds": round(time.perf_counter() - self._started, 3),
            "peak_rss_mb": round(peak_rss_mb(), 1),
        }
        if self.cluster is not None:
            step["worker_peak_rss_mb"] = worker_peaks(self.cluster)
        self.steps.append(step)
        self._head = None


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _progress(enabled: bool, clock: StepClock) -> Iterator[Callable[[str], None]]:
    if not enabled:

        def note(msg: str) -> None:
            clock(msg)
            log.info("train: %s", msg)

        yield note
        clock.close()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), transient=False
    ) as bar:
        task = bar.add_task("training", total=len(STEPS))
        seen: set[str] = set()

        def step(msg: str) -> None:
            clock(msg)
            head = msg.split(":")[0]
            if head in STEPS and head not in seen:
                seen.add(head)
                bar.update(task, completed=len(seen) - 1)
            bar.update(task, description=msg)

        yield step
        clock.close()
        bar.update(task, completed=len(STEPS), description="done")


def _segment_summary(features: pd.DataFrame, segments: pd.Series) -> dict[str, Any]:
    counts = segments.value_counts()
    enterprise = features["kind_enterprise"] > 0
    active = ~segments.isin(["new", "dormant"])
    ent = segments[enterprise & active].value_counts(normalize=True)
    return {
        "counts": {k: int(v) for k, v in counts.items()},
        "active_enterprise_share": {k: round(float(v), 4) for k, v in ent.items()},
    }


def _known_at(known: dict[pd.Timestamp, pd.DataFrame], cutoff: Any) -> pd.DataFrame | None:
    """The client features computed for ``cutoff`` by an earlier step, if any."""
    return known.get(pd.Timestamp(cutoff))


def _serving_files(
    settings: Any,
    frames: Frames,
    semantic: Any,
    version: str,
    folder: Path,
    cluster: Cluster | None,
) -> int:
    """The version's serving files, written before it is registered: its text space
    into its folder; its portal lists and kept explanations (they quote clients, so an
    erasure must be able to patch them) and the files of the snapshot it was trained
    on into its ``snapshot_dir``. With a cluster its workers compute the lists
    (:mod:`training.portal_parts`)."""
    outside = snapshot_dir(settings, version)
    parts = None
    if cluster is not None:
        with_layer = semantic is not None
        parts = partial(
            portal_parts, cluster, settings, version, folder, frames, semantic=with_layer
        )
    return write_version_files(
        settings, frames, semantic, folder, snapshot=outside, served=outside, parts=parts
    )


def _track(
    settings: Any, version: str, meta: dict[str, Any], metrics: dict[str, Any], folder: Path
) -> None:
    """Log the run to MLflow (local sqlite store under models_dir)."""
    import mlflow  # imported here: it takes seconds and untracked runs do not need it

    root = Path(settings.models_dir).resolve()
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    name = "recsvc-value"
    if mlflow.get_experiment_by_name(name) is None:
        mlflow.create_experiment(name, artifact_location=(root / "mlruns").as_uri())
    mlflow.set_experiment(name)
    flat = pd.json_normalize(
        {k: v for k, v in metrics.items() if k in ("value", "baselines", "clv", "ranker")}, sep="."
    ).iloc[0]
    numeric = {
        k.replace("@", "_at_").replace("%", "pct"): float(v)
        for k, v in flat.items()
        if isinstance(v, int | float)
    }
    with mlflow.start_run(run_name=version):
        mlflow.set_tags({"version": version, "code_version": str(meta.get("code_version"))})
        mlflow.log_params({f"value.{k}": v for k, v in meta["params"]["value"].items()})
        mlflow.log_params(
            {"eval_cutoff": metrics.get("eval_cutoff"), "as_of": meta["data"]["as_of"]}
        )
        mlflow.log_metrics(numeric)
        mlflow.log_artifact(str(folder / "meta.json"))
        mlflow.log_artifact(str(folder / "metrics.json"))
        mlflow.log_artifacts(str(folder / "plots"), artifact_path="plots")


def train(
    settings: Any,
    *,
    progress: bool = False,
    force: bool = False,
    frames: Frames | None = None,
    semantic: Any = None,
    params: dict[str, Any] | None = None,
    track: bool | None = None,
    with_ranker: bool = True,
) -> str:
    """Train value model, CLV and the ranker; register; promote if it wins.

    Args:
        settings: :class:`recsvc.config.Settings`.
        progress: show a rich progress bar.
        force: promote even if the challenger does not beat the active version.
        frames: a snapshot to train on (default: ``load_frames`` of the store).
        semantic: a semantic layer (default: the saved one, if any).
        params: value-model hyperparameters overriding :data:`DEFAULT_PARAMS`.
        track: log the run to MLflow (default: yes, except in the test environment).
        with_ranker: fit the ranker and write the portal lists and serving files (tests
            of the value side turn this off).

    Returns:
        The new version name (active or not, see :meth:`Registry.decision`).
    """
    track = settings.environment != "test" if track is None else track
    params = {**DEFAULT_PARAMS, **(params or {})}
    clock = StepClock()
    with session(settings) as cluster, _progress(progress, clock) as step:
        clock.cluster = cluster
        step("load data")
        # workers open the semantic layer from settings, so they can write the portal
        # lists only when this process has none or the one of the settings
        portal_cluster = cluster if semantic is None else None
        if frames is None:
            frames, semantic = _load(settings, semantic)
        today = business_today(frames, settings)
        cutoffs = backtest_cutoffs(frames, settings)
        step("features")
        snaps = snapshots(frames, cutoffs, settings, semantic, cluster)
        today_X = features_at(frames, [today], settings, semantic, cluster)[0]
        # handed to the ranker: it meets today's; its past cutoffs fall on today's day of
        # the month, the value model's on month starts, so those are computed again
        known = {pd.Timestamp(s.cutoff): s.X for s in snaps} | {pd.Timestamp(today): today_X}

        step("value model: backtest and final fit")
        result = train_value(snaps, params, step, cluster=cluster)
        metrics = result.metrics

        step("CLV: BG/NBD + Gamma-Gamma")
        clv = fit_clv(frames, today, WEEKS_PER_YEAR)
        metrics["clv"] = {
            "params": {**clv.bgnbd, **(clv.gamma_gamma or {})},
            "backtest": clv_backtest(frames, cutoffs[0], WEEKS_PER_YEAR),
        }

        step("write artifacts")
        registry = Registry(settings.models_dir)
        version, folder = registry.create()
        result.model.save(folder / "value")
        if result.logistic is not None:  # the version can serve its logistic baseline
            result.logistic.save(folder / "logistic")
        # which of the two serves by default: recorded before the ranker reads it
        metrics["value_selection"] = selection(metrics, settings.simpler_model_tolerance)
        thresholds = segment_thresholds(today_X, settings)
        write_json(folder / "value" / "segments.json", thresholds)
        segments = assign_segments(today_X, settings, thresholds)
        metrics["segments"] = _segment_summary(today_X, segments)
        metrics["stages"] = {
            k: int(v) for k, v in stage_names(today_X["relationship_stage"]).value_counts().items()
        }
        result.backtest.to_csv(folder / "value" / "backtest.csv", float_format="%.6g")
        clv.save(folder / "clv")
        reports = Path(settings.reports_dir) / version
        write_plots(result.backtest, result.model.importance(), [folder / "plots", reports])
        active = registry.active()
        if (
            active is not None
            and registry.metrics(active).get("eval_cutoff") != metrics["eval_cutoff"]
        ):
            step("value model: re-scoring the champion on this backtest")
            metrics["champion"] = rescore_champion(snaps, registry.meta(active), cluster=cluster)
        meta: dict[str, Any] = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "code_version": code_version(),
            "data": data_summary(frames, today),
            "params": {
                "value": params,
                "horizon_months": settings.horizon_months,
                "backtest_cutoffs": settings.backtest_cutoffs,
            },
            "features": result.model.feature_names,
            "cutoffs": [str(c.date()) for c in cutoffs],
            "semantic": semantic is not None,
        }
        registry.write_metrics(version, metrics)

        step("ranker")
        ranker_metrics = None
        if with_ranker:
            ranker_metrics = train_ranker(
                settings,
                frames,
                semantic,
                folder,
                progress=progress,
                known_features=partial(_known_at, known),
                fitter=ClusterFitter(cluster),
                step=step,
            )
        if ranker_metrics is not None:
            metrics["ranker"] = ranker_metrics
        # nothing past the ranker reads the value step's feature snapshots: the portal
        # step is the run's peak, and they were 0.5 GB of it at 100,000 clients
        del snaps, known, today_X, result
        step("portal")
        if with_ranker:
            metrics["portal_recs"] = _serving_files(
                settings, frames, semantic, version, folder, portal_cluster
            )

        step("register")
        clock.close()
        clock.cluster = None
        meta["timings"] = clock.steps
        registry.write_metrics(version, metrics)
        registry.write_meta(version, meta)  # from here on the folder is a registered version
        try:
            # the decision (with the value-model default's reason) is kept by the registry
            registry.promote(version, force=force, note=metrics["value_selection"]["reason"])
        except Conflict as exc:
            log.warning("version %s registered but not promoted: %s", version, exc.detail)
        if track:
            _track(settings, version, meta, metrics, folder)
    log.info("trained %s: %s", version, json.dumps(metrics["value"], default=str))
    return version
