"""Re-evaluate a registered version from its stored backtest and write its plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.errors import NotReady
from recsvc.registry import Registry, write_json
from recsvc.value.model import ValueModel
from training.metrics import classification_report
from training.plots import write_plots

SCORES = {"p_model": "value model", "p_rfm": "RFM heuristic", "p_logistic": "logistic regression"}


def evaluate(settings: Any, version: str | None = None) -> dict[str, Any]:
    """Metrics of the value model and baselines at the version's evaluation cutoff.

    Writes the plots (``lift``, ``calibration``, ``feature_importance``, each as
    ``<plot>.zh.png`` and ``<plot>.en.png``) and
    ``evaluation.json`` into ``settings.reports_dir/<version>/``. The version folder is
    only read: a registered version is never written again (training put its plots
    there before registering it).

    Returns:
        ``{"version", "eval_cutoff", "scores": {name: metrics}, "plots": [paths]}``.
    """
    registry = Registry(settings.models_dir)
    version = version or registry.active()
    if version is None:
        raise NotReady("no active model version; run `recsvc train`")
    folder = registry.path(version)
    backtest_file = folder / "value" / "backtest.csv"
    if not backtest_file.exists():
        raise NotReady(f"{version} has no stored backtest")
    bt = pd.read_csv(backtest_file, index_col=0)
    scores = {
        name: classification_report(bt["y"], bt[col]) for col, name in SCORES.items() if col in bt
    }
    model = ValueModel.load(folder / "value")
    reports = Path(settings.reports_dir) / version
    plots = write_plots(bt, model.importance(), [reports])
    report = {
        "version": version,
        "eval_cutoff": registry.metrics(version).get("eval_cutoff"),
        "scores": scores,
        "plots": [str(p) for p in plots],
    }
    write_json(reports / "evaluation.json", report)
    return report
