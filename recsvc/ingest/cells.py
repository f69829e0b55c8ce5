"""Cells of an import file: each column converted to its type, with its problems.

:func:`convert_column` turns one column's raw cells into typed values (``None`` for an
empty cell) and reports every cell that does not parse, is out of range, too long, or
empty where a value is required, and every value the database cannot hold
(:mod:`recsvc.ingest.storable`).
Dates and timestamps accept the usual Chinese and ISO spellings (:func:`parse_date`,
:func:`parse_datetime`); enums accept their codes and the Chinese labels of
:mod:`recsvc.store.labels`.

Values of personal columns (:attr:`ColumnSpec.personal`) are never quoted in a
:class:`~recsvc.errors.Problem`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable

import pandas as pd

from recsvc.errors import Problem
from recsvc.ingest.schema import ColumnSpec
from recsvc.ingest.storable import odd_cells, unstorable

__all__ = ["convert_column", "parse_date", "parse_datetime", "show"]

Converted = tuple[pd.Series, pd.Series, str]
"""Typed values, the mask of bad cells, and the reason for a bad cell."""

_DATE = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]0{1,2}:00(?::00)?)?\s*$")
_TRUE = {"true", "t", "yes", "y", "1", "是", "有效", "在职"}
_FALSE = {"false", "f", "no", "n", "0", "否", "无效", "离职"}
#: Floats represent every integer below this exactly; larger ones are parsed as text.
_EXACT_FLOAT = 2**53
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")


def convert_column(
    spec: ColumnSpec, raw: pd.Series, textual: bool, file: str
) -> tuple[pd.Series, list[Problem]]:
    """Typed values (object Series, None for empty) and the column's problems."""
    odd = odd_cells(spec, raw, textual)
    missing = ((raw == "") | raw.isna()) & odd.isna()
    converter = _CONVERTERS[spec.type]
    skip = missing | odd.notna()
    values, bad, reason = converter(spec, raw.where(~skip), skip, textual)
    problems = [
        Problem(str(why), field=spec.name, row=int(r), file=file) for r, why in odd.dropna().items()
    ]
    problems.extend(
        Problem(
            reason if spec.personal else f"{reason}: {show(v)}",
            field=spec.name,
            row=int(r),
            file=file,
        )
        for r, v in raw[bad].items()
    )
    values, refused = unstorable(spec, values, file)
    problems.extend(refused)
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


def show(value: object) -> str:
    """A cell value as quoted in a problem (cut at 40 characters)."""
    text = str(value)
    return repr(text[:40] + "…" if len(text) > 40 else text)


def _objects(values: list[object], index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=object)


def as_text(v: object) -> str:
    """A non-text cell (Excel, JSON) as the text a string column stores."""
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    return str(v)


def _conv_string(spec: ColumnSpec, raw: pd.Series, missing: pd.Series, textual: bool) -> Converted:
    values = raw if textual else raw.map(as_text, na_action="ignore")
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
    large = ~missing & (bad | (num.abs() >= _EXACT_FLOAT))  # exact parse needed
    bad = bad | (~missing & ~bad & (num % 1 != 0))
    ok = (~(missing | bad)).tolist()
    values = _objects(
        [int(x) if k else None for x, k in zip(num.tolist(), ok, strict=True)], raw.index
    )
    if large.any():  # beyond a float's exact range: parse the cell itself, exactly
        exact = raw[large].map(_exact_int)
        values[large] = exact
        bad = bad.copy()
        bad[large] = exact.isna()
    return values, bad, "not a whole number"


def _exact_int(value: object) -> int | None:
    """A whole number from a cell, exactly (no float rounding); None when it is not one.

    Absurdly long digit strings become a value beyond every column's range (the range
    check refuses it) instead of being converted digit by digit.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else None
    text = str(value).strip()
    if _INTEGER_TEXT.match(text):
        if len(text) > 40:
            return -(10**40) if text.startswith("-") else 10**40
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


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
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:  # 0001-01-01T00:00+08:00 is before the first UTC instant
        return None


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
        except (ValueError, RecursionError):  # not JSON, or nested beyond parsing
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
        Problem(f"{reason}: {show(raw[r])}", field=spec.name, row=int(r), file=file)
        for r in num.index[low | high]
    ]
