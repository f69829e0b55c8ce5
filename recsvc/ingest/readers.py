"""Readers for import files: CSV (any common Chinese encoding), Excel ``.xlsx``, JSON.

Every reader yields chunks as pandas DataFrames of Python objects whose index is the
**row number a person sees**: in CSV and Excel files the header is row 1 and the first
data row is row 2 (the number Excel and WPS show in the margin); in a JSON array it is
the 1-based position of the object; in JSON lines it is the line number. Blank rows
are skipped but still counted, so numbers stay those of the file.

CSV cells arrive as stripped strings (``""`` for empty); Excel and JSON cells keep
their native values (numbers, dates, objects). Type conversion is the validator's job.
A file without data rows yields one empty chunk (with its header), so the validator
can say so. JSON nested too deeply to parse is a problem on its row, never a
``RecursionError``.

The text encoding of CSV and JSON files is detected (:mod:`recsvc.ingest.encoding`)
unless the caller names it.

Example:
    >>> table = open_table(Path("clients.csv"))          # doctest: +SKIP
    >>> for chunk in table.chunks(): ...                 # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from recsvc.errors import ImportRejected, Problem
from recsvc.ingest.encoding import check_encoding, detect_encoding
from recsvc.ingest.schema import MAX_JSON_DEPTH

log = logging.getLogger(__name__)

#: File suffixes the importer reads, mapped to the reader used.
SUFFIXES: dict[str, str] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
}

CHUNK_ROWS = 20_000

@dataclass
class Table:
    """An opened import file: its header and a way to stream its rows."""

    path: Path
    kind: str
    encoding: str | None
    chunk_rows: int = CHUNK_ROWS

    @property
    def name(self) -> str:
        return self.path.name

    def chunks(self) -> Iterator[pd.DataFrame]:
        """Yield DataFrames (object dtype) indexed by human row number.

        Chunks left empty (only blank rows) are skipped; a file without any data row
        yields its first, empty chunk (it carries the header) and nothing else.

        Raises:
            ImportRejected: when the file cannot be parsed at all.
        """
        if self.kind == "csv":
            frames = self._csv_chunks()
        elif self.kind == "xlsx":
            frames = self._xlsx_chunks()
        else:
            frames = self._json_chunks()
        first_empty: pd.DataFrame | None = None
        data = False
        for frame in frames:
            if not frame.empty:
                data = True
                yield frame
            elif first_empty is None:
                first_empty = frame
        if not data and first_empty is not None:
            yield first_empty

    # -- CSV -------------------------------------------------------------------------
    def _csv_chunks(self) -> Iterator[pd.DataFrame]:
        try:
            reader = pd.read_csv(
                self.path,
                header=None,
                dtype=object,
                na_filter=False,
                skip_blank_lines=False,
                encoding=self.encoding,
                chunksize=self.chunk_rows,
            )
            header: list[str] | None = None
            for chunk in reader:
                chunk.index = chunk.index + 1  # 0-based record → 1-based row number
                if header is None:
                    if chunk.empty:
                        return
                    header = [_header_name(v) for v in chunk.iloc[0].tolist()]
                    chunk = chunk.iloc[1:]
                chunk.columns = header
                yield _drop_blank(chunk.fillna("").apply(_strip_column))
        except pd.errors.EmptyDataError:
            return  # no header at all: the validator reports the missing columns
        except (pd.errors.ParserError, UnicodeError, ValueError) as exc:
            raise self._unreadable(exc) from exc

    # -- Excel -----------------------------------------------------------------------
    def _xlsx_chunks(self) -> Iterator[pd.DataFrame]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken workbook
            raise self._unreadable(exc) from exc
        try:
            stem = self.path.stem.lower()
            sheets = {ws.title.lower(): ws for ws in workbook.worksheets}
            sheet = sheets.get(stem, workbook.worksheets[0])
            sheet.reset_dimensions()  # some exporters write a wrong or no dimension
            rows = sheet.iter_rows(values_only=True)
            header_row = next(rows, None)
            if header_row is None:
                return
            header = [_header_name(v) for v in header_row]
            width = len(header)
            buffer: list[list[Any]] = []
            numbers: list[int] = []
            for number, values in enumerate(rows, start=2):
                cells = [_clean_cell(v) for v in values[:width]]
                cells += [""] * (width - len(cells))
                buffer.append(cells)
                numbers.append(number)
                if len(buffer) >= self.chunk_rows:
                    yield _drop_blank(
                        pd.DataFrame(buffer, index=numbers, columns=header, dtype=object)
                    )
                    buffer, numbers = [], []
            if buffer or not numbers:  # a header-only sheet still yields its header
                yield _drop_blank(pd.DataFrame(buffer, index=numbers, columns=header, dtype=object))
        finally:
            workbook.close()

    # -- JSON ------------------------------------------------------------------------
    def _json_chunks(self) -> Iterator[pd.DataFrame]:
        encoding = self.encoding or "utf-8"
        try:
            with self.path.open(encoding=encoding) as fh:
                head = fh.read(4096).lstrip()
        except UnicodeError as exc:
            raise self._unreadable(exc) from exc
        array = head.startswith("[")
        records = self._json_array(encoding) if array else self._json_lines(encoding)
        header: list[str] = []
        buffer: list[dict[str, Any]] = []
        numbers: list[int] = []
        for number, record in records:
            for key in record:
                if key not in header:
                    header.append(key)
            buffer.append(record)
            numbers.append(number)
            if len(buffer) >= self.chunk_rows:
                yield _json_frame(buffer, numbers, header)
                buffer, numbers = [], []
        if buffer or not numbers:
            yield _json_frame(buffer, numbers, header)

    def _json_array(self, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            with self.path.open(encoding=encoding) as fh:
                text = fh.read()
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeError) as exc:
            raise self._unreadable(exc) from exc
        except RecursionError:
            item, key = _too_deep(text, records_at=2)
            raise ImportRejected(
                f"{self.name}: JSON nested too deeply",
                problems=[_deep_problem(self.name, item, key)],
            ) from None
        bad = [i for i, item in enumerate(data, start=1) if not isinstance(item, dict)]
        if bad:
            raise ImportRejected(
                f"{self.name}: every item of the JSON array must be an object",
                problems=[Problem("not a JSON object", row=i, file=self.name) for i in bad],
            )
        yield from enumerate(data, start=1)

    def _json_lines(self, encoding: str) -> Iterator[tuple[int, dict[str, Any]]]:
        problems: list[Problem] = []
        good: list[tuple[int, dict[str, Any]]] = []
        lines = _lines(self.path, encoding)
        try:
            for number, line in lines:
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(Problem(f"invalid JSON: {exc.msg}", row=number, file=self.name))
                    continue
                except RecursionError:
                    _, key = _too_deep(line, records_at=1)
                    problems.append(_deep_problem(self.name, number, key))
                    continue
                if not isinstance(item, dict):
                    problems.append(Problem("not a JSON object", row=number, file=self.name))
                    continue
                good.append((number, item))
                if len(good) >= self.chunk_rows and not problems:
                    yield from good
                    good = []
        except UnicodeError as exc:
            raise self._unreadable(exc) from exc
        if problems:
            raise ImportRejected(f"{self.name}: not valid JSON lines", problems=problems)
        yield from good

    def _unreadable(self, exc: Exception) -> ImportRejected:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, UnicodeDecodeError):
            reason = (
                f"not {self.encoding} text ({exc.reason} at byte {exc.start:,}); save the "
                "file as UTF-8, or name its encoding with --encoding"
            )
        line = re.search(r"\bline (\d+)", reason)
        return ImportRejected(
            f"{self.name}: the file cannot be read",
            problems=[
                Problem(
                    f"unreadable {self.kind} file: {reason}",
                    row=int(line[1]) if line else None,
                    file=self.name,
                )
            ],
        )


def open_table(path: Path, *, chunk_rows: int = CHUNK_ROWS, encoding: str | None = None) -> Table:
    """Open ``path`` for reading (CSV and JSON encodings are detected here).

    Args:
        path: The file.
        chunk_rows: Rows per chunk.
        encoding: The text encoding of a CSV or JSON file, when the caller knows it
            (``recsvc import --encoding``); None detects it.

    Raises:
        ImportRejected: for an unsupported suffix, an unknown encoding, or an
            ambiguous or undetectable one.
    """
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise ImportRejected(
            f"{path.name}: unsupported file type",
            problems=[
                Problem(
                    f"unsupported file type '{path.suffix}'; use one of {sorted(SUFFIXES)}",
                    file=path.name,
                )
            ],
        )
    if kind not in ("csv", "json"):
        encoding = None
    elif encoding:
        encoding = check_encoding(path.name, encoding)
    else:
        encoding = detect_encoding(path)
    if encoding:
        log.debug("%s: reading as %s", path.name, encoding)
    return Table(path=path, kind=kind, encoding=encoding, chunk_rows=chunk_rows)


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    with path.open(encoding=encoding) as fh:
        yield from enumerate(fh, start=1)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')


def _too_deep(text: str, *, records_at: int) -> tuple[int | None, str | None]:
    """Where JSON ``text`` first nests beyond a record's column plus
    :data:`~.schema.MAX_JSON_DEPTH` levels: ``(record number, column)``, without parsing.

    ``records_at`` is the depth of the records: 2 in an array, 1 on a JSON line.
    Strings are skipped whole, so brackets inside them do not count.
    """
    depth, record, key = 0, 1, None
    limit = records_at + MAX_JSON_DEPTH
    for match in _JSON_TOKEN.finditer(text):
        token = match[0]
        if token in ("[", "{"):
            depth += 1
            if depth > limit:
                return record, key
        elif token in ("]", "}"):
            depth -= 1
        elif token == ",":
            if depth == records_at - 1:
                record += 1
        elif depth == records_at:  # the last string in a record precedes its value
            key = _header_name(token[1:-1])
    return None, None


def _deep_problem(file: str, row: int | None, field: str | None) -> Problem:
    return Problem(
        f"nested deeper than {MAX_JSON_DEPTH} levels (JSON objects or arrays in a column)",
        row=row,
        field=field or None,
        file=file,
    )


def _header_name(value: object) -> str:
    """A header as matched against column names; control characters and lone
    surrogates are spelt as escapes, so a problem naming the header can be shown."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    name = str(value).strip().lstrip("\ufeff").lower()
    return _UNPRINTABLE.sub(lambda m: ascii(m[0])[1:-1], name)


def _strip_column(col: pd.Series) -> pd.Series:
    return col.str.strip()


def _clean_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return value


def _drop_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose every cell is empty are not data (but keep their row numbers)."""
    if frame.empty:
        return frame
    blank = (frame == "").all(axis=1)
    return frame[~blank] if blank.any() else frame


def _json_frame(
    buffer: list[dict[str, Any]], numbers: list[int], header: list[str]
) -> pd.DataFrame:
    rows = [[_clean_cell(rec.get(key)) for key in header] for rec in buffer]
    frame = pd.DataFrame(
        rows, index=numbers, columns=[_header_name(h) for h in header], dtype=object
    )
    return frame
