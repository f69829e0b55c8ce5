"""Versioned model artifacts: one folder per training run, one active version.

Layout under ``settings.models_dir``::

    models/
    ├── registry.json          {"active": "v20250101-120000", "history": [...]}  (the pointer)
    ├── v20250101-120000/
    │   ├── meta.json          version, created, code version, data summary, params, features
    │   ├── metrics.json       backtest metrics (value model, baselines, ranker, champion)
    │   ├── value/  logistic/  clv/  ranker/  plots/
    │   ├── text/              the text space the ranker was trained with (mapped by servers)
    │   ├── portal/            every client's portal list as served JSON (mapped)
    │   └── kept/              similar-case hits and model contributions of the lists
    └── mlruns/                MLflow tracking (written by training only)

A version folder is written whole by training before it is registered and never
after. While training writes it, the folder holds an ``.owner.json`` naming the
process (pid, host) that writes it; registering removes it. A run killed before
registering leaves an unregistered folder, which :meth:`Registry.clean_unregistered`
removes once its owner is gone (each training run calls it first; so does
``recsvc models clean``). The serving files of a store snapshot live in
``settings.serving_dir`` (see :mod:`recsvc.serving.layout`). Serving resolves the
active folder by reading ``registry.json`` (one small file, no training imports).
``promote`` is a champion/challenger gate: a challenger replaces the active version
only if it beats it on the same evaluation cutoff, unless forced. ``rollback`` returns
to the previously active version.

A version holds two value models: LightGBM (``value/``) and the logistic baseline
(``logistic/``). Which one serves is a registry setting per version
(:meth:`Registry.value_model`, :meth:`Registry.choose_value_model`): the analyst's
choice kept in the pointer file, else the default training recorded in
``metrics.json`` (``value_selection``), else LightGBM. The gate compares the value
model each version serves.

Example:
    >>> reg = Registry(tmp_path)                    # doctest: +SKIP
    >>> version, folder = reg.create()              # doctest: +SKIP
    >>> reg.promote(version)                        # doctest: +SKIP
    >>> reg.active_path() == folder                 # doctest: +SKIP
    True
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recsvc.errors import Conflict, NotFound
from recsvc.gate import compare_metrics
from recsvc.liveness import HOST, process_alive

log = logging.getLogger(__name__)

POINTER = "registry.json"
#: In a version folder being written: the process writing it (removed on registering).
OWNER = ".owner.json"
SUBFOLDERS = ("value", "logistic", "clv", "ranker", "plots")
#: The value models a version can serve, and the sub-folder holding each.
VALUE_MODELS: dict[str, str] = {"lightgbm": "value", "logistic": "logistic"}
DEFAULT_VALUE_MODEL = "lightgbm"
_VERSION_RE = re.compile(r"^v\d{8}-\d{6}(-\d+)?$")


@dataclass
class VersionInfo:
    """What ``models list`` shows for one version."""

    version: str
    path: Path
    created: str | None
    active: bool
    eval_cutoff: str | None
    metrics: dict[str, Any] = field(default_factory=dict)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (temp file + rename), UTF-8, keeping Chinese readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, default=str)
    os.replace(tmp, path)


def read_json(path: Path, default: Any = None) -> Any:
    """Read a JSON file, or return ``default`` when it does not exist."""
    if not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def _parse_time(value: Any) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _last_change(folder: Path) -> dt.datetime:
    """The newest modification time of ``folder`` or anything in it (UTC)."""
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except OSError:  # removed while we looked
            continue
    return dt.datetime.fromtimestamp(newest, dt.UTC)


class Registry:
    """The versioned artifact store rooted at ``root`` (usually ``settings.models_dir``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- reading (cheap; used by serving) --------------------------------------
    def _pointer(self) -> dict[str, Any]:
        return read_json(self.root / POINTER, {"active": None, "history": []})

    def active(self) -> str | None:
        """The active version name, or None when nothing was promoted yet."""
        return self._pointer().get("active")

    def active_path(self) -> Path | None:
        """The active version's folder, or None."""
        version = self.active()
        return self.root / version if version else None

    def path(self, version: str) -> Path:
        """The folder of ``version``; raises :class:`NotFound` if it does not exist."""
        folder = self.root / version
        if not _VERSION_RE.match(version) or not (folder / "meta.json").exists():
            raise NotFound(f"model version {version!r} does not exist")
        return folder

    def versions(self) -> list[str]:
        """Every registered version (a folder with ``meta.json``), oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if _VERSION_RE.match(p.name) and (p / "meta.json").exists()
        )

    def meta(self, version: str) -> dict[str, Any]:
        return read_json(self.path(version) / "meta.json", {})

    def metrics(self, version: str) -> dict[str, Any]:
        return read_json(self.path(version) / "metrics.json", {})

    def value_model(self, version: str) -> str:
        """Which value model ``version`` serves: ``"lightgbm"`` or ``"logistic"``.

        The analyst's choice (:meth:`choose_value_model`) if one was made, else the
        default its training recorded, else LightGBM. Safe on an unregistered folder
        (training reads it before registering).
        """
        chosen = (self._pointer().get("value_models") or {}).get(version) or {}
        model = chosen.get("model")
        if model in VALUE_MODELS:
            return str(model)
        selection = read_json(self.root / version / "metrics.json", {}).get("value_selection")
        default = (selection or {}).get("default")
        return str(default) if default in VALUE_MODELS else DEFAULT_VALUE_MODEL

    def value_model_choice(self, version: str) -> dict[str, Any] | None:
        """The analyst's choice for ``version`` (``{"model", "by", "at"}``), or None."""
        chosen = (self._pointer().get("value_models") or {}).get(version)
        return chosen if isinstance(chosen, dict) else None

    def choose_value_model(self, version: str, model: str, *, by: str | None = None) -> str:
        """Make ``model`` the value model ``version`` serves (kept in the pointer file;
        the version folder stays as training wrote it). Returns the model.

        Raises:
            NotFound: no such version.
            Conflict: an unknown model, or one the version has no artifact for.
        """
        folder = self.path(version)
        if model not in VALUE_MODELS:
            raise Conflict(f"unknown value model {model!r}: one of {', '.join(VALUE_MODELS)}")
        if not (folder / VALUE_MODELS[model] / "config.json").exists():
            raise Conflict(f"{version} has no {model} value model (trained before it was kept)")
        pointer = self._pointer()
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        chosen = {**pointer.get("value_models", {}), version: {"model": model, "by": by, "at": now}}
        write_json(self.root / POINTER, {**pointer, "value_models": chosen})
        log.info("%s serves its %s value model (chosen by %s)", version, model, by)
        return model

    def list(self) -> list[VersionInfo]:
        """All versions with their headline metrics, oldest first."""
        active = self.active()
        out = []
        for version in self.versions():
            meta = self.meta(version)
            metrics = self.metrics(version)
            out.append(
                VersionInfo(
                    version=version,
                    path=self.root / version,
                    created=meta.get("created"),
                    active=version == active,
                    eval_cutoff=metrics.get("eval_cutoff"),
                    metrics=metrics,
                )
            )
        return out

    # -- writing (training) ----------------------------------------------------
    def create(self, now: dt.datetime | None = None) -> tuple[str, Path]:
        """Reserve a new version folder (with empty sub-folders) and return it."""
        now = now or dt.datetime.now(dt.UTC)
        base = f"v{now:%Y%m%d-%H%M%S}"
        self.root.mkdir(parents=True, exist_ok=True)
        version, n = base, 1
        while True:
            try:
                (self.root / version).mkdir()
                break
            except FileExistsError:
                n += 1
                version = f"{base}-{n}"
        folder = self.root / version
        claimed = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        write_json(folder / OWNER, {"pid": os.getpid(), "host": HOST, "created": claimed})
        for sub in SUBFOLDERS:
            (folder / sub).mkdir()
        return version, folder

    def write_meta(self, version: str, meta: dict[str, Any]) -> None:
        """Write ``meta.json``; this is what makes a folder a registered version."""
        write_json(self.root / version / "meta.json", {"version": version, **meta})
        (self.root / version / OWNER).unlink(missing_ok=True)

    def unregistered(self) -> builtins.list[str]:
        """Version folders without ``meta.json``: being trained, or left by a killed run."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and _VERSION_RE.match(p.name) and not (p / "meta.json").exists()
        )

    def clean_unregistered(self, quiet_for: dt.timedelta) -> builtins.list[str]:
        """Remove unregistered version folders whose training run is over; returns them.

        A folder whose ``.owner.json`` names a process on this host is removed when that
        process is gone, and kept while it lives. Without an owner to ask (another host,
        no owner file) a folder is removed once nothing in it has changed for
        ``quiet_for``. Registered versions are never touched.
        """
        removed = []
        now = dt.datetime.now(dt.UTC)
        for version in self.unregistered():
            folder = self.root / version
            try:
                owner = read_json(folder / OWNER, None)
            except (OSError, ValueError):
                owner = None
            alive = None
            if isinstance(owner, dict):
                since = _parse_time(owner.get("created"))
                pid = owner.get("pid") if isinstance(owner.get("pid"), int) else None
                alive = process_alive(pid, owner.get("host"), since)
            if alive or (alive is None and now - _last_change(folder) < quiet_for):
                continue
            if (folder / "meta.json").exists():  # registered meanwhile
                continue
            shutil.rmtree(folder, ignore_errors=True)
            log.warning("removed %s: an unregistered version left by a killed training", version)
            removed.append(version)
        return removed

    def write_metrics(self, version: str, metrics: dict[str, Any]) -> None:
        write_json(self.root / version / "metrics.json", metrics)

    # -- champion / challenger ---------------------------------------------------
    def compare(self, challenger: str, champion: str) -> tuple[bool, str]:
        """Whether ``challenger`` beats ``champion`` on the same evaluation cutoff.

        The champion's numbers come from the challenger's ``metrics.json`` when the
        trainer re-scored the champion on the challenger's backtest (key ``champion``),
        otherwise from the champion's own metrics if both share ``eval_cutoff``. The
        value metrics are those of the value model each version serves
        (:meth:`value_model`). Beating means: no gate metric worse, at least one
        strictly better.

        Returns:
            ``(wins, reason)``.
        """
        ch = self.metrics(challenger)
        rescored = ch.get("champion") or {}
        if rescored.get("version") == champion:
            cm = rescored
        else:
            cm = self.metrics(champion)
            if cm.get("eval_cutoff") != ch.get("eval_cutoff"):
                return False, (
                    f"{challenger} was evaluated at {ch.get('eval_cutoff')} and {champion} at "
                    f"{cm.get('eval_cutoff')}: not comparable (use --force)"
                )
        models = {"value": (self.value_model(challenger), self.value_model(champion))}
        return compare_metrics(ch, cm, challenger=challenger, champion=champion, models=models)

    def promote(self, version: str, force: bool = False, *, note: str | None = None) -> str:
        """Make ``version`` active if it beats the active one (or ``force``).

        The gate's decision, either way, is kept in the registry's pointer file (see
        :meth:`decision`), never in the version folder: a registered version is
        immutable. ``note`` (training's word on which value model serves) is added to
        the decision's reason.

        Raises:
            NotFound: no such version.
            Conflict: the challenger does not beat the champion.

        Returns:
            A one-line reason, for the CLI and logs.
        """
        self.path(version)
        pointer = self._pointer()
        champion = pointer.get("active")
        if champion == version:
            return f"{version} is already active"
        reason = "no active version" if champion is None else "forced"
        if champion is not None and not force:
            wins, reason = self.compare(version, champion)
            if note:
                reason = f"{reason}; {note}"
            if not wins:
                self._write_pointer(pointer, version, promoted=False, reason=reason)
                raise Conflict(f"not promoted: {reason}")
        elif note:
            reason = f"{reason}; {note}"
        history = (
            [*pointer.get("history", []), champion] if champion else pointer.get("history", [])
        )
        self._write_pointer(
            {**pointer, "active": version, "history": history},
            version,
            promoted=True,
            reason=reason,
        )
        log.info("promoted %s (%s)", version, reason)
        return reason

    def decision(self, version: str) -> dict[str, Any] | None:
        """The champion/challenger gate's last decision on ``version``:
        ``{"promoted": bool, "reason": str, "at": ISO time}``, or ``None`` if it was never
        put to the gate."""
        return self._pointer().get("decisions", {}).get(version)

    def _write_pointer(
        self, pointer: dict[str, Any], version: str, *, promoted: bool, reason: str
    ) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        decisions = {
            **pointer.get("decisions", {}),
            version: {"promoted": promoted, "reason": reason, "at": now},
        }
        out = {k: v for k, v in pointer.items() if k not in ("decisions", "rolled_back_from")}
        if promoted:
            out["promoted_at"] = now
        write_json(self.root / POINTER, {**out, "decisions": decisions})

    def rollback(self) -> str:
        """Re-activate the previously active version; returns it.

        Raises:
            Conflict: there is no previous version to return to.
        """
        pointer = self._pointer()
        history = [v for v in pointer.get("history", []) if (self.root / v / "meta.json").exists()]
        if not history:
            raise Conflict("nothing to roll back to: no previously active version")
        previous = history.pop()
        write_json(
            self.root / POINTER,
            {
                **pointer,
                "active": previous,
                "history": history,
                "rolled_back_from": pointer.get("active"),
                "promoted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
        log.info("rolled back from %s to %s", pointer.get("active"), previous)
        return previous
