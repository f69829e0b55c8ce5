"""The audit trail: who (key id and role) viewed, searched, exported, promoted, imported
or erased what, and when — recorded by the API, the console and the CLI, listed for
admins, pruned after ``Settings.audit_retention_days``.

API routes and console pages queue their events (:func:`record_soon`) for a writer
thread that writes them in batches; the CLI and the admin's views write at once
(:func:`record`).

The trail is append-only (nothing here updates an event; only :func:`prune` deletes,
by age) and never holds personal data: the actor is a key id and role, the client is
its internal id (so an erased client's events name nobody), ``target`` is a code (a
model version, an import entity, a search kind) and ``detail`` holds counts and codes.
:func:`event_row` enforces the last two: a target or detail value that is not a short
code (a query text, a name, a title) is dropped, never stored.

Example:
    >>> from recsvc.config import Settings
    >>> from recsvc.usecases import open_runtime
    >>> rt = open_runtime(Settings(database_url="sqlite://"), load_model=False)
    >>> record(rt, None, AuditAction.TRAIN, surface=AuditSurface.CLI, target="v1")
    >>> list_events(rt).data[0].action
    'model.train'
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, insert

from recsvc.auth import Principal
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.models import AuditEvent
from recsvc.store.queries.audit import AuditFilters, audit_events
from recsvc.usecases.audit_writer import FLUSH_SECONDS, AuditWriter, flush, record_soon

__all__ = [
    "ERASED",
    "FLUSH_SECONDS",
    "AuditAction",
    "AuditEntry",
    "AuditFilters",
    "AuditPage",
    "AuditSurface",
    "AuditWriter",
    "clean_detail",
    "clean_target",
    "client_of",
    "event_row",
    "flush",
    "list_events",
    "prune",
    "record",
    "record_soon",
]

log = logging.getLogger(__name__)

#: How a listing names a client that no longer exists.
ERASED = "(erased)"


class AuditAction(StrEnum):
    """What was done: the closed vocabulary of audited actions."""

    CLIENT_VIEW = "client.view"
    CLIENT_RECOMMENDATIONS = "client.recommendations"
    CLIENT_SIMILAR = "client.similar"
    SEARCH = "search"
    WORKLIST_VIEW = "worklist.view"
    WORKLIST_EXPORT = "worklist.export"
    REPORT_DOWNLOAD = "report.download"
    PROMOTE = "model.promote"
    ROLLBACK = "model.rollback"
    VALUE_MODEL = "model.value_model"
    TRAIN = "model.train"
    IMPORT = "import"
    CLIENT_ERASE = "client.erase"
    AUDIT_VIEW = "audit.view"


class AuditSurface(StrEnum):
    """Where it was done."""

    API = "api"
    CONSOLE = "console"
    CLI = "cli"


#: A target or detail string must look like a code: letters, digits and ``._:-``, no
#: spaces, no CJK, at most 64 characters (a query text or a name never passes).
_CODE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TARGET_MAX = 120
_DETAIL_KEYS_MAX = 16


def clean_target(target: str | None) -> str | None:
    """``target`` if it is a code (or comma-separated codes), else ``None``."""
    if target is None:
        return None
    parts = target.split(",")
    if len(target) > _TARGET_MAX or not all(_CODE.match(p) for p in parts):
        log.warning("audit target dropped: not a code")
        return None
    return target


def clean_detail(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """The counts, flags and codes of ``detail``; any other value is dropped."""
    if not detail:
        return None
    kept: dict[str, Any] = {}
    for key, value in list(detail.items())[:_DETAIL_KEYS_MAX]:
        if not _CODE.match(str(key)) or value is None:
            continue
        if isinstance(value, bool | int | float) or (isinstance(value, str) and _CODE.match(value)):
            kept[str(key)] = value
        else:
            log.warning("audit detail %r dropped: not a count or a code", key)
    return kept or None


def event_row(
    principal: Principal | None,
    action: AuditAction | str,
    *,
    surface: AuditSurface | str,
    client_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The ``audit_events`` row for one event (see :func:`record` for the arguments).

    Raises:
        ValueError: an action or surface outside the vocabulary.
    """
    return {
        "occurred_at": occurred_at or dt.datetime.now(dt.UTC),
        "action": AuditAction(action).value,
        "surface": AuditSurface(surface).value,
        "actor_key_id": principal.key_id if principal else None,
        "actor_role": principal.role.value if principal else None,
        "client_id": client_id,
        "target": clean_target(target),
        "detail": clean_detail(detail),
    }


