"""Demo-data fixtures shared by the modelling tests (registered in tests/conftest.py).

- ``demo_dir`` (session): import files of a small demo dataset (``DEMO_TEST_CLIENTS``).
- ``demo_db_path`` (session): a migrated SQLite file with that dataset imported.
- ``demo_settings`` (function): Settings on a per-test copy of that file.
- ``demo_db`` (function): a :class:`~recsvc.store.Database` on that copy.
- ``demo_frames`` (session): :func:`~recsvc.store.frames.load_frames` of the demo store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsvc.config import Settings
from recsvc.store import Database
from recsvc.store.frames import Frames, load_frames

DEMO_TEST_CLIENTS = 600
DEMO_TEST_SEED = 7


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Files of the small demo dataset, generated once per session."""
    from recsvc.demo import generate

    out = tmp_path_factory.mktemp("demo") / "files"
    generate(out, n_clients=DEMO_TEST_CLIENTS, seed=DEMO_TEST_SEED)
    return out


@pytest.fixture(scope="session")
def demo_db_path(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the imported demo dataset (do not write to it)."""
    from recsvc.ingest import import_dir

    path = tmp_path_factory.mktemp("demo-db") / "recsvc.db"
    db = Database.from_url(f"sqlite:///{path}")
    db.upgrade()
    import_dir(db, demo_dir)
    with db.engine.connect() as conn:  # fold the WAL into the file so a copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def demo_settings(demo_db_path: Path, tmp_path: Path) -> Settings:
    """Settings on a per-test copy of the demo store; folders under ``tmp_path``."""
    from tests.conftest import make_settings

    data = tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo_db_path, data / "recsvc.db")
    return make_settings(tmp_path, database_url=f"sqlite:///{data / 'recsvc.db'}")


@pytest.fixture
def demo_db(demo_settings: Settings) -> Iterator[Database]:
    """A Database on the per-test copy of the demo store."""
    db = Database.from_settings(demo_settings)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def demo_frames(demo_db_path: Path) -> Frames:
    """The demo store as frames (read once per session; treat as read-only)."""
    db = Database.from_url(f"sqlite:///{demo_db_path}")
    try:
        return load_frames(db)
    finally:
        db.dispose()
