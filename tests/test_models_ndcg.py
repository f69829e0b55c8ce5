"""``recsvc models list`` and the console's models page show one NDCG@5 per version:
both read :data:`recsvc.usecases.models.NDCG5_PATHS`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.web import models as web_models
from recsvc.cli import _common, app
from recsvc.registry import VersionInfo
from recsvc.usecases import models

#: A version with both an evaluation backtest and a training-holdout NDCG@5.
METRICS = {
    "value": {"auc": 0.9},
    "ranker": {"eval_full_ndcg5": 0.683, "ranker_holdout_ndcg5": 0.666},
}


def test_cli_and_console_read_the_same_ndcg(monkeypatch: pytest.MonkeyPatch) -> None:
    info = VersionInfo("v20260101-000000", Path("."), "2026-01-01", True, "2025-12-01", METRICS)
    monkeypatch.setattr(_common, "runtime", lambda **_: None)
    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(
        models, "list_versions", lambda rt: models.Versions(info.version, info.version, [info])
    )
    result = CliRunner().invoke(app, ["models", "list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    paths = dict(web_models.HEADLINE)["models.m.ndcg"]
    console = web_models.metric(METRICS, paths)
    assert console == 0.683
    assert f"{console:.4f}" in result.output and "0.6660" not in result.output


def test_older_versions_fall_back_to_the_holdout() -> None:
    only_holdout = {"ranker": {"ranker_holdout_ndcg5": 0.666}}
    assert models.metric(only_holdout, models.NDCG5_PATHS) == 0.666
    assert models.metric({}, models.NDCG5_PATHS) is None
