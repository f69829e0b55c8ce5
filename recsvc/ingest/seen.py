"""External ids an import has already read from a file, kept in the database.

A file is validated chunk by chunk, so a duplicate ``external_id`` may sit in a later
chunk than its first occurrence. :class:`SeenIds` remembers every id of the file (with
the row it was first on) in a temporary table of the import's own connection, so the
check costs disk, not memory, however long the file is. The table lives inside the
import's transaction and is dropped with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from types import TracebackType

import pandas as pd
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, insert, select

from recsvc.ingest.validate import IN_CHUNK

__all__ = ["SeenIds"]

_NAMES = itertools.count()
#: Insert that skips ids already present, in each backend's driver syntax (positional
#: tuples skip SQLAlchemy's per-row parameter processing: this runs for every row).
_IGNORING = {
    "sqlite": "INSERT OR IGNORE INTO {table} (external_id, row) VALUES (?, ?)",
    "postgresql": "INSERT INTO {table} (external_id, row) VALUES (%s, %s) ON CONFLICT DO NOTHING",
}


class SeenIds:
    """The ids of one file read so far; use as a context manager (creates, then drops).

    Example:
        >>> with SeenIds(conn) as seen:                      # doctest: +SKIP
        ...     seen.add(validated.data); seen.earlier(["C1", "C2"])
        {'C1': 2}
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.table = Table(
            f"import_seen_{next(_NAMES)}",
            MetaData(),
            Column("external_id", String(64), primary_key=True),
            Column("row", Integer, nullable=False),
            prefixes=["TEMPORARY"],
        )

    def __enter__(self) -> SeenIds:
        self.table.create(self.conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:  # after an error the caller rolls back, which drops it too
            self.table.drop(self.conn)

    def earlier(self, ids: Iterable[str]) -> dict[str, int]:
        """Those of ``ids`` already added, with the row each was first on."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            part = wanted[start : start + IN_CHUNK]
            stmt = select(self.table.c.external_id, self.table.c.row).where(
                self.table.c.external_id.in_(part)
            )
            found.update({ext: row for ext, row in self.conn.execute(stmt)})
        return found

    def add(self, data: pd.DataFrame) -> None:
        """Remember the ids of a validated chunk not seen before, with their first rows."""
        if "external_id" not in data or data.empty:
            return
        ids = data["external_id"]
        ids = ids[ids.notna() & ~ids.duplicated(keep="first")]
        if ids.empty:
            return
        sql = _IGNORING.get(self.conn.dialect.name)
        if sql is not None:  # one plain executemany: an id seen before keeps its first row
            rows = list(zip(ids.tolist(), ids.index.astype(int).tolist(), strict=True))
            self.conn.exec_driver_sql(sql.format(table=self.table.name), rows)
            return
        before = self.earlier(ids.tolist())
        ids = ids[~ids.isin(list(before))]
        params = [{"external_id": ext, "row": int(row)} for row, ext in ids.items()]
        if params:
            self.conn.execute(insert(self.table), params)
