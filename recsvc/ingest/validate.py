"""Validation of one chunk of an entity file against its :class:`~.schema.EntitySchema`.

Every row is checked before it is written: header (missing required columns, unknown
or duplicate columns; on the first chunk), every cell (type,
date, range, enum, length, what the database can hold), the file as a whole (duplicate
``external_id``, also against the ids of earlier chunks) and references (to rows in the
database, which already holds the rows this import wrote before, or to :class:`Pending`
rows of this import that could not be written). Checks are vectorised over pandas
columns, so validation costs about as much as reading the file.

Cells are converted by :mod:`recsvc.ingest.cells`. Values of personal columns
(:attr:`ColumnSpec.personal`) are never quoted in a :class:`~recsvc.errors.Problem`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select

from recsvc.errors import Problem
from recsvc.ingest.cells import as_text, convert_column, show
from recsvc.ingest.readers import Table
from recsvc.ingest.schema import EntitySchema
from recsvc.store.models import Client, Commission, Contact, Product

#: Rows per ``IN (…)`` list when looking keys up (well under every backend's limit).
IN_CHUNK = 900

#: What each reference column points to: (key column, primary key, owning client's table).
_PARENTS: dict[str, tuple[Any, Any, Any]] = {
    "client_external_id": (Client.external_id, Client.id, None),
    "contact_external_id": (Contact.external_id, Contact.id, Contact.client_id),
    "commission_external_id": (Commission.external_id, Commission.id, Commission.client_id),
    "product_code": (Product.code, Product.id, None),
}


@dataclass
class Pending:
    """Rows of this import that passed their own checks but were not written (a row with
    a problem, or one referring to such a row), so later files may still refer to them.

    Empty unless the import is going to be rejected, so a good import holds no keys in
    memory: everything it wrote is looked up in the database.
    """

    owners: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """Entity → external id → its client's external id (``None`` for clients)."""

    def add(self, entity: str, data: pd.DataFrame) -> None:
        """Remember the external ids (and their clients) of unwritten rows."""
        if "external_id" not in data or data.empty:
            return
        clients = (
            data["client_external_id"].tolist()
            if "client_external_id" in data
            else [None] * len(data)
        )
        target = self.owners.setdefault(entity, {})
        for ext, client in zip(data["external_id"].tolist(), clients, strict=True):
            if ext is not None:
                target[ext] = client


@dataclass
class Known:
    """Keys the references of one chunk point to: stored rows plus :class:`Pending` rows.

    ``contacts`` and ``commissions`` map their external id to their client's external id,
    so a reference can be checked to belong to the same client. ``ids`` maps each
    reference column's stored keys to their primary keys (pending keys have none).
    """

    clients: set[str] = field(default_factory=set)
    contacts: dict[str, str | None] = field(default_factory=dict)
    commissions: dict[str, str | None] = field(default_factory=dict)
    products: set[str] = field(default_factory=set)
    ids: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def lookup(
        cls, conn: Connection, schema: EntitySchema, raw: pd.DataFrame, pending: Pending
    ) -> Known:
        """Look up the keys that ``raw`` (one chunk of cells) refers to, in chunks of ids."""
        known = cls()
        for spec in schema.references:
            if spec.name not in raw.columns or spec.name not in _PARENTS:
                continue
            values = sorted({as_text(v) for v in raw[spec.name].tolist() if _present(v)})
            key, pk, owner = _PARENTS[spec.name]
            ids = known.ids.setdefault(spec.name, {})
            owners: dict[str, str | None] = {}
            for start in range(0, len(values), IN_CHUNK):
                part = values[start : start + IN_CHUNK]
                if owner is None:
                    for value, ident in conn.execute(select(key, pk).where(key.in_(part))):
                        ids[value], owners[value] = ident, None
                    continue
                stmt = (
                    select(key, pk, Client.external_id)
                    .join(Client, Client.id == owner)
                    .where(key.in_(part))
                )
                for value, ident, client in conn.execute(stmt):
                    ids[value], owners[value] = ident, client
            target = spec.references.split(".")[0] if spec.references else ""
            waiting = pending.owners.get(target, {})
            owners.update({v: waiting[v] for v in values if v in waiting and v not in owners})
            if target == "clients":
                known.clients = set(owners)
            elif target == "contacts":
                known.contacts = owners
            elif target == "commissions":
                known.commissions = owners
            elif target == "products":
                known.products = set(owners)
        return known


def _present(value: object) -> bool:
    """A key worth looking up (JSON objects and arrays are refused by the cell check)."""
    if value is None or isinstance(value, dict | list):
        return False
    return not (isinstance(value, float) and pd.isna(value)) and value != ""


@dataclass
class Validated:
    """A file that passed (or failed) validation: typed values indexed by row number."""

    schema: EntitySchema
    table: Table
    data: pd.DataFrame
    problems: list[Problem]

    @property
    def rows(self) -> int:
        return len(self.data)


