"""Validating, all-or-nothing upsert of import files into the store.

:func:`import_file` imports one entity file, :func:`import_dir` every entity file of
a folder in dependency order (clients → contacts → commissions → orders →
interactions, feedback, complaints) in **one** transaction. One bad file rejects the
whole call with an :class:`~recsvc.errors.ImportRejected` listing each
:class:`~recsvc.errors.Problem`, and the database is left untouched.

Files stream through in chunks of :data:`~recsvc.ingest.readers.CHUNK_ROWS` rows, so
memory follows the chunk, not the file (a 1,000,000-client demo is 34 million rows).
Nothing is committed until every file has passed: any problem rejects the whole call,
and a dry run does all the work and rolls back, so its counts are exactly what the
import would do. After a problem, good rows are still checked so that every problem
of every file is reported; rows that cannot be written are remembered in
:class:`Pending`. How the writes meet other writers depends on the database:

- **PostgreSQL** (:func:`_import_streaming`): each chunk is validated, then its good
  rows are written inside the one transaction, where later chunks and files see them
  (references and duplicates are looked up in the database). Row locks block no
  live call.
- **SQLite** (:func:`_import_checked_first`): its one write lock would stop every live
  write for the whole import, so every file is validated first without writing
  (passing rows are spilled to a temporary folder; keys that later files may refer to
  wait in temporary tables, not memory), and only then is the lock taken, for the
  writes alone, in one transaction. A rejected import never takes it.

Example:
    >>> db = Database.from_url("sqlite://"); db.upgrade()      # doctest: +SKIP
    >>> import_file(db, Path("data/clients.csv"))              # doctest: +SKIP
    ImportReport(entity='clients', source='data/clients.csv', rows=3, inserted=3, ...)
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, insert

from recsvc.errors import ImportRejected, InvalidInput, NotFound, Problem
from recsvc.ingest.readers import CHUNK_ROWS, SUFFIXES, open_table
from recsvc.ingest.schema import ENTITY_ORDER, SCHEMAS, EntitySchema
from recsvc.ingest.sinks import KeysOnDisk, Spill, WriteNow
from recsvc.ingest.stream import ImportReport, check_file
from recsvc.ingest.validate import Known, Pending
from recsvc.ingest.writer import WriteResult, write
from recsvc.store.db import Database
from recsvc.store.models import ImportRun

log = logging.getLogger(__name__)


def entity_of(path: Path) -> str | None:
    """The entity a file holds, from its stem (``clients.csv`` → ``clients``)."""
    stem = path.stem.lower()
    return stem if stem in SCHEMAS else None


def import_file(
    db: Database,
    path: Path | str,
    entity: str | None = None,
    *,
    dry_run: bool = False,
    progress: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    encoding: str | None = None,
) -> ImportReport:
    """Validate and upsert one entity file.

    Args:
        db: The store (migrated).
        path: A ``.csv``, ``.xlsx``, ``.json`` or ``.jsonl`` file.
        entity: One of :data:`~recsvc.ingest.schema.SCHEMAS`; inferred from the stem if None.
        dry_run: Report what would be inserted and updated without writing.
        progress: Show a progress bar.
        chunk_rows: Rows validated and written at once; memory follows it, not the file.
        encoding: Text encoding of a CSV or JSON file; None detects it (and refuses an
            ambiguous one).

    Raises:
        NotFound: the file does not exist.
        InvalidInput: the entity is unknown or cannot be inferred.
        ImportRejected: the file failed validation or has no data rows; nothing was
            written.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    entity = entity or entity_of(path)
    if entity not in SCHEMAS:
        raise InvalidInput(
            f"{path.name}: cannot tell which entity this file holds",
            problems=[
                Problem(
                    f"name the file after an entity or pass --entity ({', '.join(ENTITY_ORDER)})",
                    file=path.name,
                )
            ],
        )
    plan = [(entity, path)]
    return _import(
        db, plan, dry_run=dry_run, progress=progress, rows=chunk_rows, encoding=encoding
    )[0]


