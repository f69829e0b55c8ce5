"""Core fixtures: settings on temporary folders, a migrated store (SQLite or
PostgreSQL), and the small demo dataset shared by the modelling tests.

PostgreSQL tests create and drop their own database. Locally they skip when the
server is unreachable; in CI (``CI=true``) they fail instead, so they always run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from sqlalchemy import create_engine, text

from recsvc.config import Settings
from recsvc.store import Database

# anyio loads its file functions lazily, on the first FileResponse (a plot download),
# inside a worker thread. Under pytest that import is assertion-rewritten, and
# CPython 3.11's parser is not thread-safe: run beside another thread's compile it
# fails with "AST constructor recursion depth mismatch" and the download comes back
# empty. Load it once here, in the main thread.
anyio.open_file  # noqa: B018

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_URL = os.environ.get("RECSVC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
TEST_OUTPUT = Path(__file__).resolve().parent.parent / "test-output"
REALDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata"

pytest_plugins = ["tests.fixtures_demo", "tests.fixtures_web", "tests.fixtures_api"]


def make_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings whose every folder lives under ``tmp``."""
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": tmp / "data",
        "models_dir": tmp / "models",
        "database_url": f"sqlite:///{tmp / 'data' / 'recsvc.db'}",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated SQLite store with the catalogue, empty otherwise."""
    database = Database.from_settings(settings)
    database.upgrade()
    yield database
    database.dispose()


def _pg_admin_url() -> str:
    return PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    try:
        admin = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}; these tests run in CI")
    name = f"recsvc_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same test against SQLite and PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    database = Database.from_url(url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def test_output() -> Path:
    """Where tests leave artifacts people look at (screenshots, plots)."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    return TEST_OUTPUT


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.skip(f"real data folder {REALDATA} is absent")
    return REALDATA


def copy_tree(src: Path, dst: Path) -> Path:
    """Hand out a copy of a session-scoped artifact folder."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def tree_digest(roots: list[Path]) -> dict[str, str]:
    """Every file under ``roots`` (and every folder, so that an empty new one counts)
    with a digest of its bytes: what "nothing was written" is checked against."""
    out: dict[str, str] = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
    return out
