"""The ranker's folder: what :meth:`~recsvc.recommend.ranker.Ranker.save` writes.

``config.json`` holds the hyperparameters and everything fitted besides the boosters
(feature lists, product codes, calibration tables, cutoffs, metrics); ``model.txt``
is the lambdarank booster and ``client_model.txt``, when there is one, the client-level
classifier (LightGBM's own text format). The folder is written once, before its version
is registered, and never changed.

Example:
    >>> write_ranker_folder(folder, config, model, client_model)      # doctest: +SKIP
    >>> config, model, client_model = read_ranker_folder(folder)       # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import lightgbm as lgb

from recsvc.errors import NotReady

__all__ = ["FITTED", "PARAMS", "SCHEMA", "read_ranker_folder", "write_ranker_folder"]

#: The layout of ``config.json``.
SCHEMA = 1
#: The ranker's constructor arguments, saved under ``params``.
PARAMS = (
    "n_cutoffs",
    "cutoff_step_months",
    "horizon_months",
    "n_estimators",
    "learning_rate",
    "num_leaves",
    "min_child_samples",
    "seed",
)
#: What fitting sets besides the boosters, saved as themselves (attribute ``<name>_``).
FITTED = (
    "trained_at",
    "categories",
    "kinds",
    "feature_names",
    "client_feature_names",
    "cutoffs",
    "calibration",
    "metrics",
)

CONFIG = "config.json"
MODEL = "model.txt"
CLIENT_MODEL = "client_model.txt"


def write_ranker_folder(
    folder: Path | str, config: dict[str, Any], model: Any, client_model: Any | None
) -> Path:
    """Write ``config`` (JSON) and the boosters into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_model(str(folder / MODEL))
    if client_model is not None:
        client_model.save_model(str(folder / CLIENT_MODEL))
    config = {"kind": "ranker", "schema": SCHEMA, **config}
    (folder / CONFIG).write_text(json.dumps(config, indent=2, ensure_ascii=False))
    return folder


def read_ranker_folder(folder: Path | str) -> tuple[dict[str, Any], Any, Any | None]:
    """``(config, model, client model or None)`` of a folder :func:`write_ranker_folder`
    wrote.

    Raises:
        NotReady: ``folder`` holds no ranker.
    """
    folder = Path(folder)
    if not (folder / CONFIG).exists():
        raise NotReady(f"no ranker at {folder}")
    config = json.loads((folder / CONFIG).read_text())
    model = lgb.Booster(model_file=str(folder / MODEL))
    client = folder / CLIENT_MODEL
    return config, model, lgb.Booster(model_file=str(client)) if client.exists() else None
