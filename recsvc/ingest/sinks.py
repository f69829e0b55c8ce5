"""Where the importer sends each validated chunk, and the keys it remembers meanwhile.

- :class:`WriteNow` writes a chunk's writable rows at once (inside the import's
  transaction: the streaming flow, PostgreSQL).
- :class:`Spill` keeps a chunk's passing rows in a file, to be written after every
  file has passed (the checked-first flow, SQLite); :class:`KeysOnDisk` remembers the
  keys those unwritten rows offer later files in temporary tables, not memory.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection

from recsvc.ingest.schema import SCHEMAS, EntitySchema
from recsvc.ingest.validate import Known, Pending
from recsvc.ingest.writer import WriteResult, write

__all__ = ["KeysOnDisk", "Spill", "WriteNow"]

_KEY_TABLES = itertools.count()
#: Entities other files refer to: their keys are remembered while files are checked.
_REFERENCED = frozenset(
    spec.references.split(".")[0]
    for schema in SCHEMAS.values()
    for spec in schema.references
    if spec.references
)


class KeysOnDisk(Pending):
    """:class:`Pending` whose keys live in temporary tables of the checking connection,
    not in memory (a check reads every file before anything is written)."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.cursor = conn.connection.cursor()

    def add(self, entity: str, data: pd.DataFrame) -> None:
        if "external_id" not in data or data.empty:
            return
        keys = self.owners.get(entity)
        if not isinstance(keys, _KeysTable):
            keys = _KeysTable(self.cursor, f"import_keys_{next(_KEY_TABLES)}")
            self.owners[entity] = keys
        clients = (
            data["client_external_id"].tolist()
            if "client_external_id" in data
            else [None] * len(data)
        )
        keys.put(
            (ext, client)
            for ext, client in zip(data["external_id"].tolist(), clients, strict=True)
            if ext is not None
        )

    def drop(self) -> None:
        """Drop the temporary tables (a pooled connection outlives the import)."""
        for keys in self.owners.values():
            if isinstance(keys, _KeysTable):
                self.cursor.execute(f"DROP TABLE IF EXISTS temp.{keys.name}")
        self.cursor.close()


class _KeysTable(dict[str, str | None]):
    """External id → its client's external id, in a temporary SQLite table; read one key
    at a time (``in``, ``[]``, ``get``) the way :meth:`Known.lookup` reads them."""

    def __init__(self, cursor: Any, name: str) -> None:
        super().__init__()
        self.cursor = cursor
        self.name = name
        cursor.execute(f"CREATE TEMPORARY TABLE {name} (key TEXT PRIMARY KEY, client TEXT)")
        self._last: tuple[str, str | None] | None = None

    def put(self, pairs: Iterable[tuple[str, str | None]]) -> None:
        self.cursor.executemany(f"INSERT OR REPLACE INTO {self.name} VALUES (?, ?)", pairs)

    def _find(self, key: object) -> tuple[str, str | None] | None:
        if self._last is not None and self._last[0] == key:
            return self._last
        row = self.cursor.execute(
            f"SELECT key, client FROM {self.name} WHERE key = ?", (key,)
        ).fetchone()
        self._last = (row[0], row[1]) if row else None
        return self._last

    def __contains__(self, key: object) -> bool:
        return self._find(key) is not None

    def __getitem__(self, key: str) -> str | None:
        found = self._find(key)
        if found is None:
            raise KeyError(key)
        return found[1]

    def get(self, key: str, default: Any = None) -> Any:
        found = self._find(key)
        return default if found is None else found[1]


class WriteNow:
    """Write a chunk's writable rows now (with ``writer``, :func:`write` by default);
    remember the others as :class:`Pending`."""

    def __init__(
        self,
        conn: Connection,
        pending: Pending,
        writer: Callable[..., WriteResult] = write,
    ) -> None:
        self.conn = conn
        self.pending = pending
        self.writer = writer

    def __call__(
        self, schema: EntitySchema, data: pd.DataFrame, good: pd.Series, known: Known
    ) -> WriteResult:
        self.pending.add(schema.entity, data[~good])
        return self.writer(self.conn, schema, data[good], known.ids)


class Spill:
    """Keep a chunk's rows that passed their checks in a file, to write later; remember
    every row's keys as :class:`Pending` (nothing is in the store yet)."""

    def __init__(self, folder: Path, pending: Pending) -> None:
        self.folder = folder
        self.pending = pending
        self.count = 0

    def __call__(
        self, schema: EntitySchema, data: pd.DataFrame, good: pd.Series, known: Known
    ) -> WriteResult:
        if schema.entity in _REFERENCED:
            self.pending.add(schema.entity, data)
        if good.any():
            self.folder.mkdir(parents=True, exist_ok=True)
            data[good].to_pickle(self.part(self.count))
            self.count += 1
        return WriteResult(0, 0, 0)

    def part(self, number: int) -> Path:
        """The file of the ``number``-th spilled chunk."""
        return self.folder / f"{number:06d}.pkl"
