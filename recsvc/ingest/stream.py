"""One import file's pass: chunk by chunk, validate the rows and hand those that can be
written to a sink (write now, or spill to disk until every file has passed).

Problems are capped at :data:`MAX_PROBLEMS_PER_FILE` per file (one more line counts the
rest); a file-level problem (a missing column, an unknown encoding) makes no row of the
file writable. The importer (:mod:`recsvc.ingest.importer`) chooses the sink and owns
the transaction; this module only reads, validates and counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection
from tqdm import tqdm

from recsvc.errors import Problem
from recsvc.ingest.readers import Table
from recsvc.ingest.schema import EntitySchema
from recsvc.ingest.seen import SeenIds
from recsvc.ingest.sinks import Spill
from recsvc.ingest.validate import Known, Pending, validate
from recsvc.ingest.writer import WriteResult

__all__ = ["MAX_PROBLEMS_PER_FILE", "ImportReport", "check_file"]

#: At most this many problems are listed per file; one more problem counts the rest.
MAX_PROBLEMS_PER_FILE = 1000


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, for a dry run, would do) to one entity."""

    entity: str
    source: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    dry_run: bool = False


def check_file(
    conn: Connection,
    schema: EntitySchema,
    table: Table,
    sink: Callable[[EntitySchema, pd.DataFrame, pd.Series, Known], WriteResult],
    pending: Pending,
    progress: bool,
) -> tuple[ImportReport, list[Problem]]:
    """Validate one file chunk by chunk, handing each chunk and its writable rows to
    ``sink``; its report and (capped) problems."""
    problems: list[Problem] = []
    file_level: set[Problem] = set()
    more = 0
    rows = 0
    result = WriteResult(0, 0, 0)
    checked_first = isinstance(sink, Spill)
    bar = tqdm(unit="rows", desc=f"import {table.name}", disable=not progress)
    with bar, SeenIds(conn) as seen:
        for number, raw in enumerate(_chunks(table)):
            known = Known.lookup(conn, schema, raw, pending)
            batch = validate(schema, table, raw, known, header=number == 0, earlier=seen.earlier)
            seen.add(batch.data)
            in_rows = set(batch.data.index)
            row_level = [p for p in batch.problems if p.row in in_rows]
            for p in batch.problems:
                if p.row not in in_rows and p not in file_level:
                    file_level.add(p)
                    problems.append(p)
            room = MAX_PROBLEMS_PER_FILE - len(problems)
            problems.extend(row_level[: max(room, 0)])
            more += max(len(row_level) - max(room, 0), 0)
            good = _writable(
                schema,
                batch.data,
                row_level,
                known,
                whole=not file_level,
                stored_only=not checked_first,
            )
            result = result + sink(schema, batch.data, good, known)
            rows += len(batch.data)
            bar.update(len(batch.data))
    if more:
        problems.append(Problem(f"… and {more} more problems", file=table.name))
    report = ImportReport(
        entity=schema.entity,
        source=str(table.path),
        rows=rows,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
    )
    return report, problems


def _chunks(table: Table) -> Iterator[pd.DataFrame]:
    """The file's chunks; one empty frame for a file without data (its header is checked)."""
    empty = True
    for chunk in table.chunks():
        empty = False
        yield chunk
    if empty:
        yield pd.DataFrame()


def _writable(
    schema: EntitySchema,
    data: pd.DataFrame,
    problems: list[Problem],
    known: Known,
    *,
    whole: bool,
    stored_only: bool = True,
) -> pd.Series:
    """Rows that can be written: no problem of their own and (``stored_only``) every
    reference stored now, not only :class:`Pending`; none at all when the file itself
    has a problem."""
    if not whole:
        return pd.Series(False, index=data.index)
    good = ~data.index.isin({p.row for p in problems})
    if not stored_only:
        return pd.Series(good, index=data.index)
    for spec in schema.references:
        if spec.name in data:
            stored = known.ids.get(spec.name, {})
            values = data[spec.name]
            good &= (values.isna() | values.isin(list(stored))).to_numpy()
    return pd.Series(good, index=data.index)
