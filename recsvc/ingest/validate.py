"""Validation of one entity file against its :class:`~recsvc.ingest.schema.EntitySchema`.

Everything is checked before anything is written: header (missing required columns,
unknown or duplicate columns), every cell (type, date, range, enum, length), the file
as a whole (duplicate ``external_id``) and references (to rows in the database or in
the same batch). Checks are vectorised over pandas columns, so validation costs about
as much as reading the file.

Cells are converted by :mod:`recsvc.ingest.cells`. Values of personal columns
(:attr:`ColumnSpec.personal`) are never quoted in a :class:`~recsvc.errors.Problem`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, select

from recsvc.errors import Problem
from recsvc.ingest.cells import convert_column, show
from recsvc.ingest.readers import Table
from recsvc.ingest.schema import SCHEMAS, EntitySchema
from recsvc.store.models import Client, Commission, Contact, Product


@dataclass
class Known:
    """Keys a reference may point to: what the database holds plus the batch so far.

    ``contacts`` and ``commissions`` map their external id to their client's external id,
    so a reference can be checked to belong to the same client.
    """

    clients: set[str] = field(default_factory=set)
    contacts: dict[str, str] = field(default_factory=dict)
    commissions: dict[str, str] = field(default_factory=dict)
    products: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, conn: Connection, entities: Iterable[str]) -> Known:
        """Read the keys that files of ``entities`` may refer to (one query per table)."""
        targets = {
            spec.references.split(".")[0]
            for entity in entities
            for spec in SCHEMAS[entity].references
            if spec.references
        }
        known = cls()
        if "clients" in targets:
            known.clients = set(conn.scalars(select(Client.external_id)))
        if "contacts" in targets:
            stmt = select(Contact.external_id, Client.external_id).join(
                Client, Client.id == Contact.client_id
            )
            known.contacts = {a: b for a, b in conn.execute(stmt)}
        if "commissions" in targets:
            stmt = select(Commission.external_id, Client.external_id).join(
                Client, Client.id == Commission.client_id
            )
            known.commissions = {a: b for a, b in conn.execute(stmt)}
        if "products" in targets:
            known.products = set(conn.scalars(select(Product.code)))
        return known

    def add(self, entity: str, data: pd.DataFrame) -> None:
        """Make the keys of a validated batch file referencable by later files."""
        if "external_id" not in data:
            return
        ids = data["external_id"]
        if entity == "clients":
            self.clients.update(v for v in ids.tolist() if v is not None)
        elif entity in ("contacts", "commissions") and "client_external_id" in data:
            target = self.contacts if entity == "contacts" else self.commissions
            for ext, client in zip(ids.tolist(), data["client_external_id"].tolist(), strict=True):
                if ext is not None and client is not None:
                    target[ext] = client


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


def validate(schema: EntitySchema, table: Table, raw: pd.DataFrame, known: Known) -> Validated:
    """Check ``raw`` (the file's cells, indexed by row number) and convert its values.

    Args:
        schema: The entity's column schema.
        table: The opened file (for its name and kind).
        raw: All of the file's data rows, as read by :meth:`Table.chunks`.
        known: Keys references may point to (database plus earlier files of the batch).

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
            problems.append(Problem("duplicate column", field=col, row=header_row, file=name))
            continue
        seen.add(col)
        if col not in schema.names:
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
    for col in schema.required:
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

    problems.extend(_duplicates(frame, name))
    problems.extend(_cross_checks(schema, frame, name))
    problems.extend(_references(schema, frame, known, name))
    order = {c: i for i, c in enumerate(schema.names)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.field or "", -1)))
    return Validated(schema=schema, table=table, data=frame, problems=problems)


# -- whole file ------------------------------------------------------------------------


def _duplicates(frame: pd.DataFrame, file: str) -> list[Problem]:
    if "external_id" not in frame:
        return []
    ids = frame["external_id"]
    present = ids.notna()
    dup = present & ids.duplicated(keep="first")
    if not dup.any():
        return []
    first = {v: r for r, v in ids[present & ~dup].items()}
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
