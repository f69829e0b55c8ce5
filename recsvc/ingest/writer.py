"""The write side of an import: resolve references, diff against the store, bulk upsert.

:func:`write` takes one validated chunk whose references all resolve to stored rows.
Rows are matched by ``external_id``. New rows go in with chunked SQLAlchemy Core
``insert()`` executemany; changed rows are updated with one chunked executemany
``UPDATE … WHERE id = :pk``; unchanged rows are not touched (so ``updated_at`` keeps its
meaning). Only columns present in the file are compared and written: a column left out
of a file leaves the stored values alone. Stored rows are looked up by the chunk's ids
only, so memory follows the chunk, not the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, bindparam, insert, select, update

from recsvc.ingest.schema import REFERENCE_ATTRIBUTES, EntitySchema
from recsvc.ingest.validate import IN_CHUNK

WRITE_CHUNK = 5_000


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    updated: int
    unchanged: int

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def write(
    conn: Connection,
    schema: EntitySchema,
    data: pd.DataFrame,
    ids: Mapping[str, Mapping[str, int]],
) -> WriteResult:
    """Upsert one validated chunk inside the caller's transaction.

    Args:
        conn: A connection inside an open transaction (the caller commits or rolls back).
        schema: The entity's schema.
        data: Typed rows that passed validation; every reference is a stored row.
        ids: Reference column → key → stored primary key (:attr:`Known.ids`).
    """
    table: Table = schema.table
    if data.empty:
        return WriteResult(0, 0, 0)

    keys: list[str] = []
    columns: list[list[Any]] = []
    for col in data.columns:
        spec = schema.column(col)
        values = data[col].tolist()
        if spec.references:
            mapping = ids[col]
            values = [None if v is None else mapping[v] for v in values]
            keys.append(REFERENCE_ATTRIBUTES[col])
        else:
            keys.append(spec.attribute or col)
        columns.append(values)
    rows = [dict(zip(keys, vals, strict=True)) for vals in zip(*columns, strict=True)]

    set_keys = [k for k in keys if k != "external_id"]
    existing = _existing(conn, table, [r["external_id"] for r in rows], set_keys)
    datetimes = {c for c in data.columns if schema.column(c).type == "datetime"}
    compared = [(pos, key, key in datetimes) for pos, key in enumerate(set_keys, start=1)]
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for row in rows:
        stored = existing.get(row["external_id"])
        if stored is None:
            new.append(row)
        elif _differs(row, stored, compared):
            changed.append({"_pk": stored[0], **{f"_v_{k}": row[k] for k in set_keys}})
    stmt_insert = insert(table)
    for part in chunks(new, WRITE_CHUNK):
        conn.execute(stmt_insert, list(part))
    if changed:
        stmt_update = (
            update(table)
            .where(table.c.id == bindparam("_pk"))
            .values({k: bindparam(f"_v_{k}") for k in set_keys})
        )
        for part in chunks(changed, WRITE_CHUNK):
            conn.execute(stmt_update, list(part))
    return WriteResult(len(new), len(changed), len(rows) - len(new) - len(changed))


def _existing(
    conn: Connection, table: Table, ids: list[str], keys: list[str]
) -> dict[str, Sequence[Any]]:
    """Stored rows ``(id, *keys, external_id)`` for the given external ids."""
    cols = [table.c.id, *(table.c[k] for k in keys), table.c.external_id]
    out: dict[str, Sequence[Any]] = {}
    for part in chunks(ids, IN_CHUNK):
        stmt = select(*cols).where(table.c.external_id.in_(list(part)))
        for row in conn.execute(stmt):
            out[row[-1]] = row
    return out


def _utc_naive(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _differs(
    row: dict[str, Any], stored: Sequence[Any], compared: list[tuple[int, str, bool]]
) -> bool:
    """Whether ``row`` differs from ``stored`` (``(id, *set_keys, external_id)``)."""
    for pos, key, is_datetime in compared:
        value, old = row[key], stored[pos]
        if is_datetime:
            value, old = _utc_naive(value), _utc_naive(old)
        if value != old:
            return True
    return False
