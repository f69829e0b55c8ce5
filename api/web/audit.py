"""The audit page (admins only): who viewed, searched, exported, promoted, imported or
erased what, and when; filters by action, client, key and dates. Calls
``audit.list_events``, as ``GET /api/v1/audit`` does, and is itself recorded.

:class:`ConsoleAudit` says what each audited console page records (its
``dependencies=[...]`` entry; see :mod:`api.auditing`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auditing import Call, audited, client_in_path, param, params
from api.web.deps import RuntimeDep, current_user, get_runtime, render, require
from recsvc.auth import Principal
from recsvc.runtime import Runtime
from recsvc.store.enums import Role
from recsvc.usecases import audit, clients
from recsvc.usecases.audit import AuditAction, AuditSurface

__all__ = ["PAGE_SIZE", "ConsoleAudit", "Recorded", "router"]

router = APIRouter()

PAGE_SIZE = 50
MAX_PAGE = 2000

Admin = Annotated[Principal, require(Role.ADMIN)]
ActionQ = Annotated[AuditAction | None, Query()]
DateQ = Annotated[dt.date | None, Query()]


def Recorded(action: AuditAction, **spec: Any) -> Any:
    """:func:`api.auditing.audited` for console pages (the caller is the session's)."""
    return audited(
        action, surface=AuditSurface.CONSOLE, principal=current_user, runtime=get_runtime, **spec
    )


def _contacts(call: Call, _rt: Runtime) -> dict[str, Any]:
    return {"contacts": call.principal.allowed(Role.LIBRARIAN)}


def _searched(call: Call) -> bool:
    return bool(call.params.get("q", "").strip())


class ConsoleAudit:
    """What each audited console page records. The client page is ONE ``client.view``
    (its recommendations and similar clients are part of that page)."""

    client_page = Recorded(AuditAction.CLIENT_VIEW, client=client_in_path, detail=_contacts)
    portal_preview = Recorded(
        AuditAction.CLIENT_RECOMMENDATIONS, client=client_in_path, target="portal"
    )
    worklist_page = Recorded(AuditAction.WORKLIST_VIEW, detail=params("segment", "page"))
    worklist_export = Recorded(AuditAction.WORKLIST_EXPORT, detail=params("fmt", "segment"))
    search = Recorded(AuditAction.SEARCH, target=param("kind", "all"), when=_searched)
    train = Recorded(AuditAction.TRAIN)
    plot = Recorded(
        AuditAction.REPORT_DOWNLOAD,
        target=param("version"),
        detail=lambda call, _rt: {"plot": call.params.get("name")},
    )


def record(rt: Runtime, user: Principal, action: AuditAction, **fields: Any) -> None:
    """Record ``action`` now (pages that answer a refusal with a page, not an error)."""
    audit.record(rt, user, action, surface=AuditSurface.CONSOLE, **fields)


def _day(day: dt.date | None, *, end: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), dt.UTC)


@router.get("/audit", name="audit")
def audit_page(
    request: Request,
    user: Admin,
    rt: RuntimeDep,
    action: ActionQ = None,
    client: Annotated[str, Query(max_length=64)] = "",
    key_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    since: DateQ = None,
    until: DateQ = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Events, newest first, a page at a time; ``until`` includes its whole day (UTC)."""
    client = client.strip()
    client_id = clients.client_id(rt, external_id=client) if client else None
    found = audit.list_events(
        rt,
        action=action,
        client_id=client_id,
        key_id=key_id,
        since=_day(since),
        until=_day(until, end=True),
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    record(
        rt,
        user,
        AuditAction.AUDIT_VIEW,
        client_id=client_id,
        target=action.value if action else None,
        detail={"rows": len(found.data)},
    )
    filters = {
        "action": action.value if action else "",
        "client": client,
        "key_id": str(key_id or ""),
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
    }
    return render(
        request,
        "audit.html",
        {
            "active": "audit",
            "events": found.data,
            "count": found.count,
            "page": page,
            "start": (page - 1) * PAGE_SIZE,
            "has_next": page * PAGE_SIZE < found.count,
            "filters": filters,
            "query": urlencode({k: v for k, v in filters.items() if v}),
            "actions": [a.value for a in AuditAction],
            "erased": audit.ERASED,
        },
    )
