"""Reads of the service's own state: whether the store answers, and training jobs."""

from __future__ import annotations

from sqlalchemy import select

from recsvc.store.db import Database
from recsvc.store.models import TrainingJob

__all__ = ["ping", "training_job"]


def ping(db: Database) -> None:
    """A trivial query (raises the driver's error when the store does not answer)."""
    with db.session() as s:
        s.scalar(select(1))


def training_job(db: Database, *, job_id: str) -> TrainingJob | None:
    """A training job by id, or ``None``."""
    with db.session() as s:
        return s.get(TrainingJob, job_id)
