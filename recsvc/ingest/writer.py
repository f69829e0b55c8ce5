"""The write side of an import: resolve references, diff against the store, bulk upsert.

Rows are matched by ``external_id``. New rows go in with chunked SQLAlchemy Core
``insert()`` executemany; changed rows are updated with one chunked executemany
``UPDATE … WHERE id = :pk``; unchanged rows are not touched (so ``updated_at`` keeps its
meaning). Only columns present in the file are compared and written: a column left out
of a file leaves the stored values alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from tqdm import tqdm

from recsvc.ingest.schema import REFERENCE_ATTRIBUTES
from recsvc.ingest.validate import Validated
from recsvc.store.models import Client, Commission, Contact, Product

WRITE_CHUNK = 5_000
_IN_CHUNK = 900
_UNRESOLVED = -1
"""Stands for a parent that only a dry run's batch holds; equals no stored id."""

_PARENTS: dict[str, tuple[Any, Any]] = {
    "client_external_id": (Client.external_id, Client.id),
    "contact_external_id": (Contact.external_id, Contact.id),
    "commission_external_id": (Commission.external_id, Commission.id),
    "product_code": (Product.code, Product.id),
}


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    updated: int
    unchanged: int


def chunks(rows: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def write(
    conn: Connection, batch: Validated, *, dry_run: bool, progress: bool = False
) -> WriteResult:
    """Upsert one validated file inside the caller's transaction.

    Args:
        conn: A connection inside an open transaction (the caller commits or rolls back).
        batch: A file that passed validation.
        dry_run: Count what would change but write nothing.
        progress: Show a progress bar while writing.
    """
    schema = batch.schema
    table: Table = schema.table
    data = batch.data
    if data.empty:
        return WriteResult(0, 0, 0)

    keys: list[str] = []
    columns: list[list[Any]] = []
    for col in data.columns:
        spec = schema.column(col)
        values = data[col].tolist()
        if spec.references:
            mapping = _key_map(conn, col)
            if dry_run:
                values = [None if v is None else mapping.get(v, _UNRESOLVED) for v in values]
            else:
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
    if not dry_run:
        bar = tqdm(
            total=len(new) + len(changed),
            unit="rows",
            desc=f"write {schema.entity}",
            disable=not progress,
        )
        with bar:
            stmt_insert = insert(table)
            for part in chunks(new, WRITE_CHUNK):
                conn.execute(stmt_insert, list(part))
                bar.update(len(part))
            if changed:
                stmt_update = (
                    update(table)
                    .where(table.c.id == bindparam("_pk"))
                    .values({k: bindparam(f"_v_{k}") for k in set_keys})
                )
                for part in chunks(changed, WRITE_CHUNK):
                    conn.execute(stmt_update, list(part))
                    bar.update(len(part))
    return WriteResult(len(new), len(changed), len(rows) - len(new) - len(changed))


def _key_map(conn: Connection, column: str) -> dict[str, int]:
    key, pk = _PARENTS[column]
    return {k: i for k, i in conn.execute(select(key, pk))}


def _existing(
    conn: Connection, table: Table, ids: list[str], keys: list[str]
) -> dict[str, Sequence[Any]]:
    """Stored rows ``(id, *keys, external_id)`` for the given external ids."""
    cols = [table.c.id, *(table.c[k] for k in keys), table.c.external_id]
    out: dict[str, Sequence[Any]] = {}
    if len(ids) > 5 * _IN_CHUNK:  # a large file: one scan beats many IN lists
        wanted = set(ids)
        for row in conn.execute(select(*cols)):
            if row[-1] in wanted:
                out[row[-1]] = row
        return out
    for part in chunks(ids, _IN_CHUNK):
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
