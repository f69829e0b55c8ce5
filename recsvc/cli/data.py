"""CLI commands for the store: ``db upgrade``, ``import``, ``stats``.

A rejected import raises :class:`~recsvc.errors.ImportRejected`; the top-level handler
in :mod:`recsvc.cli` prints one line per problem and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from recsvc.cli import _common
from recsvc.cli import audit as audit_commands
from recsvc.cli._common import console

if TYPE_CHECKING:
    from recsvc.ingest import ImportReport  # the ingest package loads pandas

#: The importable entities in import order: :data:`recsvc.ingest.ENTITY_ORDER`, which
#: would load pandas for every command's --help (``tests/test_cli_fast.py`` compares).
ENTITIES = (
    "clients",
    "contacts",
    "commissions",
    "orders",
    "interactions",
    "feedback",
    "complaints",
)

db_app = typer.Typer(help="Schema management.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Migrate the store to the latest schema and sync the product catalogue."""
    rt = _common.runtime()  # opens the store and runs the migrations to head
    console.print(f"schema up to date at {rt.db.engine.url.render_as_string(hide_password=True)}")


def import_(
    path: Annotated[Path, typer.Argument(help="An entity file, or a folder of entity files.")],
    entity: Annotated[
        str | None,
        typer.Option("--entity", "-e", help=f"Entity of a single file ({', '.join(ENTITIES)})."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and report; write nothing.")
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bars (default: on a terminal)."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="Text encoding of the CSV/JSON files (e.g. cp1252, gb18030); "
            "default: detected, and an ambiguous file is refused.",
        ),
    ] = None,
) -> None:
    """Validate and import a file or a folder (all or nothing)."""
    from recsvc.usecases import imports

    show = _common.progress_default(progress)
    rt = _common.runtime()
    reports = imports.import_path(
        rt, path=path, entity=entity, dry_run=dry_run, progress=show, encoding=encoding
    )
    audit_commands.record_import(rt, reports, dry_run=dry_run)
    console.print(report_table(reports, dry_run=dry_run))


def stats() -> None:
    """Row counts per entity."""
    from recsvc.usecases import imports

    counts = imports.row_counts(_common.runtime())
    if _common.is_brief():
        console.print(
            "store: " + " · ".join(f"{count:,} {name}" for name, count in counts.items()),
            highlight=False,
            soft_wrap=True,
        )
        return
    table = _common.table("entity", "rows", title="store")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)


def report_table(reports: list[ImportReport], *, dry_run: bool = False) -> Table:
    """A rich table of import reports."""
    title = "import (dry run: nothing written)" if dry_run else "import"
    table = _common.table(
        "entity", "source", "rows", "inserted", "updated", "unchanged", title=title
    )
    for r in reports:
        table.add_row(
            r.entity,
            Path(r.source).name,
            f"{r.rows:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
        )
    return table


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(db_app, name="db")
    app.command("import")(import_)
    app.command("stats")(stats)
