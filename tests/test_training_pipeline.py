"""The training pipeline end to end on synthetic frames: artifacts, registry, CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recsvc.errors import Conflict
from recsvc.registry import Registry
from recsvc.value import ValueService
from tests.conftest import make_settings, tree_digest
from training.evaluate import evaluate
from training.pipeline import train
from training.synthetic import synthetic_frames

FAST = {"n_estimators": 120, "learning_rate": 0.08, "num_leaves": 7, "min_child_samples": 20}


@pytest.fixture(scope="module")
def frames():
    return synthetic_frames(500, seed=8)


def _train(settings, frames, **kw) -> str:
    return train(settings, frames=frames, params=FAST, track=False, with_ranker=False, **kw)


def test_pipeline_registry_and_cli(tmp_path: Path, frames, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path, backtest_cutoffs=3)
    reg = Registry(settings.models_dir)

    v1 = _train(settings, frames)
    folder = reg.path(v1)
    assert reg.active() == v1
    meta = json.loads((folder / "meta.json").read_text())
    assert {"version", "created", "code_version", "data", "params", "features"} <= set(meta)
    assert meta["data"]["clients"] == len(frames.clients)
    metrics = reg.metrics(v1)
    assert {"auc", "pr_auc", "brier", "lift@10%"} <= set(metrics["value"])
    assert {"rfm", "logistic"} == set(metrics["baselines"])
    assert metrics["value"]["auc"] > metrics["baselines"]["rfm"]["auc"] - 0.02
    for name in (
        f"{plot}.{lang}.png"
        for plot in ("lift", "calibration", "feature_importance")
        for lang in ("zh", "en")
    ):
        assert (folder / "plots" / name).stat().st_size > 1000
        assert (Path(settings.reports_dir) / v1 / name).exists()
    for path in ("value/model.txt", "value/segments.json", "value/backtest.csv", "clv/config.json"):
        assert (folder / path).exists(), path
    assert set(metrics["segments"]["counts"]) <= {"key", "potential", "general", "new", "dormant"}

    # the same recipe on the same data does not beat the champion
    v2 = _train(settings, frames)
    assert reg.active() == v1
    decision = reg.decision(v2)
    assert decision is not None and decision["promoted"] is False
    assert "promotion" not in reg.metrics(v2)  # a registered version folder is never rewritten
    with pytest.raises(Conflict):
        reg.promote(v2)

    # forced, then rolled back
    v3 = _train(settings, frames, force=True)
    assert reg.active() == v3
    assert reg.rollback() == v1 and reg.active() == v1

    # serving loads the active folder without training code
    svc = ValueService.load(reg.active_path(), settings)
    assert len(svc.score_frames(frames)) > 0

    folder = reg.path(v1)
    before = tree_digest([folder])
    report = evaluate(settings, v1)
    assert report["scores"]["value model"]["auc"] == pytest.approx(metrics["value"]["auc"])
    assert tree_digest([folder]) == before  # the report goes to reports_dir, not the version
    assert all(Path(p).parent == Path(settings.reports_dir) / v1 for p in report["plots"])

    # CLI: list, refused promote (exit code via the error), forced promote, rollback
    from recsvc.cli import _common, app

    monkeypatch.setenv("RECSVC_MODELS_DIR", str(settings.models_dir))
    monkeypatch.setenv("RECSVC_DATA_DIR", str(settings.data_dir))
    _common.settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and v1 in listed.output
    refused = runner.invoke(app, ["models", "promote", v2])
    assert isinstance(refused.exception, Conflict)
    assert runner.invoke(app, ["models", "promote", v2, "--force"]).exit_code == 0
    assert reg.active() == v2
    assert runner.invoke(app, ["models", "rollback"]).exit_code == 0
    assert reg.active() == v1
    _common.settings.cache_clear()


def test_champion_rescored_when_cutoffs_differ(tmp_path: Path, frames) -> None:
    old = make_settings(tmp_path, backtest_cutoffs=2, as_of_date=dt.date(2025, 1, 1))
    v1 = _train(old, frames)
    new = make_settings(tmp_path, backtest_cutoffs=2)
    v2 = _train(new, frames)
    m = Registry(new.models_dir).metrics(v2)
    assert m["eval_cutoff"] != Registry(old.models_dir).metrics(v1)["eval_cutoff"]
    assert m["champion"]["version"] == v1 and m["champion"]["method"] == "refit"
    assert "auc" in m["champion"]["value"]


def test_the_value_steps_features_are_freed_before_the_portal_step(
    tmp_path: Path, frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal step is a run's peak (0.5 GB of it were these at 100,000 clients)."""
    import gc
    import weakref

    import training.pipeline as pipeline

    made: list[weakref.ref] = []

    def recorded(fn):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            made.extend(weakref.ref(getattr(x, "X", x)) for x in out)
            return out

        return wrapper

    alive: list[weakref.ref] = []

    def serving_files(*args, **kwargs) -> int:
        gc.collect()
        alive.extend(r for r in made if r() is not None)
        return 0

    monkeypatch.setattr(pipeline, "features_at", recorded(pipeline.features_at))
    monkeypatch.setattr(pipeline, "snapshots", recorded(pipeline.snapshots))
    monkeypatch.setattr(pipeline, "train_ranker", lambda *args, **kwargs: None)
    monkeypatch.setattr(pipeline, "_serving_files", serving_files)
    settings = make_settings(tmp_path, backtest_cutoffs=2)
    train(settings, frames=frames, params=FAST, track=False)
    assert len(made) >= 3 and not alive


def test_cli_import_does_not_pull_training() -> None:
    code = "import sys, recsvc.cli; assert not [m for m in sys.modules if m.startswith('training')]"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