def record(
    rt: Runtime,
    principal: Principal | None,
    action: AuditAction | str,
    *,
    surface: AuditSurface | str,
    client_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event now (one INSERT).

    Args:
        rt: the runtime.
        principal: who did it; ``None`` for the command line.
        action: what was done (one of :class:`AuditAction`).
        surface: ``api``, ``console`` or ``cli``.
        client_id: the internal id of the client whose data it was, if one.
        target: a code naming what was acted on (version, entity, search kind).
        detail: counts and codes (anything else is dropped).

    Raises:
        ValueError: an action or surface outside the vocabulary.
    """
    row = event_row(
        principal, action, surface=surface, client_id=client_id, target=target, detail=detail
    )
    with rt.db.engine.begin() as conn:  # Core: a third of an ORM session's cost
        conn.execute(insert(AuditEvent), row)


@dataclass(frozen=True)
class AuditEntry:
    """One event as an admin sees it."""

    id: int
    occurred_at: dt.datetime
    action: str
    surface: str
    actor_key_id: int | None
    actor_key_name: str | None
    actor_role: str | None
    client: str | None
    """The client's external id now, :data:`ERASED` if it no longer exists, ``None``
    when the event is about no client."""
    target: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class AuditPage:
    """A page of events, newest first, and how many match in all."""

    data: list[AuditEntry]
    count: int


def client_of(rt: Runtime, *, external_id: str | None) -> int | None:
    """The internal id of ``external_id`` for an event, or ``None`` (no id given, or no
    such client: a call about an unknown client has failed and records nothing)."""
    return queries.client_id(rt.db, external_id=external_id) if external_id else None


def _utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC instant (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def list_events(
    rt: Runtime,
    *,
    action: AuditAction | str | None = None,
    client_id: int | None = None,
    key_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AuditPage:
    """Events matching every filter given, newest first, a page at a time.

    Naive ``since`` / ``until`` are taken as UTC.

    Raises:
        ValueError: an action outside the vocabulary.
    """
    filters = AuditFilters(
        action=AuditAction(action).value if action else None,
        client_id=client_id,
        key_id=key_id,
        since=_utc(since) if since else None,
        until=_utc(until) if until else None,
    )
    flush(rt)  # this process's queued events first
    rows, count = audit_events(rt.db, filters=filters, offset=offset, limit=limit)
    data = [
        AuditEntry(
            id=r.event.id,
            occurred_at=_utc(r.event.occurred_at),
            action=r.event.action,
            surface=r.event.surface,
            actor_key_id=r.event.actor_key_id,
            actor_key_name=r.key_name,
            actor_role=r.event.actor_role,
            client=(
                None
                if r.event.client_id is None
                else (r.client_external_id if r.client_external_id is not None else ERASED)
            ),
            target=r.event.target,
            detail=r.event.detail,
        )
        for r in rows
    ]
    return AuditPage(data=data, count=count)


def prune(rt: Runtime, *, now: dt.datetime | None = None) -> int:
    """Delete events older than ``Settings.audit_retention_days`` (none when it is 0).

    Returns:
        How many events were deleted.
    """
    days = rt.settings.audit_retention_days
    if days <= 0:
        return 0
    cutoff = _utc(now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=days)
    with rt.db.session() as s:
        result = s.execute(delete(AuditEvent).where(AuditEvent.occurred_at < cutoff))
        deleted = int(getattr(result, "rowcount", 0) or 0)
    if deleted:
        log.info("audit: pruned %d events older than %d days", deleted, days)
    return deleted
