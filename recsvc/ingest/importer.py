"""Validating, all-or-nothing upsert of import files into the store.

:func:`import_file` imports one entity file, :func:`import_dir` every entity file of
a folder in dependency order (clients → contacts → commissions → orders →
interactions, feedback, complaints) in **one** transaction. Every file is read and
validated before anything is written; one bad file rejects the whole call with an
:class:`~recsvc.errors.ImportRejected` listing each :class:`~recsvc.errors.Problem`,
and the database is left untouched.

Example:
    >>> db = Database.from_url("sqlite://"); db.upgrade()      # doctest: +SKIP
    >>> import_file(db, Path("data/clients.csv"))              # doctest: +SKIP
    ImportReport(entity='clients', source='data/clients.csv', rows=3, inserted=3, ...)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, insert
from tqdm import tqdm

from recsvc.errors import ImportRejected, InvalidInput, NotFound, Problem
from recsvc.ingest.readers import SUFFIXES, Table, open_table
from recsvc.ingest.schema import ENTITY_ORDER, SCHEMAS
from recsvc.ingest.validate import Known, Validated, validate
from recsvc.ingest.writer import write
from recsvc.store.db import Database
from recsvc.store.models import ImportRun

log = logging.getLogger(__name__)

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
) -> ImportReport:
    """Validate and upsert one entity file.

    Args:
        db: The store (migrated).
        path: A ``.csv``, ``.xlsx``, ``.json`` or ``.jsonl`` file.
        entity: One of :data:`~recsvc.ingest.schema.SCHEMAS`; inferred from the stem if None.
        dry_run: Report what would be inserted and updated without writing.
        progress: Show progress bars (reading and writing).

    Raises:
        NotFound: the file does not exist.
        InvalidInput: the entity is unknown or cannot be inferred.
        ImportRejected: the file failed validation; nothing was written.
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
    return _import(db, [(entity, path)], dry_run=dry_run, progress=progress)[0]


def import_dir(
    db: Database, folder: Path | str, *, dry_run: bool = False, progress: bool = False
) -> list[ImportReport]:
    """Validate and upsert every entity file in ``folder`` in one transaction.

    Files are recognised by stem (``clients.csv``, ``orders.xlsx`` …); other files and
    sub-folders are ignored. References may point to rows of other files in the folder.

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
    return _import(db, plan, dry_run=dry_run, progress=progress)


def read_all(table: Table, *, progress: bool = False) -> pd.DataFrame:
    """Every data row of ``table`` in one DataFrame (read in chunks)."""
    parts: list[pd.DataFrame] = []
    with tqdm(unit="rows", desc=f"read {table.name}", disable=not progress) as bar:
        for chunk in table.chunks():
            parts.append(chunk)
            bar.update(len(chunk))
    if not parts:
        return pd.DataFrame()
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _import(
    db: Database, plan: list[tuple[str, Path]], *, dry_run: bool, progress: bool
) -> list[ImportReport]:
    """Validate every file of ``plan`` (in order), then write them all in one transaction."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            known = Known.load(conn, [entity for entity, _ in plan])
            batches: list[Validated] = []
            problems: list[Problem] = []
            for entity, path in plan:
                table = open_table(path)
                batch = validate(SCHEMAS[entity], table, read_all(table, progress=progress), known)
                known.add(entity, batch.data)
                batches.append(batch)
                problems.extend(_capped(batch))
            if problems:
                files = sorted({b.table.name for b in batches if b.problems})
                raise ImportRejected(
                    f"{', '.join(files)}: {len(problems)} problem(s); nothing was imported",
                    problems=problems,
                )
            reports = [_write(conn, b, dry_run=dry_run, progress=progress) for b in batches]
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
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


def _capped(batch: Validated) -> list[Problem]:
    problems = batch.problems
    if len(problems) <= MAX_PROBLEMS_PER_FILE:
        return problems
    more = len(problems) - MAX_PROBLEMS_PER_FILE
    return [
        *problems[:MAX_PROBLEMS_PER_FILE],
        Problem(f"… and {more} more problems", file=batch.table.name),
    ]


def _write(conn: Connection, batch: Validated, *, dry_run: bool, progress: bool) -> ImportReport:
    result = write(conn, batch, dry_run=dry_run, progress=progress)
    source = str(batch.table.path)
    if not dry_run:
        conn.execute(
            insert(ImportRun),
            {
                "entity": batch.schema.entity,
                "source": source[-500:],
                "inserted": result.inserted,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
    return ImportReport(
        entity=batch.schema.entity,
        source=source,
        rows=batch.rows,
        inserted=result.inserted,
        updated=result.updated,
        unchanged=result.unchanged,
        dry_run=dry_run,
    )
