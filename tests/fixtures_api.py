"""Fixtures for the API tests: an app over a small store with one key per role.

- ``api_env`` (per test): a tiny hand-made store (two clients, A and B), no model. Fast;
  for auth, errors, profiles, events.
- ``api_demo_bundle`` (session): the small demo dataset, its semantic index (built with
  the deterministic ``FakeEmbedder``) and a model trained ONCE by
  ``training.pipeline.train``; ``api_demo`` (per test) hands out a copy of all three.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from recsvc.auth import create_key
from recsvc.config import Settings
from recsvc.recommend.feedback import Shown, record_impressions
from recsvc.registry import Registry
from recsvc.runtime import Runtime
from recsvc.semantic import FakeEmbedder
from recsvc.store.enums import ClientKind, JobStatus, Purpose, Role, Surface
from recsvc.store.models import Client, Commission, Contact, Product, TrainingJob
from recsvc.usecases import clients as uc_clients
from recsvc.usecases import open_runtime
from tests.conftest import copy_tree, make_settings

#: The principals every matrix test uses; ``None`` means no key at all.
PRINCIPALS: tuple[str | None, ...] = ("librarian", "analyst", "admin", "portal", None)


@dataclass
class ApiEnv:
    """An app, its runtime and a secret per principal."""

    settings: Settings
    runtime: Runtime
    client: TestClient
    keys: dict[str, str] = field(default_factory=dict)
    clients: dict[str, str] = field(default_factory=dict)
    """``"A"``/``"B"`` → the external ids the portal tokens are bound to."""

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who else {}

    def get(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.get(path, headers=headers, **kw)

    def post(self, path: str, who: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(who), **kw.pop("headers", {})}
        return self.client.post(path, headers=headers, **kw)

    def impression(self, outcome: str = "accepted", client: str = "A") -> dict[str, Any]:
        """A feedback body answering a fresh librarian impression of ``client``."""
        cid = uc_clients.client_id(self.runtime, external_id=self.clients[client])
        code = self.product_codes()[0]
        (imp,) = record_impressions(
            self.runtime.db,
            cid,
            [Shown(code, 1, 0.5)],
            surface=Surface.LIBRARIAN,
            model_version=None,
            actor="test",
        )
        return {"impression_id": imp, "outcome": outcome}

    def portal_event(self) -> dict[str, Any]:
        """A portal events body: one impression of a catalogue product."""
        return {
            "events": [{"event": "impression", "item_code": self.product_codes()[0], "rank": 1}]
        }

    def no_running_job(self) -> dict[str, Any]:
        """Finish any queued or running job (one runs per store; the role matrix starts
        one per allowed role). Returns no request arguments."""
        with self.runtime.db.session() as s:
            for job in s.scalars(
                select(TrainingJob).where(
                    TrainingJob.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
                )
            ):
                job.status = JobStatus.FAILED
        return {}

    def product_codes(self) -> list[str]:
        with self.runtime.db.session() as s:
            return list(s.scalars(select(Product.code).order_by(Product.id)))

    def path_params(self) -> dict[str, str]:
        """Values for every path parameter the API has (client A, a job, a version, a plot)."""
        with self.runtime.db.session() as s:
            job_id = s.scalar(select(TrainingJob.id).limit(1))
            if job_id is None:
                job_id = "job-for-tests"
                s.add(
                    TrainingJob(
                        id=job_id,
                        status=JobStatus.SUCCEEDED,
                        progress=1.0,
                        requested_by="test",
                        message="recorded by the fixture",
                    )
                )
        version = Registry(self.settings.models_dir).active() or "v00000000-000000"
        plots = sorted((self.settings.models_dir / version / "plots").glob("*.png"))
        return {
            "external_id": self.clients["A"],
            "job_id": job_id,
            "version": version,
            "name": plots[0].name if plots else "none.png",
        }


def make_keys(runtime: Runtime, client_a: str, client_b: str) -> dict[str, str]:
    """One key per staff role, a portal token for client A (``portal``) and for B."""
    keys = {}
    for role in (Role.LIBRARIAN, Role.ANALYST, Role.ADMIN):
        keys[role.value] = create_key(runtime.db, f"test-{role.value}", role)[1]
    keys["portal"] = create_key(runtime.db, "test-portal-a", Role.PORTAL, client_a)[1]
    keys["portal_b"] = create_key(runtime.db, "test-portal-b", Role.PORTAL, client_b)[1]
    return keys


def _seed_two_clients(runtime: Runtime) -> None:
    with runtime.db.session() as s:
        for ext, name, title in (
            ("CA-001", "甲生物科技有限公司", "猪瘟疫苗佐剂的制备方法"),
            ("CB-002", "乙环保工程有限公司", "农村污水MBBR处理工艺"),
        ):
            c = Client(
                external_id=ext,
                name_zh=name,
                name_en=None,
                kind=ClientKind.ENTERPRISE,
                industry_field="biotech" if ext == "CA-001" else "environment",
                account_manager="王老师",
            )
            s.add(c)
            s.flush()
            s.add(
                Contact(
                    external_id=f"P-{ext}",
                    client_id=c.id,
                    name="张三",
                    email=f"{ext.lower()}@example.com",
                    phone="13800000000",
                )
            )
            s.add(
                Commission(
                    external_id=f"K-{ext}",
                    client_id=c.id,
                    title_zh=title,
                    purpose=Purpose.PROJECT_APPROVAL,
                    fee=3000.0,
                    commissioned_on=dt.date(2025, 3, 1),
                )
            )


@pytest.fixture
def api_env(tmp_path: Path) -> Iterator[ApiEnv]:
    """An app over a two-client store and no model, with keys for every role."""
    settings = make_settings(tmp_path)
    runtime = open_runtime(settings, embedder=FakeEmbedder())
    _seed_two_clients(runtime)
    keys = make_keys(runtime, "CA-001", "CB-002")
    with TestClient(create_app(settings, runtime), raise_server_exceptions=False) as client:
        yield ApiEnv(settings, runtime, client, keys, {"A": "CA-001", "B": "CB-002"})
    runtime.close()


#: Clients in the API tests' demo dataset (small: the bundle is trained once per session).
API_DEMO_CLIENTS = 240
#: A training job that exercises the job plumbing without training (matrix, schemathesis).
NO_TRAINING = (sys.executable, "-c", "import sys; sys.exit(0)")
#: The real ``recsvc train-job`` command, in a process whose semantic layer embeds with the
#: FakeEmbedder the test index was built with (the one seam; training itself is real).
TRAIN_JOB_WITH_FAKE_EMBEDDER = (
    sys.executable,
    "-c",
    "import recsvc.semantic.layer as layer; from recsvc.semantic import FakeEmbedder; "
    "layer.load_embedder = lambda *a, **k: FakeEmbedder(); "
    "from recsvc.cli import main; main()",
    "train-job",
)


def _demo_settings(base: Path) -> Settings:
    return make_settings(base, backtest_cutoffs=2)


@pytest.fixture(scope="session")
def api_demo_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo store, its FakeEmbedder index and ONE trained, promoted version.

    Set ``RECSVC_TEST_API_BUNDLE`` to a folder prepared the same way (``data/``,
    ``models/``) to reuse it across runs while developing.
    """
    prepared = os.environ.get("RECSVC_TEST_API_BUNDLE")
    if prepared and Registry(Path(prepared) / "models").active():
        return Path(prepared)
    from recsvc.demo import generate
    from recsvc.ingest import import_dir
    from recsvc.semantic import build_semantic
    from recsvc.store import Database
    from training.pipeline import train

    base = tmp_path_factory.mktemp("api-demo")
    settings = _demo_settings(base)
    generate(base / "import", n_clients=API_DEMO_CLIENTS)
    db = Database.from_settings(settings)
    db.upgrade()
    import_dir(db, base / "import")
    layer = build_semantic(db, settings, FakeEmbedder())
    layer.save()
    db.dispose()
    train(settings, semantic=layer, track=False)
    return base


