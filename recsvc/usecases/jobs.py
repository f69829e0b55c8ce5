"""Training jobs: recorded in ``training_jobs`` and run as ``recsvc train-job JOB_ID`` in
a subprocess (so the serving process never imports :mod:`training`); when a job
succeeds, the runtime serves the registry's active version.

At most one job is queued or running per store: :func:`start_training` checks and
records inside one transaction that holds the store's lock for it
(:meth:`~recsvc.store.db.Database.serialise`), so two requests racing in two worker
processes cannot both start one; the second gets :class:`~recsvc.errors.JobRunning`
(409, with the running job's id).

A job records the process running it (``pid``, ``host``) and a heartbeat
(``heartbeat_at``, refreshed by ``recsvc train-job`` every
``job_heartbeat_seconds`` and on progress). A queued or running job whose process is
gone from this host, or whose heartbeat is older than ``job_stale_seconds``, is
stale: reading it, or asking for a new job, marks it failed ("the training process
is gone"), so a killed job never blocks training for good.

Version folders that killed runs left behind (unregistered, owner gone) are removed
by :func:`clean_versions`, which each training run calls first and ``recsvc models
clean`` runs on demand.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from recsvc.errors import JobRunning, NotFound
from recsvc.liveness import HOST, process_alive, utc
from recsvc.registry import Registry
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import JobStatus
from recsvc.store.models import TrainingJob

__all__ = [
    "GONE",
    "clean_versions",
    "heartbeat",
    "job",
    "reap_stale",
    "start_training",
    "update_job",
]

_FINISHED = (JobStatus.FAILED, JobStatus.SUCCEEDED)
_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_LOCK = "training_jobs"
#: The message of a job marked failed because its process died unannounced.
GONE = "the training process is gone"


def start_training(rt: Runtime, *, requested_by: str) -> TrainingJob:
    """Record a queued training job and run it in a subprocess; returns the job.

    Raises:
        JobRunning: a job is already queued or running in this store (its id is in
            the error); stale jobs are marked failed first and do not count.
    """
    job_id = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    with rt.db.session() as s:
        rt.db.serialise(s, _LOCK)
        for found in s.scalars(select(TrainingJob).where(TrainingJob.status.in_(_ACTIVE))):
            if not _mark_if_stale(rt, found, now):
                raise JobRunning(
                    f"training job {found.id} is {found.status.value}; wait for it to finish",
                    job_id=found.id,
                )
        s.add(
            TrainingJob(
                id=job_id,
                status=JobStatus.QUEUED,
                progress=0.0,
                requested_by=requested_by,
                message="queued",
                host=HOST,
                heartbeat_at=now,
            )
        )
    try:
        proc = subprocess.Popen(
            [*rt.job_argv, job_id],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_job_env(rt),
        )
    except OSError as exc:
        update_job(
            rt,
            job_id=job_id,
            status=JobStatus.FAILED,
            message=f"the job could not start: {exc}",
            finished_at=dt.datetime.now(dt.UTC),
        )
        raise
    update_job(rt, job_id=job_id, pid=proc.pid, heartbeat_at=dt.datetime.now(dt.UTC))
    threading.Thread(
        target=_watch, args=(rt, job_id, proc), name=f"train-{job_id[:8]}", daemon=True
    ).start()
    return job(rt, job_id=job_id)


def job(rt: Runtime, *, job_id: str) -> TrainingJob:
    """A training job by id (a stale one is marked failed first).

    Raises:
        NotFound: no such job.
    """
    found = _found(queries.training_job(rt.db, job_id=job_id), job_id)
    if found.status in _ACTIVE and _stale(rt, found, dt.datetime.now(dt.UTC)):
        reap_stale(rt)
        found = _found(queries.training_job(rt.db, job_id=job_id), job_id)
    return found


def reap_stale(rt: Runtime) -> list[str]:
    """Mark every stale queued or running job failed; returns their ids."""
    now = dt.datetime.now(dt.UTC)
    reaped = []
    with rt.db.session() as s:
        for found in s.scalars(select(TrainingJob).where(TrainingJob.status.in_(_ACTIVE))):
            if _mark_if_stale(rt, found, now):
                reaped.append(found.id)
    return reaped


def update_job(rt: Runtime, *, job_id: str, **values: Any) -> None:
    """Set fields of a job (status, progress, message, …).

    Raises:
        NotFound: no such job.
    """
    with rt.db.session() as s:
        found = _found(s.get(TrainingJob, job_id), job_id)
        for key, value in values.items():
            setattr(found, key, value)


def heartbeat(rt: Runtime, *, job_id: str, **values: Any) -> None:
    """Record that the job's process (this one) is alive, with any other fields.

    Raises:
        NotFound: no such job.
    """
    update_job(
        rt,
        job_id=job_id,
        pid=os.getpid(),
        host=HOST,
        heartbeat_at=dt.datetime.now(dt.UTC),
        **values,
    )


def clean_versions(rt: Runtime) -> list[str]:
    """Remove the version folders of training runs that were killed: unregistered, and
    their process gone (or, with no process to ask, untouched for
    ``orphan_version_minutes``), with their serving files and reports.

    Registered versions and the folder of a run still training are never touched.

    Returns:
        The versions removed.
    """
    s = rt.settings
    removed = Registry(s.models_dir).clean_unregistered(
        dt.timedelta(minutes=s.orphan_version_minutes)
    )
    for version in removed:
        for root in (s.serving_dir, s.reports_dir):
            if root is not None and (Path(root) / version).is_dir():
                shutil.rmtree(Path(root) / version, ignore_errors=True)
    return removed


def _stale(rt: Runtime, found: TrainingJob, now: dt.datetime) -> bool:
    """Whether a queued or running job's process is gone (this host) or silent too long."""
    alive = process_alive(found.pid, found.host, found.heartbeat_at)
    if alive is False:
        return True
    if alive:
        return False
    last = utc(found.heartbeat_at or found.started_at or now)
    return (now - last).total_seconds() > rt.settings.job_stale_seconds


def _mark_if_stale(rt: Runtime, found: TrainingJob, now: dt.datetime) -> bool:
    """Mark ``found`` (attached to an open session) failed if stale; whether it was."""
    if not _stale(rt, found, now):
        return False
    found.status = JobStatus.FAILED
    found.message = GONE
    found.finished_at = now
    return True


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
            "RECSVC_SERVING_DIR": str(s.serving_dir),
            "RECSVC_EMBEDDING_MODEL": s.embedding_model,
            "RECSVC_EMBEDDING_BACKEND": s.embedding_backend,
            "RECSVC_STATIC_MODEL_DIR": str(s.static_model_dir),
            "RECSVC_ENVIRONMENT": s.environment,
            "RECSVC_JOB_HEARTBEAT_SECONDS": str(s.job_heartbeat_seconds),
            "RECSVC_ORPHAN_VERSION_MINUTES": str(s.orphan_version_minutes),
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
