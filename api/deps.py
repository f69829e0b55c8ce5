"""Dependencies: the runtime, the caller, role checks, lookups-or-404.

Every route declares who may call it with :func:`require` (admin may do all staff
work; ``/me`` routes need a portal token bound to a client). A client in a path is
resolved once, by :data:`ClientDep`, into a :class:`ClientRef` or a 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.ratelimit import authenticate_limited
from recsvc.auth import Principal
from recsvc.config import Settings
from recsvc.errors import Forbidden
from recsvc.runtime import Runtime
from recsvc.store.enums import Role
from recsvc.usecases import access, clients

__all__ = [
    "API_PREFIX",
    "CONTACT_ROLES",
    "AnalystDep",
    "ClientDep",
    "ClientRef",
    "LibrarianDep",
    "PortalClientDep",
    "PrincipalDep",
    "RuntimeDep",
    "SettingsDep",
    "StaffReadDep",
    "require",
]

#: Where the JSON API lives (every route path carries it, so metrics see full paths).
API_PREFIX = "/api/v1"

#: Roles that may see contacts (personal data) in a client profile.
CONTACT_ROLES = frozenset({Role.ADMIN, Role.LIBRARIAN})

_bearer = HTTPBearer(auto_error=False, description="An API key or portal token")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Same key, other header")


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_principal(
    request: Request,
    rt: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    api_key: Annotated[str | None, Security(_api_key)],
) -> Principal:
    """The caller, from ``Authorization: Bearer`` or ``X-API-Key`` (401 without one or
    with a wrong one; 429 once an address or key prefix has failed too often, see
    :mod:`api.ratelimit`).

    Dependencies that touch only memory are ``async`` so the hot path never hops to the
    thread pool; a key-cache miss costs one indexed lookup in the store.
    """
    secret = bearer.credentials if bearer is not None else api_key
    limiter = getattr(request.app.state, "auth_limiter", None)
    principal = authenticate_limited(
        limiter,
        request,
        secret,
        lambda s: access.authenticate(rt, secret=s),
        surface="api",
    )
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets only ``roles`` (and admin, for staff routes) through."""
    allowed = frozenset(roles)

    async def _check(principal: PrincipalDep) -> Principal:
        if not principal.allowed(*allowed):
            raise Forbidden(
                f"role {principal.role.value!r} may not do this "
                f"(needs {' or '.join(sorted(r.value for r in allowed))})"
            )
        return principal

    _check.roles = allowed  # type: ignore[attr-defined]
    return _check


LibrarianDep = Annotated[Principal, Depends(require(Role.LIBRARIAN))]
StaffReadDep = Annotated[Principal, Depends(require(Role.LIBRARIAN, Role.ANALYST))]
AnalystDep = Annotated[Principal, Depends(require(Role.ANALYST))]


@dataclass(frozen=True)
class ClientRef:
    """A client resolved at the edge: internal id plus public id."""

    client_id: int
    external_id: str


def get_client(
    external_id: Annotated[str, Path(min_length=1, max_length=64)],
    rt: RuntimeDep,
) -> ClientRef:
    """The client named in the path, or 404."""
    return ClientRef(clients.client_id(rt, external_id=external_id), external_id)


ClientDep = Annotated[ClientRef, Depends(get_client)]


async def get_portal_client(
    principal: Annotated[Principal, Depends(require(Role.PORTAL))],
) -> ClientRef:
    """The client a portal token is bound to (403 for keys not bound to a client)."""
    if principal.client_id is None or principal.client_external_id is None:
        raise Forbidden("this key is not bound to a client; /me routes need a portal token")
    return ClientRef(principal.client_id, principal.client_external_id)


PortalClientDep = Annotated[ClientRef, Depends(get_portal_client)]
