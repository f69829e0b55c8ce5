"""The client page: profile, timeline, score with reasons, segment with strategy
actions, CLV, relationship stage, next best services with evidence and the outcome
buttons, similar clients.

Recommendations shown here are recorded as impressions (``record=True``) by the same
``recommendations.live`` call the JSON API makes, so each accept / decline / purchased
button refers to the impression of the page it was pressed on.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.views import score_public
from api.web.audit import ConsoleAudit
from api.web.deps import (
    CsrfDep,
    RuntimeDep,
    Staff,
    prefix,
    records_outcomes,
    render,
    sees_personal_data,
)
from recsvc import quantities
from recsvc.auth import Principal
from recsvc.errors import Forbidden, NotReady
from recsvc.runtime import Runtime
from recsvc.store.enums import DeclineReason, Surface
from recsvc.usecases import clients, events, recommendations, scoring, search
from recsvc.usecases.clients import ClientHistory

__all__ = ["router", "timeline"]

router = APIRouter()

ExternalId = Annotated[str, Path(min_length=1, max_length=64)]
OUTCOMES = ("accepted", "declined", "purchased")
TIMELINE_ROWS = 40


def client_id_of(external_id: ExternalId, rt: RuntimeDep) -> int:
    """The internal id of the client in the path (404 page when unknown)."""
    return clients.client_id(rt, external_id=external_id)


ClientIdDep = Annotated[int, Depends(client_id_of)]


def _day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def timeline(history: ClientHistory) -> list[dict[str, Any]]:
    """Commissions, orders, feedback, complaints and interactions as one list, newest
    first (each entry: ``kind``, ``on``, and the row)."""
    entries: list[dict[str, Any]] = []
    for c in history.commissions:
        entries.append({"kind": "commission", "on": _day(c.commissioned_on), "row": c})
    for o in history.orders:
        entries.append({"kind": "order", "on": _day(o.order.ordered_on), "row": o})
    for f in history.feedback:
        entries.append({"kind": "feedback", "on": _day(f.received_on), "row": f})
    for k in history.complaints:
        entries.append({"kind": "complaint", "on": _day(k.opened_at), "row": k})
    for i in history.interactions:
        entries.append({"kind": "interaction", "on": _day(i.occurred_on), "row": i})
    entries.sort(key=lambda e: e["on"] or dt.date.min, reverse=True)
    return entries


def _optional(call: Any) -> tuple[Any, bool]:
    """Run ``call``; ``(None, False)`` when no model is in service yet."""
    try:
        return call(), True
    except NotReady:
        return None, False


def _client_context(rt: Runtime, user: Principal, client_id: int) -> dict[str, Any]:
    record = clients.record(rt, client_id=client_id)
    history = clients.history(rt, client_id=client_id, include_contacts=sees_personal_data(user))
    raw, ready = _optional(lambda: scoring.client_score(rt, client_id=client_id))
    score = score_public(raw) if raw is not None else None
    recs, _ = _optional(
        lambda: recommendations.live(
            rt,
            client_id=client_id,
            surface=Surface.LIBRARIAN,
            k=5,
            actor=user.name,
            record=records_outcomes(user),
        )
    )
    similar, _ = _optional(lambda: search.similar_clients(rt, client_id=client_id, k=6))
    return {
        "client": record,
        "history": history,
        "timeline": timeline(history)[:TIMELINE_ROWS],
        "timeline_total": history.total,
        "score": score,
        "model_ready": ready and raw is not None,
        "recs": recs,
        "similar": similar or [],
        "decline_reasons": [r.value for r in DeclineReason],
        "outcomes": OUTCOMES,
        "timeline_rows": TIMELINE_ROWS,
        "horizon_months": rt.settings.horizon_months,
        "percent": quantities.percent,
        "yuan": quantities.yuan,
    }


@router.get("/clients/{external_id}", name="client", dependencies=[ConsoleAudit.client_page])
def client_page(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    client_id: ClientIdDep,
    external_id: ExternalId,
    recorded: Annotated[Literal["", "accepted", "declined", "purchased"], Query()] = "",
) -> Response:
    """Everything a librarian needs before calling the client."""
    ctx = _client_context(rt, user, client_id)
    ctx.update({"active": "worklist", "external_id": external_id, "recorded": recorded})
    return render(request, "client.html", ctx)


@router.post("/clients/{external_id}/outcome", dependencies=[CsrfDep])
def record_outcome(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    client_id: ClientIdDep,
    external_id: ExternalId,
    impression_id: Annotated[int, Form(ge=1, le=2**62)],
    outcome: Annotated[Literal["accepted", "declined", "purchased"], Form()],
    reason: Annotated[DeclineReason | Literal[""], Form()] = "",
) -> Response:
    """Store accepted / declined (with its reason) / purchased for the impression shown;
    an htmx request gets the confirmation fragment, a plain form a redirect."""
    if not records_outcomes(user):
        raise Forbidden(f"the {user.role} role does not record outcomes")
    event = events.record_outcome(
        rt,
        impression_id=impression_id,
        outcome=outcome,
        reason=(reason or None) if outcome == "declined" else None,
        actor=user.name,
        client_id=client_id,
    )
    if request.headers.get("hx-request"):
        return render(request, "_outcome.html", {"event": event})
    return RedirectResponse(f"{prefix(request)}/clients/{external_id}?recorded={outcome}", 303)
