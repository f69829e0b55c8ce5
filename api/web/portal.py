"""The portal preview: what a client sees on its personalised page, with anonymised
explanations only. Staff may preview any client; a portal token signed in to the
console sees its own client's page and nothing else. Calls
``recommendations.portal``, as ``GET /api/v1/me/recommendations`` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.web.audit import ConsoleAudit
from api.web.deps import RuntimeDep, UserDep, render
from recsvc.errors import Forbidden, NotReady
from recsvc.usecases import clients, recommendations

__all__ = ["router"]

router = APIRouter()


@router.get("/portal/{external_id}", name="portal", dependencies=[ConsoleAudit.portal_preview])
def portal_preview(
    request: Request,
    user: UserDep,
    rt: RuntimeDep,
    external_id: Annotated[str, Path(min_length=1, max_length=64)],
) -> Response:
    """The client's portal page as the client would see it."""
    if user.is_portal and user.client_external_id != external_id:
        raise Forbidden("a portal token sees its own client only")
    client_id = clients.client_id(rt, external_id=external_id)
    client = clients.record(rt, client_id=client_id)
    try:
        result = recommendations.portal(rt, client_id=client_id).public(external_id)
    except NotReady:
        result = None
    return render(
        request,
        "portal.html",
        {"active": "", "client": client, "external_id": external_id, "result": result},
    )
