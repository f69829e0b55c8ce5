"""Readiness: whether the store answers and which model version serves."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from recsvc.runtime import Runtime
from recsvc.store import queries

__all__ = ["Readiness", "check"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """Ready when the store answers; degraded (still serving profiles, search, imports)
    without a model."""

    database: bool
    model_version: str | None
    model_error: str | None

    @property
    def model_loaded(self) -> bool:
        return self.model_version is not None

    @property
    def status(self) -> str:
        if not self.database:
            return "unavailable"
        return "ready" if self.model_loaded else "degraded"


def check(rt: Runtime) -> Readiness:
    """The store's and the model's state now."""
    bundle = rt.bundle
    try:
        queries.ping(rt.db)
        db_ok = True
    except Exception:  # any driver error means not ready
        log.exception("database check failed")
        db_ok = False
    return Readiness(
        database=db_ok,
        model_version=bundle.version if bundle is not None else None,
        model_error=rt.load_error if bundle is None else None,
    )
