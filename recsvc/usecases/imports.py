"""Data into the store: an uploaded file, a file or a folder on disk (the same
validation as ``recsvc import``); and how many rows the store holds."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from recsvc.errors import InvalidInput, Problem
from recsvc.ingest import ImportReport, import_dir, import_file
from recsvc.runtime import Runtime

__all__ = ["IMPORT_SUFFIXES", "import_path", "import_upload", "row_counts"]

IMPORT_SUFFIXES = frozenset({".csv", ".xlsx", ".json", ".jsonl"})
_COPY_CHUNK = 1024 * 1024


def import_upload(
    rt: Runtime,
    *,
    filename: str,
    payload: bytes | BinaryIO,
    entity: str | None = None,
    dry_run: bool = False,
    max_bytes: int | None = None,
    encoding: str | None = None,
) -> list[ImportReport]:
    """Import an uploaded file; the version in service reloads on the fresh data.

    The upload (bytes, or a file object read from its current position, e.g. the
    temporary file a web framework streamed it to) is copied in chunks under its own
    (sanitised) name into a private temporary folder, so problems name the file the
    analyst sent, and reports name it too. ``encoding`` names a CSV or JSON file's text
    encoding (None: detected). This blocks for as long as the import runs: a server
    calls it in a worker thread.

    Raises:
        InvalidInput: empty, too large, or an unsupported file type.
        ImportRejected: the file failed validation; nothing was written.
    """
    name = _safe_filename(filename)
    suffix = Path(name).suffix.lower()
    if suffix not in IMPORT_SUFFIXES:
        raise InvalidInput(
            f"{name}: unsupported file type",
            problems=[
                Problem(f"use one of {', '.join(sorted(IMPORT_SUFFIXES))}", field="file", file=name)
            ],
        )
    with tempfile.TemporaryDirectory(prefix="recsvc-upload-") as tmp:
        path = Path(tmp) / name
        if isinstance(payload, bytes):
            path.write_bytes(payload)
        else:
            with path.open("wb") as out:
                shutil.copyfileobj(payload, out, _COPY_CHUNK)
        size = path.stat().st_size
        if not size:
            raise InvalidInput(
                f"{name}: the file is empty",
                problems=[Problem("empty file", field="file", file=name)],
            )
        if max_bytes is not None and size > max_bytes:
            raise InvalidInput(
                f"{name}: larger than {max_bytes} bytes",
                problems=[Problem("file too large", field="file", file=name)],
            )
        report = import_file(rt.db, path, entity, dry_run=dry_run, encoding=encoding or None)
    if not dry_run and (report.inserted or report.updated):
        rt.data_changed()
    return [replace(report, source=name)]


def import_path(
    rt: Runtime,
    *,
    path: Path,
    entity: str | None = None,
    dry_run: bool = False,
    progress: bool = False,
    encoding: str | None = None,
) -> list[ImportReport]:
    """Validate and import a file or a folder of entity files (all or nothing).

    ``encoding`` names the text encoding of the CSV and JSON files (None: detected).

    Raises:
        InvalidInput: ``entity`` given for a folder.
        ImportRejected: a file failed validation; nothing was written.
    """
    if path.is_dir():
        if entity:
            raise InvalidInput("--entity applies to a single file, not a folder")
        reports = import_dir(rt.db, path, dry_run=dry_run, progress=progress, encoding=encoding)
    else:
        reports = [
            import_file(rt.db, path, entity, dry_run=dry_run, progress=progress, encoding=encoding)
        ]
    if not dry_run and any(r.inserted or r.updated for r in reports):
        rt.data_changed()
    return reports


def row_counts(rt: Runtime) -> dict[str, int]:
    """Row counts per importable entity, plus products."""
    return rt.db.counts()


def _safe_filename(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "upload"
    return name[:120]
