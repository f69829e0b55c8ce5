"""Validation of one entity file against its :class:`~recsvc.ingest.schema.EntitySchema`.

Everything is checked before anything is written: header (missing required columns,
unknown or duplicate columns), every cell (type, date, range, enum, length), the file
as a whole (duplicate ``external_id``) and references (to rows in the database or in
the same batch). Checks are vectorised over pandas columns, so validation costs about
as much as reading the file.

Values of personal columns (:attr:`ColumnSpec.personal`) are never quoted in a
:class:`~recsvc.errors.Problem`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, select

from recsvc.errors import Problem
from recsvc.ingest.readers import Table
from recsvc.ingest.schema import SCHEMAS, ColumnSpec, EntitySchema
from recsvc.store.models import Client, Commission, Contact, Product

Converted = tuple[pd.Series, pd.Series, str]
"""Typed values, the mask of bad cells, and the reason for a bad cell."""

_DATE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]0{1,2}:00(?::00)?)?\s*$")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有效", "在职"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无效", "离职"}


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
        values, cell_problems = _convert(spec, raw[col], textual, name)
        data[col] = values
        problems.extend(cell_problems)
    frame = pd.DataFrame(data, index=raw.index, dtype=object)

    problems.extend(_duplicates(frame, name))
    problems.extend(_cross_checks(schema, frame, name))
    problems.extend(_references(schema, frame, known, name))
    order = {c: i for i, c in enumerate(schema.names)}
    problems.sort(key=lambda p: (p.row or 0, order.get(p.field or "", -1)))
    return Validated(schema=schema, table=table, data=frame, problems=problems)


# -- cells ---------------------------------------------------------------------------


def _convert(
    spec: ColumnSpec, raw: pd.Series, textual: bool, file: str
) -> tuple[pd.Series, list[Problem]]:
    """Typed values (object Series, None for empty) and the column's problems."""
    missing = (raw == "") | raw.isna()
    converter = _CONVERTERS[spec.type]
    values, bad, reason = converter(spec, raw.where(~missing), missing, textual)
    problems = [
        Problem(
            reason if spec.personal else f"{reason}: {_show(v)}",
            field=spec.name,
            row=int(r),
            file=file,
        )
        for r, v in raw[bad].items()
    ]
    problems.extend(_range_problems(spec, values, bad, file, raw))
    if spec.max_length is not None and spec.type == "string":
        limit = spec.max_length
        too_long = values.map(lambda v: v is not None and len(v) > limit)
        problems.extend(
            Problem(
                f"longer than {spec.max_length} characters", field=spec.name, row=int(r), file=file
            )
            for r in values.index[too_long]
        )
    if spec.required:
        problems.extend(
            Problem("required value is empty", field=spec.name, row=int(r), file=file)
            for r in raw.index[missing]
        )
    elif spec.default is not None:
        values = values.where(~missing, spec.default)
    return values, problems


def _show(value: object) -> str:
    text = str(value)
    return repr(text[:40] + "…" if len(text) > 40 else text)


def _objects(values: list[object], index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=object)


def _text(v: object) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v)


