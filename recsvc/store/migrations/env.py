"""Alembic environment: the engine is handed in by :meth:`recsvc.store.Database.upgrade`.

Run from the command line with ``recsvc db upgrade`` (it builds the engine from the
settings); ``render_as_batch`` keeps ALTERs portable to SQLite.
"""

from __future__ import annotations

from alembic import context

from recsvc.store.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: build from settings
    from recsvc.config import Settings
    from recsvc.store.db import make_engine

    engine = make_engine(Settings().database_url)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
