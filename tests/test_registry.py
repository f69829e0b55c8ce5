"""Registry: versions, promote, champion/challenger refusal, rollback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from recsvc.errors import Conflict, NotFound
from recsvc.registry import Registry


def _version(reg: Registry, auc: float, ndcg: float | None = None, cutoff: str = "2025-01-01"):
    version, folder = reg.create(dt.datetime(2025, 1, 1, 12, 0, 0))
    reg.write_meta(version, {"created": "2025-01-01", "features": ["a"]})
    metrics: dict = {"eval_cutoff": cutoff, "value": {"auc": auc}}
    if ndcg is not None:
        metrics["ranker"] = {"ndcg@5": ndcg}
    reg.write_metrics(version, metrics)
    return version, folder


def test_create_makes_unique_folders(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1, f1 = _version(reg, 0.7)
    v2, f2 = _version(reg, 0.7)
    assert v1 != v2 and f1.is_dir() and f2.is_dir()
    assert (f1 / "value").is_dir() and (f1 / "plots").is_dir() and (f1 / "ranker").is_dir()
    assert reg.versions() == [v1, v2]
    assert reg.active() is None and reg.active_path() is None


def test_first_version_promotes_then_gate_refuses_worse(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1, f1 = _version(reg, 0.75, 0.40)
    reg.promote(v1)
    assert reg.active() == v1 and reg.active_path() == f1
    worse, _ = _version(reg, 0.70, 0.45)
    with pytest.raises(Conflict, match=r"value\.auc"):
        reg.promote(worse)
    assert reg.active() == v1
    tie, _ = _version(reg, 0.75, 0.40)
    with pytest.raises(Conflict, match="does not beat"):
        reg.promote(tie)
    ranker_worse, _ = _version(reg, 0.80, 0.30)
    with pytest.raises(Conflict, match="ndcg"):
        reg.promote(ranker_worse)
    better, _ = _version(reg, 0.78, 0.40)
    reg.promote(better)
    assert reg.active() == better


def test_the_gate_keeps_its_decisions_in_the_registry_not_the_version(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1, _ = _version(reg, 0.75)
    assert reg.decision(v1) is None
    reg.promote(v1)
    worse, folder = _version(reg, 0.70)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    with pytest.raises(Conflict):
        reg.promote(worse)
    refused = reg.decision(worse)
    assert refused is not None and refused["promoted"] is False and "value.auc" in refused["reason"]
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before
    reg.promote(worse, force=True)
    assert reg.decision(worse)["promoted"] is True  # type: ignore[index]
    assert reg.decision(v1)["promoted"] is True  # type: ignore[index]
    assert reg.rollback() == v1 and reg.decision(worse) is not None


def test_force_and_rollback(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1, _ = _version(reg, 0.75)
    v2, _ = _version(reg, 0.60)
    reg.promote(v1)
    reg.promote(v2, force=True)
    assert reg.active() == v2
    assert reg.rollback() == v1
    assert reg.active() == v1
    with pytest.raises(Conflict):
        reg.rollback()
    listed = {info.version: info.active for info in reg.list()}
    assert listed == {v1: True, v2: False}


def test_different_cutoffs_need_rescore_or_force(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    v1, _ = _version(reg, 0.70, cutoff="2024-01-01")
    reg.promote(v1)
    v2, _ = _version(reg, 0.90, cutoff="2025-01-01")
    with pytest.raises(Conflict, match="not comparable"):
        reg.promote(v2)
    # the trainer re-scored the champion on the challenger's cutoff
    m = reg.metrics(v2)
    m["champion"] = {"version": v1, "value": {"auc": 0.72}}
    reg.write_metrics(v2, m)
    reg.promote(v2)
    assert reg.active() == v2


def test_unknown_version(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    with pytest.raises(NotFound):
        reg.promote("v20990101-000000")
    with pytest.raises(NotFound):
        reg.path("../etc")
