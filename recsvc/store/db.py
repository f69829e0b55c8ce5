"""Engine, sessions and schema management for the domain store.

The schema is owned by Alembic (``recsvc/store/migrations``); :meth:`Database.upgrade`
runs it to head and then syncs the product catalogue. The same migrations run on
SQLite and PostgreSQL.

Example:
    >>> db = Database.from_url("sqlite://")
    >>> db.upgrade()
    >>> with db.session() as s:
    ...     ...
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from recsvc.config import Settings
from recsvc.store.catalogue import sync_catalogue
from recsvc.store.models import ENTITIES, Base, Product

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: How long a SQLite statement waits for another connection's write lock before it
#: fails with "database is locked". Writers hold the lock briefly (an import writes
#: only after validating, see :mod:`recsvc.ingest.importer`), so a live call waits
#: well under a second; this is the bound for the unexpected.
SQLITE_BUSY_TIMEOUT_S = 30


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine with the right pragmas; in-memory SQLite shares one connection."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            engine = create_engine(
                url, connect_args={"check_same_thread": False}, poolclass=StaticPool
            )
        else:
            path = url.split("///", 1)[-1]
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


class Database:
    """The store: one engine and a session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls.from_url(settings.database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def serialise(self, conn: Connection | Session, name: str) -> None:
        """Make the rest of ``conn``'s transaction exclusive among callers naming ``name``,
        across threads, processes and hosts sharing the store (check-then-insert races).

        Call it first in a fresh transaction. SQLite takes the database's write lock
        (``BEGIN IMMEDIATE``); PostgreSQL a transaction-scoped advisory lock on ``name``.
        Either is released when the transaction ends.
        """
        if self.is_sqlite:
            bind = conn.connection() if isinstance(conn, Session) else conn
            bind.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            key = zlib.crc32(name.encode()) - 2**31
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["engine"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        """Migrate the schema to ``revision`` and sync the product catalogue."""
        command.upgrade(self.alembic_config(), revision)
        with self.session() as s:
            sync_catalogue(s)

    def counts(self) -> dict[str, int]:
        """Row counts per importable entity plus products (for ``recsvc stats``)."""
        out: dict[str, int] = {}
        with self.session() as s:
            models: dict[str, type[Base]] = {**ENTITIES, "products": Product}
            for name, model in models.items():
                out[name] = s.scalar(select(func.count()).select_from(model)) or 0
        return out

    def dispose(self) -> None:
        self.engine.dispose()
