"""The client portal page: what a client sees on its personalised page, in its own words.

A portal token signed in to the console sees its own client's page and nothing else;
staff may preview any client's page and see exactly what the client sees, under a
separate staff banner. The page has its own frame (``portal_base.html``): no staff
navigation or footer, and every link on it is one a portal user may follow (its home,
the language switch, sign-out, "ask about this"). Calls ``portal.offers``, as
``GET /api/v1/me/recommendations`` does.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.web.audit import ConsoleAudit
from api.web.deps import CsrfDep, RuntimeDep, UserDep, prefix, render
from recsvc.auth import Principal
from recsvc.errors import Forbidden, NotReady
from recsvc.usecases import clients, portal

__all__ = ["router"]

router = APIRouter()

ExternalId = Annotated[str, Path(min_length=1, max_length=64)]


def _own(user: Principal, external_id: str) -> None:
    if user.is_portal and user.client_external_id != external_id:
        raise Forbidden("a portal token sees its own client only")


@router.get("/portal/{external_id}", name="portal", dependencies=[ConsoleAudit.portal_preview])
def portal_page(
    request: Request,
    user: UserDep,
    rt: RuntimeDep,
    external_id: ExternalId,
    asked: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The client's portal page as the client sees it (staff: with a preview banner)."""
    _own(user, external_id)
    client_id = clients.client_id(rt, external_id=external_id)
    client = clients.record(rt, client_id=client_id)
    try:
        page = portal.offers(rt, client_id=client_id, client_external_id=external_id).public
    except NotReady:
        page = None
    asked_offer = next((o for o in page.data if o.code == asked), None) if page else None
    return render(
        request,
        "portal.html",
        {"client": client, "external_id": external_id, "page": page, "asked": asked_offer},
    )


@router.post("/portal/{external_id}/ask", name="portal_ask", dependencies=[CsrfDep])
def ask_about(
    request: Request,
    user: UserDep,
    rt: RuntimeDep,
    external_id: ExternalId,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    rank: Annotated[int | None, Form(ge=1, le=1000)] = None,
) -> Response:
    """The client asks about an offer: recorded as the offer shown and accepted on the
    portal. A staff preview records nothing (it is not the client asking)."""
    _own(user, external_id)
    client_id = clients.client_id(rt, external_id=external_id)
    if user.is_portal:
        portal.ask(rt, client_id=client_id, code=code, rank=rank)
    target = f"{prefix(request)}/portal/{quote(external_id, safe='')}?asked={quote(code, safe='')}"
    return RedirectResponse(target + "#asked", 303)