def open_demo(
    bundle: Path, where: Path, job_argv: Sequence[str] | None = NO_TRAINING
) -> tuple[Settings, Runtime]:
    """A private copy of the demo bundle at ``where`` and runtime over it."""
    for sub in ("data", "models"):
        copy_tree(bundle / sub, where / sub)
    settings = _demo_settings(where)
    runtime = open_runtime(
        settings, embedder=FakeEmbedder(), job_argv=job_argv, warm_worklist=False
    )
    assert runtime.bundle is not None, "the demo bundle should load"
    return settings, runtime


def second_version(settings: Settings) -> tuple[str, str]:
    """Register a copy of the active version under a new name: ``(active, copy)``.

    Hot-swap tests need two versions; training twice would only make them slower, and
    what they test is the swap.
    """
    registry = Registry(settings.models_dir)
    v1 = registry.active()
    assert v1 is not None
    v2 = f"{v1}-2"
    shutil.copytree(registry.path(v1), settings.models_dir / v2)
    served = Path(settings.serving_dir)
    if (served / v1).is_dir():  # its portal lists and kept explanations live there
        shutil.copytree(served / v1, served / v2)
    meta = json.loads((settings.models_dir / v2 / "meta.json").read_text())
    (settings.models_dir / v2 / "meta.json").write_text(json.dumps({**meta, "version": v2}))
    return v1, v2


def demo_env(settings: Settings, runtime: Runtime) -> Iterator[ApiEnv]:
    """An :class:`ApiEnv` over demo runtime; portal tokens for two clients with history."""
    a, b = _two_portal_clients(runtime)
    keys = make_keys(runtime, a, b)
    with TestClient(create_app(settings, runtime), raise_server_exceptions=False) as client:
        yield ApiEnv(settings, runtime, client, keys, {"A": a, "B": b})
    runtime.close()


def _two_portal_clients(runtime: Runtime) -> tuple[str, str]:
    bundle = runtime.bundle
    assert bundle is not None
    ids = sorted(bundle.portal_recs)[:2]
    found = uc_clients.external_ids(runtime, client_ids=ids)
    return found[ids[0]], found[ids[1]]


@pytest.fixture(scope="module")
def api_demo(api_demo_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    """The demo app with a trained model, shared by one test module (a private copy)."""
    settings, runtime = open_demo(api_demo_bundle, tmp_path_factory.mktemp("api-demo-copy"))
    yield from demo_env(settings, runtime)


@pytest.fixture
def cli_env(api_env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiEnv]:
    """The command line pointed at the api_env store (another process's view of it)."""
    from recsvc.cli import _common

    _common.settings.cache_clear()
    for key, value in {
        "RECSVC_DATABASE_URL": api_env.settings.database_url,
        "RECSVC_DATA_DIR": str(api_env.settings.data_dir),
        "RECSVC_MODELS_DIR": str(api_env.settings.models_dir),
        "RECSVC_ENVIRONMENT": "test",
    }.items():
        monkeypatch.setenv(key, value)
    yield api_env
    _common.settings.cache_clear()
