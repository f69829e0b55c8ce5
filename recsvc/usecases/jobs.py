"""Training jobs: recorded in ``training_jobs`` and run as ``recsvc train-job JOB_ID`` in
a subprocess (so the serving process never imports :mod:`training`); when a job
succeeds, the runtime serves the registry's active version."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import uuid
from typing import Any

from recsvc.errors import NotFound
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import JobStatus
from recsvc.store.models import TrainingJob

__all__ = ["job", "start_training", "update_job"]

_FINISHED = (JobStatus.FAILED, JobStatus.SUCCEEDED)


def start_training(rt: Runtime, *, requested_by: str) -> TrainingJob:
    """Record a queued training job and run it in a subprocess; returns the job."""
    job_id = uuid.uuid4().hex
    with rt.db.session() as s:
        s.add(
            TrainingJob(
                id=job_id,
                status=JobStatus.QUEUED,
                progress=0.0,
                requested_by=requested_by,
                message="queued",
            )
        )
    proc = subprocess.Popen(
        [*rt.job_argv, job_id],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=_job_env(rt),
    )
    threading.Thread(
        target=_watch, args=(rt, job_id, proc), name=f"train-{job_id[:8]}", daemon=True
    ).start()
    return job(rt, job_id=job_id)


def job(rt: Runtime, *, job_id: str) -> TrainingJob:
    """A training job by id.

    Raises:
        NotFound: no such job.
    """
    return _found(queries.training_job(rt.db, job_id=job_id), job_id)


def update_job(rt: Runtime, *, job_id: str, **values: Any) -> None:
    """Set fields of a job (status, progress, message, …).

    Raises:
        NotFound: no such job.
    """
    with rt.db.session() as s:
        found = _found(s.get(TrainingJob, job_id), job_id)
        for key, value in values.items():
            setattr(found, key, value)


def _job_env(rt: Runtime) -> dict[str, str]:
    """The job's environment: this process's settings, so it trains on the same store."""
    s = rt.settings
    env = dict(os.environ)
    env.update(
        {
            "RECSVC_DATABASE_URL": s.database_url,
            "RECSVC_DATA_DIR": str(s.data_dir),
            "RECSVC_MODELS_DIR": str(s.models_dir),
            "RECSVC_INDEX_DIR": str(s.index_dir),
            "RECSVC_CACHE_DIR": str(s.cache_dir),
            "RECSVC_REPORTS_DIR": str(s.reports_dir),
            "RECSVC_EMBEDDING_MODEL": s.embedding_model,
            "RECSVC_EMBEDDING_BACKEND": s.embedding_backend,
            "RECSVC_STATIC_MODEL_DIR": str(s.static_model_dir),
            "RECSVC_ENVIRONMENT": s.environment,
        }
    )
    if s.as_of_date is not None:
        env["RECSVC_AS_OF_DATE"] = s.as_of_date.isoformat()
    return env


def _watch(rt: Runtime, job_id: str, proc: subprocess.Popen[bytes]) -> None:
    """Wait for the job; mark it failed if it died unfinished; serve its result."""
    _, stderr = proc.communicate()
    with rt.db.session() as s:
        found = s.get(TrainingJob, job_id)
        if found is None:
            return
        if found.status not in _FINISHED:
            tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-5:]
            found.status = JobStatus.FAILED
            found.message = " | ".join(tail) or f"the job exited ({proc.returncode}) unfinished"
            found.finished_at = dt.datetime.now(dt.UTC)
        succeeded = found.status == JobStatus.SUCCEEDED
    if succeeded:
        rt.reload()


def _found(job: TrainingJob | None, job_id: str) -> TrainingJob:
    if job is None:
        raise NotFound(f"no training job {job_id!r}")
    return job
