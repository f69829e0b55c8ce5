"""Append the demo tables to their CSV files, block after block.

:class:`CsvSink` keeps one file open per table, writes each header once (with the
first block, even when that block has no rows) and appends every later block's rows,
so a file grows while only one block's rows are ever held in memory.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO

import pandas as pd

__all__ = ["CsvSink", "csv_rows"]


def csv_rows(df: pd.DataFrame) -> list[tuple[str, ...]]:
    """The rows of ``df`` as strings; numbers via numpy's shortest repr (stable across pandas)."""
    cols = []
    for name in df.columns:
        values = df[name].to_numpy()
        if values.dtype.kind in "iufb":
            cols.append(values.astype(str).tolist())
        else:
            cols.append(["" if v is None else str(v) for v in values.tolist()])
    return list(zip(*cols, strict=True))


class CsvSink:
    """CSV files under one folder, opened on first use and appended to after that.

    Use as a context manager; every file is closed on exit.

    Example:
        >>> import tempfile
        >>> with CsvSink(Path(tempfile.mkdtemp())) as sink:
        ...     sink.append("t", pd.DataFrame({"a": [1]}))
        ...     sink.append("t", pd.DataFrame({"a": [2]}))
        ...     sink.rows["t"]
        2
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, int] = {}
        """Data rows written per file (by relative name without ``.csv``)."""
        self._files: dict[str, tuple[IO[str], list[str]]] = {}

    def __enter__(self) -> CsvSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(self, name: str, df: pd.DataFrame) -> None:
        """Append ``df`` to ``name``.csv (created with its header on the first call).

        Raises:
            ValueError: a later block's columns differ from the header written.
        """
        if name not in self._files:
            path = self.folder / f"{name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            new: IO[str] = path.open("w", encoding="utf-8", newline="")
            header = [str(c) for c in df.columns]
            csv.writer(new, lineterminator="\n").writerow(header)
            self._files[name] = (new, header)
            self.rows[name] = 0
        fh, columns = self._files[name]
        if [str(c) for c in df.columns] != columns:
            raise ValueError(f"{name}.csv: columns {list(df.columns)} differ from {columns}")
        csv.writer(fh, lineterminator="\n").writerows(csv_rows(df))
        self.rows[name] += len(df)

    def close(self) -> None:
        """Close every file (idempotent)."""
        for fh, _ in self._files.values():
            fh.close()
        self._files.clear()
