"""CLI commands about one client's data: ``clients erase``, ``clients erasures``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from recsvc.cli import _common
from recsvc.cli._common import console
from recsvc.usecases.audit import AuditSurface

clients_app = typer.Typer(help="A client's data: erasure.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(clients_app, name="clients")


@clients_app.command("erase")
def erase(
    external_id: Annotated[str, typer.Argument(help="The client's external id")],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why (recorded with the erasure; do not name the person)"),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase a client and everything derived from it (rows, index entries, cached
    embeddings, serving files); running servers stop serving it within seconds."""
    from recsvc.usecases import erasure  # opens the index and serving files

    if not yes:
        typer.confirm(
            f"Erase client {external_id} and everything derived from it? This cannot be undone",
            abort=True,
        )
    done = erasure.erase_client(
        _common.runtime(),
        external_id=external_id,
        reason=reason,
        principal=None,
        surface=AuditSurface.CLI,
    )
    console.print(f"erased [bold]{external_id}[/] (erasure record {done.erasure_id})")
    table = _common.table("removed", "count")
    for kind, n in done.counts.items():
        table.add_row(kind, f"{n:,}")
    console.print(table)


@clients_app.command("erasures")
def erasures(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The erasure records: when, who, why, how many (no personal data)."""
    from recsvc.usecases import erasure

    records = erasure.erasures(_common.runtime())
    if as_json:
        listed = [r.__dict__ for r in records]
        typer.echo(json.dumps(listed, ensure_ascii=False, indent=2, default=str))
        return
    table = _common.table("id", "erased at", "client id", "by", "reason", "rows")
    for r in records:
        rows = sum(v for k, v in r.counts.items() if k.startswith("rows."))
        by = f"{r.actor_role} key {r.actor_key_id}" if r.actor_key_id else "command line"
        when = r.erased_at.isoformat(timespec="seconds")
        table.add_row(str(r.id), when, str(r.client_id), by, r.reason, f"{rows:,}")
    console.print(table)
