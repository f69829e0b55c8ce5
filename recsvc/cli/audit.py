"""CLI commands: ``audit list``, ``audit prune``; and :func:`record`, with which the
other commands (import, promote, rollback, train, worklist export) leave their event.

Events from the command line have no key (``surface`` is ``cli``): whoever runs
``recsvc`` has the store itself.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recsvc.cli import _common
from recsvc.cli._common import console
from recsvc.errors import InvalidInput
from recsvc.runtime import Runtime
from recsvc.usecases import audit, clients
from recsvc.usecases.audit import AuditAction, AuditSurface

if TYPE_CHECKING:
    from recsvc.ingest import ImportReport  # the ingest package loads pandas

__all__ = ["audit_app", "prune_at_start", "record", "record_import", "register"]

log = logging.getLogger(__name__)

audit_app = typer.Typer(help="The audit trail: list and prune.", no_args_is_help=True)


def record(rt: Runtime, action: AuditAction, **fields: Any) -> None:
    """Record ``action`` as done from the command line."""
    audit.record(rt, None, action, surface=AuditSurface.CLI, **fields)


def record_import(rt: Runtime, reports: list[ImportReport], *, dry_run: bool) -> None:
    """Record an import: the entities as target, row counts as detail (no file name)."""
    record(
        rt,
        AuditAction.IMPORT,
        target=",".join(sorted({r.entity for r in reports})) or None,
        detail={
            "rows": sum(r.rows for r in reports),
            "inserted": sum(r.inserted for r in reports),
            "updated": sum(r.updated for r in reports),
            "dry_run": dry_run,
        },
    )


def _instant(value: str | None, option: str) -> dt.datetime | None:
    """A date (``2026-01-31``) or an ISO instant; naive ones are UTC."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option} must be a date or an ISO date-time, not {value!r}") from None


@audit_app.command("list")
def list_(
    action: Annotated[
        str | None,
        typer.Option("--action", help=f"One of: {', '.join(a.value for a in AuditAction)}."),
    ] = None,
    client: Annotated[str | None, typer.Option("--client", help="Client external id.")] = None,
    key_id: Annotated[int | None, typer.Option("--key-id", help="Acting key's id.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this date or instant (UTC).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Before this date or instant (UTC).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="Rows.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The newest audit events matching every filter given."""
    if action and action not in {a.value for a in AuditAction}:
        raise InvalidInput(
            f"--action must be one of {', '.join(a.value for a in AuditAction)}, not {action!r}"
        )
    rt = _common.runtime()
    client_id = clients.client_id(rt, external_id=client) if client else None
    page = audit.list_events(
        rt,
        action=action,
        client_id=client_id,
        key_id=key_id,
        since=_instant(since, "--since"),
        until=_instant(until, "--until"),
        limit=limit,
    )
    record(
        rt,
        AuditAction.AUDIT_VIEW,
        client_id=client_id,
        target=action,
        detail={"rows": len(page.data)},
    )
    if as_json:
        for e in page.data:
            typer.echo(json.dumps(asdict(e), default=str, ensure_ascii=False))
        return
    table = _common.table(
        "id",
        "when (UTC)",
        "action",
        "surface",
        "key",
        "role",
        "client",
        "target",
        "detail",
        title=f"audit ({len(page.data)} of {page.count})",
    )
    for e in page.data:
        key = f"#{e.actor_key_id} {e.actor_key_name or ''}".strip() if e.actor_key_id else "cli"
        table.add_row(
            str(e.id),
            e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.action,
            e.surface,
            key,
            e.actor_role or "",
            e.client or "",
            e.target or "",
            ", ".join(f"{k}={v}" for k, v in (e.detail or {}).items()),
        )
    console.print(table)


@audit_app.command("prune")
def prune() -> None:
    """Delete events older than RECSVC_AUDIT_RETENTION_DAYS (0 keeps all)."""
    rt = _common.runtime()
    deleted = audit.prune(rt)
    days = rt.settings.audit_retention_days
    kept = f"older than {days} days" if days > 0 else "(retention 0: every event is kept)"
    console.print(f"pruned {deleted} audit events {kept}")


def prune_at_start() -> None:
    """Apply the audit retention as a server starts (a failure is logged, not fatal)."""
    try:
        rt = _common.runtime()
        try:
            audit.prune(rt)
        finally:
            rt.close()
    except Exception:
        log.exception("audit retention could not be applied at start")


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``recsvc`` app."""
    app.add_typer(audit_app, name="audit")