def validate(
    schema: EntitySchema,
    table: Table,
    raw: pd.DataFrame,
    known: Known,
    *,
    header: bool = True,
    earlier: Callable[[Iterable[str]], Mapping[str, int]] | None = None,
) -> Validated:
    """Check ``raw`` (cells of one chunk, indexed by row number) and convert its values.

    Args:
        schema: The entity's column schema.
        table: The opened file (for its name and kind).
        raw: Data rows as read by :meth:`Table.chunks` (one chunk or the whole file).
        known: Keys the chunk's references may point to (:meth:`Known.lookup`).
        header: Check the header (missing required columns …); True for the first chunk.
        earlier: Looks ids up among this file's earlier chunks (→ the row each was first
            on), so a duplicate is found across chunks; None for a whole file.

    Returns:
        The typed data (only known columns, ``None`` for empty cells) and every problem.
    """
    name = table.name
    header_row = None if table.kind == "json" else 1
    problems: list[Problem] = []

    columns = [str(c) for c in raw.columns]
    seen: set[str] = set()
    keep: list[int] = []
    for pos, col in enumerate(columns):
        if col == "":
            if not (raw.iloc[:, pos] == "").all():
                problems.append(
                    Problem(f"column {pos + 1} has data but no header", row=header_row, file=name)
                )
            continue
        if col in seen:
            if header:
                problems.append(Problem("duplicate column", field=col, row=header_row, file=name))
            continue
        seen.add(col)
        if col not in schema.names:
            if header:
                problems.append(
                    Problem(
                        f"unknown column; {schema.entity} files take {', '.join(schema.names)}",
                        field=col,
                        row=header_row,
                        file=name,
                    )
                )
            continue
        keep.append(pos)
    no_header = table.kind == "json" and raw.empty  # an empty JSON file names no keys
    for col in schema.required if header else ():
        if col not in seen and not no_header:
            problems.append(
                Problem("required column is missing", field=col, row=header_row, file=name)
            )

    raw = raw.iloc[:, keep]
    textual = table.kind == "csv"
    data: dict[str, pd.Series] = {}
    for col in raw.columns:
        spec = schema.column(col)
        values, cell_problems = convert_column(spec, raw[col], textual, name)
        data[col] = values
        problems.extend(cell_problems)
    frame = pd.DataFrame(data, index=raw.index, dtype=object)

    problems.extend(_duplicates(frame, name, earlier))
    problems.extend(_cross_checks(schema, frame, name))
    problems.extend(_references(schema, frame, known, name))
    order = {c: i for i, c in enumerate(schema.names)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.field or "", -1)))
    return Validated(schema=schema, table=table, data=frame, problems=problems)


# -- whole file ------------------------------------------------------------------------


def _duplicates(
    frame: pd.DataFrame,
    file: str,
    earlier: Callable[[Iterable[str]], Mapping[str, int]] | None,
) -> list[Problem]:
    if "external_id" not in frame:
        return []
    ids = frame["external_id"]
    present = ids.notna()
    dup = present & ids.duplicated(keep="first")
    before = earlier(ids[present].tolist()) if earlier is not None else {}
    if before:
        dup |= present & ids.isin(list(before))
    if not dup.any():
        return []
    first = {v: r for r, v in ids[present & ~dup].items()}
    first.update(before)
    return [
        Problem(
            f"duplicate external_id {show(v)} (first on row {first[v]})",
            field="external_id",
            row=int(r),
            file=file,
        )
        for r, v in ids[dup].items()
    ]


def _cross_checks(schema: EntitySchema, frame: pd.DataFrame, file: str) -> list[Problem]:
    pairs = {
        "commissions": [("completed_on", "commissioned_on")],
        "complaints": [("responded_at", "opened_at"), ("resolved_at", "opened_at")],
    }.get(schema.entity, [])
    problems: list[Problem] = []
    for later, earlier in pairs:
        if later not in frame or earlier not in frame:
            continue
        for r, a, b in zip(
            frame.index, frame[later].tolist(), frame[earlier].tolist(), strict=True
        ):
            if a is not None and b is not None and a < b:
                problems.append(
                    Problem(f"is before {earlier} ({b})", field=later, row=int(r), file=file)
                )
    return problems


def _references(
    schema: EntitySchema, frame: pd.DataFrame, known: Known, file: str
) -> list[Problem]:
    problems: list[Problem] = []
    clients = frame["client_external_id"].tolist() if "client_external_id" in frame else None
    for spec in schema.references:
        if spec.name not in frame:
            continue
        for pos, (r, v) in enumerate(frame[spec.name].items()):
            if v is None:
                continue
            reason = _dangling(spec.name, v, clients[pos] if clients else None, known)
            if reason:
                problems.append(Problem(reason, field=spec.name, row=int(r), file=file))
    return problems


def _dangling(column: str, value: str, client: str | None, known: Known) -> str | None:
    """Why a reference does not resolve, or None when it does."""
    if column == "client_external_id":
        if value not in known.clients:
            return f"unknown client {show(value)} (neither in the database nor in this import)"
        return None
    if column == "product_code":
        return None if value in known.products else f"unknown product_code {show(value)}"
    target = known.contacts if column == "contact_external_id" else known.commissions
    what = "contact" if column == "contact_external_id" else "commission"
    owner = target.get(value)
    if owner is None:
        return f"unknown {what} {show(value)} (neither in the database nor in this import)"
    if client is not None and owner != client:
        return f"{what} {show(value)} belongs to client {show(owner)}, not {show(client)}"
    return None
