"""``recsvc serve --workers 2``: two processes serve, and a promotion made through one
worker is followed by the other (each polls the registry pointer).

The worker processes are spawned fresh, so the one test seam (the FakeEmbedder the
test index was built with, as in ``TRAIN_JOB_WITH_FAKE_EMBEDDER``) reaches them through
a ``sitecustomize`` module on their ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from recsvc.auth import create_key
from recsvc.store import Database
from recsvc.store.enums import Role
from tests.conftest import copy_tree
from tests.fixtures_api import _demo_settings, second_version

POLL_SECONDS = 0.5
SEAM = """
import recsvc.semantic.layer as layer
from recsvc.semantic import FakeEmbedder
layer.load_embedder = lambda *a, **k: FakeEmbedder()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(client: httpx.Client) -> dict:
    # a new connection each time, so the kernel may hand it to either worker
    r = client.get("/readyz", headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def two_workers(api_demo_bundle: Path, tmp_path: Path) -> Iterator[tuple[httpx.Client, dict]]:
    for sub in ("data", "models"):
        copy_tree(api_demo_bundle / sub, tmp_path / sub)
    settings = _demo_settings(tmp_path)
    v1, v2 = second_version(settings)
    db = Database.from_settings(settings)
    _, admin = create_key(db, "w-admin", Role.ADMIN)
    _, librarian = create_key(db, "w-librarian", Role.LIBRARIAN)
    db.dispose()
    port = _free_port()
    seam = tmp_path / "seam"
    seam.mkdir()
    (seam / "sitecustomize.py").write_text(SEAM)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(seam), os.environ.get("PYTHONPATH")) if p),
        "RECSVC_ENVIRONMENT": "test",
        "RECSVC_DATA_DIR": str(tmp_path / "data"),
        "RECSVC_MODELS_DIR": str(settings.models_dir),
        "RECSVC_DATABASE_URL": settings.database_url,
        "RECSVC_BACKTEST_CUTOFFS": "2",
        "RECSVC_REGISTRY_POLL_SECONDS": str(POLL_SECONDS),
        "RECSVC_LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from recsvc.cli import main; main()",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
        ],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + 120
        pids: set[int] = set()
        while len(pids) < 2:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "two workers never both answered"
            try:
                body = _ready(client)
                assert not body["model_error"], body["model_error"]
                if body["model_loaded"]:
                    pids.add(body["worker"])
            except httpx.TransportError:
                time.sleep(0.5)
        yield client, {"v1": v1, "v2": v2, "admin": admin, "librarian": librarian}
    finally:
        client.close()
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_every_worker_follows_a_promotion(two_workers: tuple[httpx.Client, dict]) -> None:
    client, ctx = two_workers
    before = {_ready(client)["model_version"] for _ in range(20)}
    assert before == {ctx["v1"]}
    r = client.post(
        f"/api/v1/models/{ctx['v2']}/promote?force=true",
        headers={"Authorization": f"Bearer {ctx['admin']}"},
    )
    assert r.status_code == 200, r.text
    # the worker that took the promote swapped at once; the other sees the pointer
    # change at its next poll and keeps serving v1 until v2 is loaded whole
    latest: dict[int, str] = {}
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body = _ready(client)
        assert body["model_loaded"], body
        latest[body["worker"]] = body["model_version"]
        if len(latest) == 2 and set(latest.values()) == {ctx["v2"]}:
            break
        time.sleep(0.2)
    assert len(latest) == 2, "both workers should have answered"
    assert set(latest.values()) == {ctx["v2"]}, latest
    lib = {"Authorization": f"Bearer {ctx['librarian']}", "Connection": "close"}
    clients = client.get("/api/v1/clients?limit=1", headers=lib).json()["data"]
    ext = clients[0]["external_id"]
    served = 0
    for _ in range(6):
        r = client.get(f"/api/v1/clients/{ext}/recommendations?k=3", headers=lib)
        assert r.status_code == 200, r.text
        assert r.headers["x-model-version"] == ctx["v2"]
        served += len(r.json()["data"])
    assert served > 0
    # /metrics sums every worker's samples, whichever worker answers (ten new
    # connections: both workers answer some, as the readiness polls above showed)
    for _ in range(10):
        text = client.get("/metrics", headers={"Connection": "close"}).text
        counted = sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("recsvc_recommendations_total{") and 'surface="librarian"' in line
        )
        assert counted == served


def test_serve_gives_a_loading_worker_time_and_shared_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn kills a worker that misses its 5 s ping; loading a 100k-client model holds
    a worker longer than that, so serve passes RECSVC_WORKER_HEALTHCHECK_SECONDS on."""
    import uvicorn
    from typer.testing import CliRunner

    from recsvc.cli import _common, app

    calls: list[dict] = []
    monkeypatch.setattr(
        uvicorn,
        "run",
        lambda *a, **k: calls.append(
            {"args": a, **k, "metrics": os.environ["PROMETHEUS_MULTIPROC_DIR"]}
        ),
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored after the test
    monkeypatch.setenv("RECSVC_WORKER_HEALTHCHECK_SECONDS", "300")
    monkeypatch.setenv("RECSVC_DATA_DIR", str(tmp_path))
    _common.settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--workers", "3"])
    finally:
        _common.settings.cache_clear()
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call["args"] == ("api.app:app_from_env",) and call["factory"] is True
    assert call["workers"] == 3 and call["timeout_worker_healthcheck"] == 300
    assert call["metrics"] and not Path(call["metrics"]).exists()  # a fresh folder, removed
