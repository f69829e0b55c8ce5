"""Recording the audit trail from routes and pages without touching their bodies.

:func:`audited` builds a dependency to put in a route decorator's
``dependencies=[...]``; :func:`Audited` is the JSON API's. The dependency does nothing
before the route runs (no lookup, no write: the hot paths stay as they were) and,
after the route returned without an exception, queues ONE event for the process's
audit writer (:func:`recsvc.usecases.audit.record_soon`: a list append; the writer
thread writes batches every quarter second). A call that fails (401, 403, 404, 409,
422, …) raises through the dependency and records nothing.

The event is queued after the response has gone out (FastAPI runs a request-scoped
dependency's exit then); the client is resolved on the writer's thread, from the
``external_id`` in the path or from a portal token's bound client, so neither the
caller nor the event loop ever waits on the store for the audit trail.

Example::

    @router.get("/clients/{external_id}", dependencies=[Audited(AuditAction.CLIENT_VIEW,
                client=client_in_path)])
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from api.deps import CONTACT_ROLES, get_principal, get_runtime
from recsvc.auth import Principal
from recsvc.runtime import Runtime
from recsvc.usecases import audit
from recsvc.usecases.audit import AuditAction, AuditSurface

__all__ = [
    "ApiAudit",
    "Audited",
    "Call",
    "Extract",
    "audited",
    "client_in_path",
    "client_of_token",
    "param",
    "params",
    "sees_contacts",
]


@dataclass(frozen=True)
class Call:
    """A call that succeeded: who made it and its parameters (path, query and form
    fields, all validated by then; uploaded files left out)."""

    principal: Principal
    params: Mapping[str, str]


#: Reads something from a finished call (may query the store: it runs in a thread).
Extract = Callable[[Call, Runtime], Any]


def client_in_path(call: Call, rt: Runtime) -> int | None:
    """The internal id of the client whose ``external_id`` is in the path."""
    return audit.client_of(rt, external_id=call.params.get("external_id"))


def client_of_token(call: Call, _rt: Runtime) -> int | None:
    """The client a portal token is bound to."""
    return call.principal.client_id


def param(name: str, default: str | None = None) -> Extract:
    """The parameter ``name`` of the call, or ``default``."""

    def _read(call: Call, _rt: Runtime) -> str | None:
        return call.params.get(name) or default

    return _read


def _typed(value: str) -> Any:
    """A parameter as the count or flag it stands for (``"5"`` → 5, ``"true"`` → True)."""
    if value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value.lower(), value)


def params(*names: str, **fixed: Any) -> Extract:
    """A detail dict of the parameters ``names`` that were given (counts and flags
    typed) plus ``fixed``; never name a free-text parameter here."""

    def _read(call: Call, _rt: Runtime) -> dict[str, Any]:
        out: dict[str, Any] = dict(fixed)
        for name in names:
            value = call.params.get(name)
            if value:
                out[name] = _typed(value)
        return out

    return _read


def sees_contacts(call: Call, _rt: Runtime) -> dict[str, Any]:
    """Whether the profile showed contacts (personal data) to this caller."""
    return {"contacts": call.principal.role in CONTACT_ROLES}


def _value(spec: Any, call: Call, rt: Runtime) -> Any:
    return spec(call, rt) if callable(spec) else spec


def _params(request: Request) -> dict[str, str]:
    """Path, query and already-parsed form fields of ``request`` (the body is never read
    here: the response has gone out)."""
    out = {k: str(v) for k, v in request.path_params.items()}
    out.update(request.query_params.items())
    form = getattr(request, "_form", None)  # Starlette's cache of the parsed form
    if form is not None:
        out.update((k, v) for k, v in form.items() if isinstance(v, str))
    return out


def audited(
    action: AuditAction | Extract,
    *,
    surface: AuditSurface,
    principal: Callable[..., Any],
    runtime: Callable[..., Any],
    client: Extract | None = None,
    target: Extract | str | None = None,
    detail: Extract | dict[str, Any] | None = None,
    when: Callable[[Call], bool] | None = None,
) -> Any:
    """A dependency that records ``action`` once the route has succeeded.

    Args:
        action: the action, or a function choosing it from the call.
        surface: where the call came in.
        principal: the dependency that yields the caller (cached per request, so the
            route's own one is reused).
        runtime: the dependency that yields the runtime.
        client: finds the internal id of the client concerned.
        target: a code, or a function reading one from the call.
        detail: counts and codes, or a function reading them from the call.
        when: record only calls for which this is true (e.g. a search page with a query).
    """

    # defaults, not Annotated[...]: string annotations cannot see these closure variables
    async def _audit(
        request: Request,
        who: Principal = Depends(principal),  # noqa: B008
        rt: Runtime = Depends(runtime),  # noqa: B008
    ) -> AsyncIterator[None]:
        yield  # an exception here (the call failed) propagates: nothing is recorded
        call = Call(who, _params(request))
        if when is None or when(call):
            stamp = dt.datetime.now(dt.UTC)
            audit.record_soon(rt, functools.partial(_row, call, rt, stamp))

    def _row(call: Call, rt: Runtime, stamp: dt.datetime) -> dict[str, Any]:
        return audit.event_row(
            call.principal,
            _value(action, call, rt),
            surface=surface,
            client_id=client(call, rt) if client else None,
            target=_value(target, call, rt),
            detail=_value(detail, call, rt),
            occurred_at=stamp,
        )

    return Depends(_audit)


def Audited(
    action: AuditAction | Extract,
    *,
    client: Extract | None = None,
    target: Extract | str | None = None,
    detail: Extract | dict[str, Any] | None = None,
) -> Any:
    """:func:`audited` for the JSON API (the caller is the request's API key)."""
    return audited(
        action,
        surface=AuditSurface.API,
        principal=get_principal,
        runtime=get_runtime,
        client=client,
        target=target,
        detail=detail,
    )


def _worklist_action(call: Call, _rt: Runtime) -> AuditAction:
    fmt = call.params.get("format") or call.params.get("fmt") or "json"
    return AuditAction.WORKLIST_EXPORT if fmt in ("csv", "xlsx") else AuditAction.WORKLIST_VIEW


def _active_version(_call: Call, rt: Runtime) -> str | None:
    return rt.registry.active()


def _plot(call: Call, _rt: Runtime) -> dict[str, Any]:
    return {"plot": call.params.get("name")}


class ApiAudit:
    """What each audited API route records (its ``dependencies=[...]`` entry). Only
    codes and counts: never ``q``, a name, or a free-text filter."""

    client_view = Audited(AuditAction.CLIENT_VIEW, client=client_in_path, detail=sees_contacts)
    recommendations = Audited(
        AuditAction.CLIENT_RECOMMENDATIONS,
        client=client_in_path,
        target="librarian",
        detail=params("k"),
    )
    portal_recommendations = Audited(
        AuditAction.CLIENT_RECOMMENDATIONS, client=client_of_token, target="portal"
    )
    similar = Audited(AuditAction.CLIENT_SIMILAR, client=client_in_path, detail=params("k"))
    search = Audited(AuditAction.SEARCH, target=param("kind", "commissions"), detail=params("k"))
    worklist = Audited(_worklist_action, detail=params("format", "limit", "segment"))
    report = Audited(AuditAction.REPORT_DOWNLOAD, target=param("version"))
    plot = Audited(AuditAction.REPORT_DOWNLOAD, target=param("version"), detail=_plot)
    promote = Audited(AuditAction.PROMOTE, target=param("version"), detail=params("force"))
    rollback = Audited(AuditAction.ROLLBACK, target=_active_version)
    value_model = Audited(AuditAction.VALUE_MODEL, target=param("version"), detail=params("model"))
    train = Audited(AuditAction.TRAIN)
    import_ = Audited(AuditAction.IMPORT, target=param("entity"), detail=params("dry_run"))