def _conv_string(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    values = raw if textual else raw.map(_text, na_action="ignore")
    values = values.astype(object).where(~missing, None)
    return values, pd.Series(False, index=raw.index), ""


def _numeric(raw: pd.Series, missing: pd.Series, textual: bool) -> tuple[pd.Series, pd.Series]:
    source = raw
    if not textual:  # True is not the number 1 here
        source = raw.map(
            lambda v: None if isinstance(v, bool | dict | list) else v, na_action="ignore"
        )
    num = pd.to_numeric(source, errors="coerce").astype(float)
    bad = ~missing & (num.isna() | ~num.map(math.isfinite))
    return num, bad


def _conv_number(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    num, bad = _numeric(raw, missing, textual)
    ok = (~(missing | bad)).tolist()
    values = _objects(
        [float(x) if k else None for x, k in zip(num.tolist(), ok, strict=True)], raw.index
    )
    return values, bad, "not a number"


def _conv_integer(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    num, bad = _numeric(raw, missing, textual)
    bad = bad | (~missing & ~bad & (num % 1 != 0))
    ok = (~(missing | bad)).tolist()
    values = _objects(
        [int(x) if k else None for x, k in zip(num.tolist(), ok, strict=True)], raw.index
    )
    return values, bad, "not a whole number"


def parse_date(value: object) -> dt.date | None:
    """A calendar date from ``YYYY-MM-DD`` (also ``/``, ``.`` or 年月日 separators, an
    optional ``0:00`` time as Excel exports it) or a date cell; None when it is not one."""
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else None
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    match = _DATE.match(value)
    if match is None:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _by_unique(raw: pd.Series, parse: Callable[[object], object]) -> pd.Series:
    """Apply ``parse`` once per distinct value (dates and labels repeat a lot)."""
    try:
        lookup = {v: parse(v) for v in pd.unique(raw.dropna())}
        return raw.map(lookup, na_action="ignore").astype(object)
    except TypeError:  # unhashable cells (JSON lists or objects): parse one by one
        return raw.map(parse, na_action="ignore").astype(object)


def _conv_date(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    values = _by_unique(raw, parse_date)
    bad = ~missing & values.isna()
    return values.where(~missing & ~bad, None), bad, "not a valid date (YYYY-MM-DD)"


def parse_datetime(value: object) -> dt.datetime | None:
    """An ISO 8601 timestamp (or ``YYYY/MM/DD HH:MM[:SS]``) as an aware UTC datetime.

    Timestamps without an offset are taken as they are (stored as UTC wall-clock time).
    Returns None when the value is not a timestamp.
    """
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    elif isinstance(value, str):
        text = value.strip().replace("/", "-")
        text = re.sub(
            r"^(\d{4})-(\d{1,2})-(\d{1,2})",
            lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}",
            text,
        )
        text = re.sub(r"([ T])(\d):", r"\g<1>0\2:", text)
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _conv_datetime(
    spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool
) -> Converted:
    values = _by_unique(raw, parse_datetime)
    bad = ~missing & values.isna()
    return values.where(~missing & ~bad, None), bad, "not a valid timestamp (ISO 8601)"


def _to_bool(v: object) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    text = str(v).strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


def _conv_boolean(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    values = raw.map(_to_bool, na_action="ignore").astype(object)
    bad = ~missing & values.isna()
    return values.where(~missing & ~bad, None), bad, "not a yes/no value (true/false, 1/0, 是/否)"


def _conv_enum(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    lookup = spec.enum_lookup()
    keys = raw.map(lambda v: str(v).strip().lower(), na_action="ignore")
    values = keys.map(lookup).astype(object)
    bad = ~missing & values.isna()
    reason = f"not one of {', '.join(spec.enum_values())} (or their Chinese labels)"
    return values.where(~missing & ~bad, None), bad, reason


def _to_object(v: object) -> object:
    if isinstance(v, dict):
        return v
    if isinstance(v, str):
        try:
            parsed = json.loads(v)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _conv_json(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    values = raw.map(_to_object, na_action="ignore").astype(object)
    bad = ~missing & values.isna()
    return values.where(~missing & ~bad, None), bad, "not a JSON object"


_CONVERTERS: dict[str, Callable[[ColumnSpec, pd.Series, pd.Series, bool], Converted]] = {
    "string": _conv_string,
    "integer": _conv_integer,
    "number": _conv_number,
    "date": _conv_date,
    "datetime": _conv_datetime,
    "boolean": _conv_boolean,
    "enum": _conv_enum,
    "json": _conv_json,
}


def _range_problems(
    spec: ColumnSpec, values: pd.Series, bad: pd.Series, file: str, raw: pd.Series
) -> list[Problem]:
    if spec.minimum is None and spec.maximum is None:
        return []
    num = pd.to_numeric(values.where(~bad), errors="coerce")
    low = num < spec.minimum if spec.minimum is not None else pd.Series(False, index=num.index)
    high = num > spec.maximum if spec.maximum is not None else pd.Series(False, index=num.index)
    if spec.minimum is not None and spec.maximum is not None:
        reason = f"must be between {spec.minimum:g} and {spec.maximum:g}"
    elif spec.minimum is not None:
        reason = (
            "must not be negative" if spec.minimum == 0 else f"must be at least {spec.minimum:g}"
        )
    else:
        reason = f"must be at most {spec.maximum:g}"
    return [
        Problem(f"{reason}: {_show(raw[r])}", field=spec.name, row=int(r), file=file)
        for r in num.index[low | high]
    ]


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
            f"duplicate external_id {_show(v)} (first on row {first[v]})",
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
            return f"unknown client {_show(value)} (neither in the database nor in this import)"
        return None
    if column == "product_code":
        return None if value in known.products else f"unknown product_code {_show(value)}"
    target = known.contacts if column == "contact_external_id" else known.commissions
    what = "contact" if column == "contact_external_id" else "commission"
    owner = target.get(value)
    if owner is None:
        return f"unknown {what} {_show(value)} (neither in the database nor in this import)"
    if client is not None and owner != client:
        return f"{what} {_show(value)} belongs to client {_show(owner)}, not {_show(client)}"
    return None
