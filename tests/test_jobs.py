"""Training jobs: one at a time per store, dead ones noticed, killed runs' folders removed.

The "training" here is a stand-in process that only sleeps (the job plumbing is what
is tested); each test ends the processes it started, by their ids.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from recsvc.auth import create_key
from recsvc.config import Settings
from recsvc.errors import JobRunning
from recsvc.liveness import HOST
from recsvc.registry import OWNER, Registry
from recsvc.runtime import Runtime
from recsvc.store.enums import JobStatus, Role
from recsvc.store.models import TrainingJob
from recsvc.usecases import jobs, open_runtime
from tests.conftest import make_settings
from tests.fixtures_web import csrf_of, sign_in

#: A "training job" that stays alive until it is ended.
SLEEPER = (sys.executable, "-c", "import time; time.sleep(120)")


def _stop(rt: Runtime) -> None:
    """End the job processes this test started (by pid, recorded on their jobs), and
    let their watcher threads record the end before the store goes away."""
    with rt.db.session() as s:
        pids = [j.pid for j in s.query(TrainingJob).all() if j.pid and j.host == HOST]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
    for thread in threading.enumerate():
        if thread.name.startswith("train-"):
            thread.join(30)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, Runtime, dict[str, str]]]:
    settings = make_settings(tmp_path)
    rt = open_runtime(settings, job_argv=SLEEPER, warm_worklist=False)
    keys = {
        "analyst": create_key(rt.db, "ana", Role.ANALYST)[1],
        "admin": create_key(rt.db, "adm", Role.ADMIN)[1],
    }
    with TestClient(create_app(settings, rt), raise_server_exceptions=False) as client:
        yield client, rt, keys
        _stop(rt)
    rt.close()


def _post(client: TestClient, key: str) -> object:
    return client.post("/api/v1/jobs/training", headers={"Authorization": f"Bearer {key}"})


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _record(rt: Runtime, job_id: str, **values: object) -> None:
    with rt.db.session() as s:
        s.add(TrainingJob(id=job_id, progress=0.0, requested_by="test", **values))


def test_a_second_training_job_gets_409_with_the_running_ones_id(
    env: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, rt, keys = env
    first = _post(client, keys["analyst"])
    assert first.status_code == 202, first.text  # type: ignore[attr-defined]
    running = first.json()["id"]  # type: ignore[attr-defined]
    second = _post(client, keys["admin"])
    assert second.status_code == 409, second.text  # type: ignore[attr-defined]
    problem = second.json()  # type: ignore[attr-defined]
    assert problem["job_id"] == running and problem["status"] == 409
    assert second.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    found = jobs.job(rt, job_id=running)
    assert found.status == JobStatus.QUEUED and found.pid and found.host == HOST
    with rt.db.session() as s:
        assert s.query(TrainingJob).count() == 1


def test_the_console_train_button_shows_the_running_job(
    env: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, _rt, keys = env
    running = _post(client, keys["analyst"]).json()["id"]  # type: ignore[attr-defined]
    client.base_url = "http://127.0.0.1"  # type: ignore[assignment]
    sign_in(client, keys["analyst"])
    page = client.get("/console/models")
    resp = client.post(
        "/console/models/train", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert resp.status_code == 409
    assert running in resp.text and f"/console/models/jobs/{running}" in resp.text


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_only_one_of_many_racing_starts_wins(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Eight runtimes (own engines and connections, as separate workers have) start a
    job at the same instant: exactly one is recorded."""
    if backend == "sqlite":
        settings = make_settings(tmp_path)
    else:
        settings = make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    open_runtime(settings, load_model=False).close()  # migrate once
    runtimes = [
        open_runtime(settings, load_model=False, job_argv=SLEEPER, warm_worklist=False)
        for _ in range(8)
    ]
    barrier = threading.Barrier(len(runtimes))
    started: list[str] = []
    refused: list[str] = []

    def start(rt: Runtime) -> None:
        barrier.wait()
        try:
            started.append(jobs.start_training(rt, requested_by="race").id)
        except JobRunning as exc:
            refused.append(exc.job_id)

    threads = [threading.Thread(target=start, args=(rt,)) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert len(started) == 1, (started, refused)
        assert refused == [started[0]] * (len(runtimes) - 1)
    finally:
        _stop(runtimes[0])
        for rt in runtimes:
            rt.close()


def test_a_job_whose_process_is_gone_is_marked_failed_on_read_and_on_start(
    env: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, rt, keys = env
    now = dt.datetime.now(dt.UTC)
    _record(rt, "dead-here", status=JobStatus.RUNNING, pid=_dead_pid(), host=HOST, heartbeat_at=now)
    got = client.get("/api/v1/jobs/dead-here", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert got.status_code == 200 and got.json()["status"] == "failed"
    assert got.json()["message"] == jobs.GONE and got.json()["finished_at"]
    # a dead job never read: a new job is not refused because of it
    _record(rt, "dead-too", status=JobStatus.QUEUED, pid=_dead_pid(), host=HOST, heartbeat_at=now)
    resp = _post(client, keys["analyst"])
    assert resp.status_code == 202, resp.text  # type: ignore[attr-defined]
    assert jobs.job(rt, job_id="dead-too").status == JobStatus.FAILED


def test_a_job_on_another_host_is_stale_only_after_its_heartbeat_stops(
    env: tuple[TestClient, Runtime, dict[str, str]],
) -> None:
    client, rt, keys = env
    now = dt.datetime.now(dt.UTC)
    quiet = dt.timedelta(seconds=rt.settings.job_stale_seconds + 60)
    _record(rt, "elsewhere", status=JobStatus.RUNNING, pid=1, host="other", heartbeat_at=now)
    resp = _post(client, keys["analyst"])
    assert resp.status_code == 409 and resp.json()["job_id"] == "elsewhere"  # type: ignore[attr-defined]
    jobs.update_job(rt, job_id="elsewhere", heartbeat_at=now - quiet)
    assert jobs.reap_stale(rt) == ["elsewhere"]
    assert jobs.job(rt, job_id="elsewhere").message == jobs.GONE
    assert _post(client, keys["analyst"]).status_code == 202  # type: ignore[attr-defined]


def test_train_job_records_its_process_and_heartbeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``recsvc train-job`` (in-process, with a stand-in pipeline that runs one step
    for a few heartbeat intervals) records pid, host, beats and the result."""
    from recsvc.cli import serve
    from training import pipeline

    settings = make_settings(tmp_path, job_heartbeat_seconds=0.05)
    rt = open_runtime(settings, load_model=False, warm_worklist=False)
    _record(rt, "job-1", status=JobStatus.QUEUED, host=HOST)
    beats: list[dt.datetime] = []

    def fake_train(s: Settings, progress: bool = False) -> str:
        logging.getLogger(pipeline.__name__).info("train: %s", pipeline.STEPS[1])
        for _ in range(6):
            time.sleep(0.1)
            found = jobs.job(rt, job_id="job-1")
            assert found.status == JobStatus.RUNNING and found.pid == os.getpid()
            assert found.heartbeat_at is not None
            beats.append(found.heartbeat_at)
        return "v20990101-000000"

    monkeypatch.setattr(serve._common, "runtime", lambda **_: rt)
    monkeypatch.setattr(serve, "settings", lambda: settings)
    monkeypatch.setattr(pipeline, "train", fake_train)
    serve.train_job("job-1")
    done = jobs.job(rt, job_id="job-1")
    assert done.status == JobStatus.SUCCEEDED and done.result
    assert done.result["version"] == "v20990101-000000"
    assert done.host == HOST and done.pid == os.getpid()
    assert len(set(beats)) >= 3, beats  # the heartbeat moved while the step ran
    rt.close()


# -- version folders of killed runs ---------------------------------------------------


def _age(folder: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (then, then))


def _orphan(registry: Registry, pid: int | None, host: str = HOST) -> str:
    version, folder = registry.create()
    (folder / "value" / "model.txt").write_text("half written")
    if pid is None:
        (folder / OWNER).unlink()
    else:
        owner = json.loads((folder / OWNER).read_text())
        (folder / OWNER).write_text(json.dumps({**owner, "pid": pid, "host": host}))
    return version


def test_clean_removes_only_unregistered_folders_whose_run_is_over(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, orphan_version_minutes=30)
    rt = open_runtime(settings, load_model=False, warm_worklist=False)
    registry = Registry(settings.models_dir)
    registered, folder = registry.create()
    registry.write_meta(registered, {"created": "2025-01-01"})
    assert not (folder / OWNER).exists()  # registering drops the owner file
    _age(folder, 600)
    dead = _orphan(registry, _dead_pid())
    running = _orphan(registry, os.getpid())  # this process: a run still training
    _age(settings.models_dir / running, 600)
    elsewhere_old = _orphan(registry, 1, host="other")
    _age(settings.models_dir / elsewhere_old, 60)
    elsewhere_new = _orphan(registry, 1, host="other")
    ownerless_old = _orphan(registry, None)
    _age(settings.models_dir / ownerless_old, 60)
    assert settings.serving_dir is not None
    (settings.serving_dir / dead).mkdir(parents=True)
    (settings.serving_dir / registered).mkdir(parents=True)

    removed = jobs.clean_versions(rt)

    assert sorted(removed) == sorted([dead, elsewhere_old, ownerless_old])
    left = sorted(p.name for p in settings.models_dir.iterdir() if p.is_dir())
    assert left == sorted([registered, running, elsewhere_new])
    assert registry.versions() == [registered]
    assert not (settings.serving_dir / dead).exists()
    assert (settings.serving_dir / registered).exists()
    rt.close()


def test_models_clean_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsvc.cli import _common, app

    settings = make_settings(tmp_path)
    rt = open_runtime(settings, load_model=False, warm_worklist=False)
    registry = Registry(settings.models_dir)
    dead = _orphan(registry, _dead_pid())
    monkeypatch.setattr(_common, "runtime", lambda **_: rt)
    result = CliRunner().invoke(app, ["models", "clean"])
    assert result.exit_code == 0, result.output
    assert dead in result.output and not (settings.models_dir / dead).exists()
    rt.close()
