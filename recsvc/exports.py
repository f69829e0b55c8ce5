"""Tables for people to open in a spreadsheet: CSV (UTF-8 with BOM) and ``.xlsx``.

Client data in an export was typed by someone else (a client's name, a commission
title), and a spreadsheet runs a cell that starts with ``=`` as a formula:
``=HYPERLINK("http://evil","click")`` or ``=cmd|' /C calc'!A0`` in a client's name
would act on the librarian's machine. Every export therefore goes through
:func:`table_bytes`, which

- neutralises text cells the way OWASP recommends for CSV injection: a text cell
  starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
  single quote (``'=HYPERLINK(…)``), so the spreadsheet shows it as text;
- writes every ``.xlsx`` cell explicitly as a string or a number, never as a
  formula or a link, whatever its text.

Numbers (scores, expected values) stay numbers; only text is neutralised. In
``.xlsx`` a column may carry an Excel number format (``'0.0%'``, ``'"¥"#,##0'``): the
cell stays a number, the spreadsheet shows it formatted. The header row is frozen and
filterable, and columns get widths that fit their headings (or the given ones).

Example:
    >>> neutralise("=1+1")
    "'=1+1"
    >>> neutralise(0.5)
    0.5
"""

from __future__ import annotations

import csv
import io
import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import xlsxwriter

__all__ = ["EXPORT_FORMATS", "FORMULA_LEADS", "neutralise", "table_bytes"]

#: What an export can be written as.
EXPORT_FORMATS = ("csv", "xlsx")
#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` safe for a spreadsheet cell: text starting with a formula character gets
    a leading ``'``; anything else (numbers, None) is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def table_bytes(
    rows: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    *,
    fmt: str,
    sheet: str = "sheet",
    width: int = 18,
    formats: Mapping[str, str] | None = None,
    widths: Mapping[str, int] | None = None,
) -> bytes:
    """``rows`` as a CSV (UTF-8 with BOM, opens in Excel) or ``.xlsx`` file.

    Args:
        rows: one mapping per row; keys are the names in ``columns``.
        columns: name → heading, in the order of the file's columns.
        fmt: ``"csv"`` or ``"xlsx"``.
        sheet: the worksheet's name (``.xlsx``).
        width: the least column width (``.xlsx``).
        formats: column name → Excel number format of its numbers (``.xlsx``).
        widths: column name → width, where the default does not fit (``.xlsx``).

    Raises:
        ValueError: a format other than csv or xlsx (callers check it first).
    """
    headings = [neutralise(h) for h in columns.values()]
    body = [[neutralise(_cell(row.get(name))) for name in columns] for row in rows]
    if fmt == "csv":
        return _csv(headings, body)
    if fmt == "xlsx":
        formats = formats or {}
        widths = widths or {}
        layout = [
            (formats.get(name), widths.get(name, max(width, _text_width(str(h)) + 2)))
            for name, h in columns.items()
        ]
        return _xlsx(headings, body, sheet, layout)
    raise ValueError(f"export to csv or xlsx, not {fmt!r}")


def _cell(value: Any) -> Any:
    """Numbers as numbers (NaN and infinities as empty), everything else as text."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value)
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    return str(value)


def _csv(headings: list[Any], body: list[list[Any]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)  # RFC 4180 line ends; a field holding CR or LF is quoted
    writer.writerow(headings)
    writer.writerows(["" if v is None else v for v in row] for row in body)
    return buf.getvalue().encode("utf-8-sig")


def _text_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: CJK and other wide characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _xlsx(
    headings: list[Any],
    body: list[list[Any]],
    sheet: str,
    layout: list[tuple[str | None, int]],
) -> bytes:
    buf = io.BytesIO()
    # no guessing at all: a string is a string, never a formula, a link or a number
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    with xlsxwriter.Workbook(buf, options) as book:
        ws = book.add_worksheet(sheet)
        bold = book.add_format({"bold": True})
        numbers = [book.add_format({"num_format": f}) if f else None for f, _ in layout]
        for c, value in enumerate(headings):
            ws.write_string(0, c, value, bold)
        for r, values in enumerate(body, start=1):
            for c, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, value, numbers[c])
        ws.freeze_panes(1, 0)
        for c, (_, w) in enumerate(layout):
            ws.set_column(c, c, w)
        if headings:
            ws.autofilter(0, 0, len(body), len(headings) - 1)
    return buf.getvalue()
