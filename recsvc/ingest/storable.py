"""Values the database cannot hold, found before they reach it.

An import must never fail at insert time: integers beyond the column's 32- or 64-bit
range, control characters (NUL and the rest; tabs and line breaks only in free text),
JSON objects or arrays where a single value is expected, non-finite numbers, and
``json`` values nested deeper than :data:`~.schema.MAX_JSON_DEPTH` are each refused
as a problem on their row and field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from recsvc.errors import Problem
from recsvc.ingest.schema import MAX_JSON_DEPTH, ColumnSpec

__all__ = ["json_depth", "odd_cells", "unstorable"]

#: Characters no text column takes: C0 and C1 controls, DEL and lone surrogates (which
#: UTF-8 cannot encode); free text (``multiline``) keeps tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

def odd_cells(spec: ColumnSpec, raw: pd.Series, textual: bool) -> pd.Series:
    """Why a JSON or Excel cell is no value at all for the column (None where it is fine):
    an object or array where the column takes one value, or a NaN or infinity."""
    if textual:
        return pd.Series(None, index=raw.index, dtype=object)
    scalar = spec.type != "json"
    return raw.map(lambda v: _odd(v, scalar)).astype(object)


def _odd(value: object, scalar: bool) -> str | None:
    if scalar and isinstance(value, dict | list):
        return "expected a single value, not a JSON object or array"
    if isinstance(value, float) and not math.isfinite(value):
        return f"not a finite number: {value}"
    return None


def unstorable(spec: ColumnSpec, values: pd.Series, file: str) -> tuple[pd.Series, list[Problem]]:
    """Refuse (and blank) values the database cannot hold: integers beyond the column's
    range, control characters in text, and ``json`` values too deep or holding either.

    A whole column is screened at C speed first (one regex over the joined text, one
    numpy comparison); only a column with a suspect is checked cell by cell.
    """
    trouble = _TROUBLE.get(spec.type)
    if trouble is None or not _suspect(spec, values):
        return values, []
    found = values.map(lambda v: trouble(spec, v), na_action="ignore")
    out = found.notna()
    problems = [
        Problem(str(reason), field=spec.name, row=int(r), file=file)
        for r, reason in found[out].items()
    ]
    return values.where(~out, None), problems


def _suspect(spec: ColumnSpec, values: pd.Series) -> bool:
    """Whether any value of the column may be one the database cannot hold."""
    present = values.dropna().tolist()
    if not present:
        return False
    if spec.type == "string":
        pattern = _CONTROL_MULTILINE if spec.multiline else _CONTROL
        return pattern.search("".join(present)) is not None
    if spec.type == "integer" and spec.int_range is not None:
        low, high = spec.int_range
        try:
            ints = np.asarray(present, dtype=np.int64)
        except OverflowError:  # beyond 64 bits: certainly beyond the column
            return True
        return bool(((ints < low) | (ints > high)).any())
    return True


def _integer_trouble(spec: ColumnSpec, value: object) -> str | None:
    if spec.int_range is None or not isinstance(value, int):
        return None
    low, high = spec.int_range
    if low <= value <= high:
        return None
    return f"out of range: the database holds whole numbers from {low:,} to {high:,}"


def _string_trouble(spec: ColumnSpec, value: object) -> str | None:
    char = _control_in(value, _CONTROL_MULTILINE if spec.multiline else _CONTROL)
    return None if char is None else f"contains the control character {char}"


def _control_in(value: object, pattern: re.Pattern[str]) -> str | None:
    """``U+0000``-style name of the first forbidden character of ``value``, or None."""
    if not isinstance(value, str):
        return None
    found = pattern.search(value)
    return None if found is None else f"U+{ord(found[0]):04X}"


def json_depth(value: object) -> int:
    """How deeply ``value`` nests objects and arrays (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _json_trouble(spec: ColumnSpec, value: object) -> str | None:
    """Why a parsed ``json`` value cannot be stored, or None."""
    if json_depth(value) > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            char = _control_in(item, _CONTROL)
            if char is not None:
                return f"contains the control character {char}"
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds a number that is not finite (NaN or infinity)"
    return None


_TROUBLE: dict[str, Callable[[ColumnSpec, object], str | None]] = {
    "integer": _integer_trouble,
    "string": _string_trouble,
    "json": _json_trouble,
}