def import_dir(
    db: Database,
    folder: Path | str,
    *,
    dry_run: bool = False,
    progress: bool = False,
    chunk_rows: int = CHUNK_ROWS,
    encoding: str | None = None,
) -> list[ImportReport]:
    """Validate and upsert every entity file in ``folder`` in one transaction.

    Files are recognised by stem (``clients.csv``, ``orders.xlsx`` …); other files and
    sub-folders are ignored. References may point to rows of other files in the folder.
    ``dry_run``, ``progress``, ``chunk_rows`` and ``encoding`` (then that of every CSV
    and JSON file) are those of :func:`import_file`. A file without data rows is checked
    (its header) and skipped, unless no file has data: then the import is rejected.

    Raises:
        NotFound: the folder does not exist.
        InvalidInput: the folder holds no entity file, or two files for one entity.
        ImportRejected: any file failed validation; nothing at all was written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotFound(f"no such folder: {folder}")
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        entity = entity_of(path)
        if path.is_file() and entity and path.suffix.lower() in SUFFIXES:
            found.setdefault(entity, []).append(path)
    clashes = {e: ps for e, ps in found.items() if len(ps) > 1}
    if clashes:
        raise InvalidInput(
            f"{folder}: more than one file for an entity",
            problems=[
                Problem(f"one file per entity, found {', '.join(p.name for p in ps)}", file=e)
                for e, ps in clashes.items()
            ],
        )
    if not found:
        raise InvalidInput(
            f"{folder}: no import files",
            problems=[
                Problem(f"expected files named {', '.join(ENTITY_ORDER)} (.csv/.xlsx/.json)")
            ],
        )
    plan = [(e, found[e][0]) for e in ENTITY_ORDER if e in found]
    return _import(db, plan, dry_run=dry_run, progress=progress, rows=chunk_rows, encoding=encoding)


def _import(
    db: Database,
    plan: list[tuple[str, Path]],
    *,
    dry_run: bool,
    progress: bool,
    rows: int,
    encoding: str | None = None,
) -> list[ImportReport]:
    """Import every file of ``plan`` (in order), all or nothing; the reports."""
    way = _import_checked_first if db.is_sqlite else _import_streaming
    reports = way(db, plan, dry_run=dry_run, progress=progress, rows=rows, encoding=encoding)
    for report in reports:
        log.info(
            "%s%s: %d rows, %d inserted, %d updated, %d unchanged",
            "dry run " if dry_run else "",
            report.source,
            report.rows,
            report.inserted,
            report.updated,
            report.unchanged,
        )
    return reports


def _import_streaming(
    db: Database,
    plan: list[tuple[str, Path]],
    *,
    dry_run: bool,
    progress: bool,
    rows: int,
    encoding: str | None,
) -> list[ImportReport]:
    """Stream every file into one transaction, writing each chunk as it passes; commit if
    all pass (PostgreSQL: other writers are not blocked meanwhile)."""
    with _all_or_nothing(db, keep=not dry_run) as conn:
        pending = Pending()
        reports: list[ImportReport] = []
        problems: list[Problem] = []
        rejected: list[str] = []
        for entity, path in plan:
            table = open_table(path, chunk_rows=rows, encoding=encoding)
            sink = WriteNow(conn, pending, write)
            report, found = check_file(conn, SCHEMAS[entity], table, sink, pending, progress)
            reports.append(replace(report, dry_run=dry_run))
            if found:
                problems.extend(found)
                rejected.append(path.name)
            elif not dry_run and report.rows:
                _record(conn, report)
        _reject_if(problems, rejected, plan, reports)
    return reports


def _import_checked_first(
    db: Database,
    plan: list[tuple[str, Path]],
    *,
    dry_run: bool,
    progress: bool,
    rows: int,
    encoding: str | None,
) -> list[ImportReport]:
    """Validate every file completely without writing, then write in one short
    transaction (SQLite: its one write lock blocks every other writer while held).

    The check reads the store but writes nothing to it (duplicate ids go to temporary
    tables), so live calls write as usual meanwhile; rows that pass are spilled to a
    temporary folder, and the keys of referenced entities are kept in memory
    (:class:`Pending`) so later files may refer to them. Only when everything passed is
    the write lock taken, for the upsert of the spilled rows alone.
    """
    with tempfile.TemporaryDirectory(prefix="recsvc-import-") as spill_dir:
        spilled: list[tuple[EntitySchema, ImportReport, Spill]] = []
        problems: list[Problem] = []
        rejected: list[str] = []
        with db.engine.connect() as conn:
            check = conn.begin()
            pending = KeysOnDisk(conn)
            try:
                for number, (entity, path) in enumerate(plan):
                    table = open_table(path, chunk_rows=rows, encoding=encoding)
                    sink = Spill(Path(spill_dir) / str(number), pending)
                    schema = SCHEMAS[entity]
                    report, found = check_file(conn, schema, table, sink, pending, progress)
                    spilled.append((schema, report, sink))
                    if found:
                        problems.extend(found)
                        rejected.append(path.name)
            finally:
                pending.drop()
                check.rollback()
        _reject_if(problems, rejected, plan, [report for _, report, _ in spilled])
        with _all_or_nothing(db, keep=not dry_run) as conn:
            db.serialise(conn, "import")
            reports = []
            for schema, report, sink in spilled:
                result = WriteResult(0, 0, 0)
                for number in range(sink.count):
                    data = pd.read_pickle(sink.part(number))
                    known = Known.lookup(conn, schema, data, Pending())
                    result = result + write(conn, schema, data, known.ids)
                done = replace(
                    report,
                    inserted=result.inserted,
                    updated=result.updated,
                    unchanged=result.unchanged,
                    dry_run=dry_run,
                )
                reports.append(done)
                if not dry_run and done.rows:
                    _record(conn, done)
    return reports


@contextmanager
def _all_or_nothing(db: Database, *, keep: bool) -> Iterator[Connection]:
    """A connection in one transaction: committed when the block ends and ``keep`` (not
    a dry run), rolled back otherwise and on any error."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        except BaseException:
            transaction.rollback()
            raise
        if keep:
            transaction.commit()
        else:
            transaction.rollback()


def _reject_if(
    problems: list[Problem],
    rejected: list[str],
    plan: list[tuple[str, Path]],
    reports: list[ImportReport],
) -> None:
    """Raise :class:`ImportRejected` for ``problems``, or when no file had a data row
    (nothing to import is a mistake, not a run)."""
    if not any(r.rows for r in reports):
        rejected = [path.name for _, path in plan]
        problems = problems + [
            Problem("the file has no data rows; nothing to import", file=name) for name in rejected
        ]
    if problems:
        raise ImportRejected(
            f"{', '.join(sorted(rejected))}: {len(problems)} problem(s); nothing was imported",
            problems=problems,
        )


def _record(conn: Connection, report: ImportReport) -> None:
    conn.execute(
        insert(ImportRun),
        {
            "entity": report.entity,
            "source": report.source[-500:],
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
        },
    )
