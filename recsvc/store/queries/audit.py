"""Reads of the audit trail: a filtered page of events, newest first, with the client's
current external id and the acting key's name joined in (neither is stored in the
event itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select

from recsvc.store.db import Database
from recsvc.store.models import ApiKey, AuditEvent, Client

__all__ = ["AuditFilters", "AuditRow", "audit_events"]


@dataclass(frozen=True)
class AuditFilters:
    """Filters of the audit listing (all optional, combined with AND)."""

    action: str | None = None
    client_id: int | None = None
    key_id: int | None = None
    since: dt.datetime | None = None
    """Events at or after this instant (UTC)."""
    until: dt.datetime | None = None
    """Events before this instant (UTC)."""


@dataclass(frozen=True)
class AuditRow:
    """One event as listed."""

    event: AuditEvent
    client_external_id: str | None
    """The client's external id now; ``None`` when the event names no client or the
    client has since been erased (``event.client_id`` tells which)."""
    key_name: str | None
    """The acting key's name now (``None`` for the command line or a deleted key)."""


def _where(f: AuditFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.action:
        where.append(AuditEvent.action == f.action)
    if f.client_id is not None:
        where.append(AuditEvent.client_id == f.client_id)
    if f.key_id is not None:
        where.append(AuditEvent.actor_key_id == f.key_id)
    if f.since is not None:
        where.append(AuditEvent.occurred_at >= f.since)
    if f.until is not None:
        where.append(AuditEvent.occurred_at < f.until)
    return where


def audit_events(
    db: Database, *, filters: AuditFilters, offset: int = 0, limit: int = 50
) -> tuple[list[AuditRow], int]:
    """A page of events matching ``filters``, newest first, and how many match in all."""
    where = _where(filters)
    stmt: Any = (
        select(AuditEvent, Client.external_id, ApiKey.name)
        .outerjoin(Client, Client.id == AuditEvent.client_id)
        .outerjoin(ApiKey, ApiKey.id == AuditEvent.actor_key_id)
        .where(*where)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset(offset)
        .limit(limit)
    )
    with db.session() as s:
        rows = [AuditRow(e, ext, name) for e, ext, name in s.execute(stmt)]
        count = s.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    return rows, count
