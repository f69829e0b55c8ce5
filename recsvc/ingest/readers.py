"""Readers for import files: CSV (any common Chinese encoding), Excel ``.xlsx``, JSON.

Every reader yields chunks as pandas DataFrames of Python objects whose index is the
**row number a person sees**: in CSV and Excel files the header is row 1 and the first
data row is row 2 (the number Excel and WPS show in the margin); in a JSON array it is
the 1-based position of the object; in JSON lines it is the line number. Blank rows
are skipped but still counted, so numbers stay those of the file.

CSV cells arrive as stripped strings (``""`` for empty); Excel and JSON cells keep
their native values (numbers, dates, objects). Type conversion is the validator's job.

Example:
    >>> table = open_table(Path("clients.csv"))          # doctest: +SKIP
    >>> for chunk in table.chunks(): ...                 # doctest: +SKIP
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd

from recsvc.errors import ImportRejected, Problem

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
_SAMPLE_BYTES = 256 * 1024
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "big5", "big5hkscs", "cp950", "cp936"}


def detect_encoding(path: Path) -> str:
    """The text encoding of ``path``: UTF-8 (with or without BOM), else GB18030, else a guess.

    Order: a UTF-8 / UTF-16 byte-order mark wins; a sample that decodes as strict UTF-8
    is UTF-8; otherwise Chinese Excel exports are GBK, read as GB18030 (its superset)
    when the sample decodes strictly so; only then is charset-normalizer's guess used.
    Short GBK samples are often misdetected as Big5, which is why GB18030 is tried first.

    Raises:
        ImportRejected: when no encoding fits.
    """
    with path.open("rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
        at_end = not fh.read(1)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(sample, final=at_end)
            return encoding
        except UnicodeDecodeError:
            continue
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise ImportRejected(
            f"{path.name}: cannot tell the text encoding",
            problems=[Problem("unknown text encoding; save the file as UTF-8", file=path.name)],
        )
    encoding = best.encoding.lower()
    return "gb18030" if encoding in _GB_FAMILY else encoding


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

        Raises:
            ImportRejected: when the file cannot be parsed at all.
        """
        if self.kind == "csv":
            yield from self._csv_chunks()
        elif self.kind == "xlsx":
            yield from self._xlsx_chunks()
        else:
            yield from self._json_chunks()

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
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
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
            if buffer:
                yield _drop_blank(pd.DataFrame(buffer, index=numbers, columns=header, dtype=object))
        finally:
            workbook.close()

    # -- JSON ------------------------------------------------------------------------
    def _json_chunks(self) -> Iterator[pd.DataFrame]:
        encoding = self.encoding or "utf-8"
        with self.path.open(encoding=encoding) as fh:
            head = fh.read(4096).lstrip()
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
                data = json.load(fh)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._unreadable(exc) from exc
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
        with self.path.open(encoding=encoding) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    problems.append(Problem(f"invalid JSON: {exc.msg}", row=number, file=self.name))
                    continue
                if not isinstance(item, dict):
                    problems.append(Problem("not a JSON object", row=number, file=self.name))
                    continue
                good.append((number, item))
                if len(good) >= self.chunk_rows and not problems:
                    yield from good
                    good = []
        if problems:
            raise ImportRejected(f"{self.name}: not valid JSON lines", problems=problems)
        yield from good

    def _unreadable(self, exc: Exception) -> ImportRejected:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
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


def open_table(path: Path, *, chunk_rows: int = CHUNK_ROWS) -> Table:
    """Open ``path`` for reading (CSV encodings are detected here).

    Raises:
        ImportRejected: for an unsupported suffix or an undetectable encoding.
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
    encoding = detect_encoding(path) if kind in ("csv", "json") else None
    if encoding:
        log.debug("%s: reading as %s", path.name, encoding)
    return Table(path=path, kind=kind, encoding=encoding, chunk_rows=chunk_rows)


def _header_name(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip().lstrip("\ufeff").lower()


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
        rows, index=numbers, columns=[h.strip().lower() for h in header], dtype=object
    )
    return frame
