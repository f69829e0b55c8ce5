"""The audit trail, for admins: who viewed, searched, exported, promoted, imported or
erased what, and when. Reading it is itself recorded (``audit.view``).

Clients are named by external id at this edge (a filter, the listing); the stored
events hold internal ids only, so an erased client is listed as ``(erased)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from api.deps import API_PREFIX, RuntimeDep, require
from recsvc.auth import Principal
from recsvc.store.enums import Role
from recsvc.usecases import audit, clients
from recsvc.usecases.audit import AuditAction, AuditSurface

__all__ = ["AuditEventPublic", "AuditEventsPublic", "router"]

router = APIRouter(prefix=API_PREFIX, tags=["admin"])

AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]


class AuditEventPublic(BaseModel):
    """One audit event: never personal data, never a query text."""

    id: int
    occurred_at: AwareDatetime
    action: AuditAction
    surface: AuditSurface
    actor_key_id: int | None = Field(None, description="The acting key; null: command line")
    actor_key_name: str | None = Field(None, description="That key's name now")
    actor_role: str | None = None
    client: str | None = Field(
        None, description='The client\'s external id now; "(erased)" if it no longer exists'
    )
    target: str | None = Field(None, description="A code: version, entity, search kind")
    detail: dict[str, Any] | None = Field(None, description="Counts and codes")


class AuditEventsPublic(BaseModel):
    data: list[AuditEventPublic]
    count: int = Field(description="Events matching the filters in all")


@router.get("/audit", response_model=AuditEventsPublic, summary="The audit trail (admin)")
def list_audit(
    principal: AdminDep,
    rt: RuntimeDep,
    action: AuditAction | None = None,
    client: Annotated[
        str | None, Query(min_length=1, max_length=64, description="External id")
    ] = None,
    key_id: Annotated[int | None, Query(ge=1, le=2**62, description="Acting key's id")] = None,
    since: Annotated[dt.datetime | None, Query(description="At or after (UTC if naive)")] = None,
    until: Annotated[dt.datetime | None, Query(description="Before (UTC if naive)")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditEventsPublic:
    """Events matching every filter given, newest first, a page at a time."""
    client_id = clients.client_id(rt, external_id=client) if client else None
    page = audit.list_events(
        rt,
        action=action,
        client_id=client_id,
        key_id=key_id,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    audit.record(
        rt,
        principal,
        AuditAction.AUDIT_VIEW,
        surface=AuditSurface.API,
        client_id=client_id,
        target=action.value if action else None,
        detail={"rows": len(page.data)},
    )
    data = [AuditEventPublic.model_validate(asdict(e)) for e in page.data]
    return AuditEventsPublic(data=data, count=page.count)
