"""The client page: profile, timeline, score with reasons, segment with strategy
actions, CLV, relationship stage, next best services with evidence and the outcome
buttons, similar clients.

Recommendations shown here are recorded as impressions (``record=True``) by the same
``recommendations.live`` call the JSON API makes, so each accept / decline / purchased
button refers to the impression of the page it was pressed on. The worklist's rows post
to the same outcome route with the product code instead (``record_item_outcome``).
An offer that already has an outcome shows it ("accepted on 12-03 by lib-wang"), not
fresh buttons (:func:`outcome_cells`).
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
from recsvc.errors import Conflict, Forbidden, InvalidInput, NotReady
from recsvc.runtime import Runtime
from recsvc.store.enums import DeclineReason, Surface
from recsvc.usecases import clients, events, outcomes, recommendations, scoring, search
from recsvc.usecases.clients import ClientHistory
from recsvc.usecases.outcomes import OutcomeState

__all__ = ["outcome_cells", "router", "timeline"]

router = APIRouter()

ExternalId = Annotated[str, Path(min_length=1, max_length=64)]
OUTCOMES = ("accepted", "declined", "purchased")
#: The reasons a librarian picks from when declining (no preselection).
DECLINE_REASONS = [r.value for r in DeclineReason]
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


def outcome_cells(
    rt: Runtime, offers: list[tuple[int, str, str, int | None]], *, where: str
) -> list[dict[str, Any]]:
    """What ``_outcome.html`` needs for each offer ``(client_id, external_id, item_code,
    impression_id)``: the outcome it already has (one query for the page), or none."""
    states = outcomes.outcome_states(rt, pairs=[(c, item) for c, _, item, _ in offers])
    return [
        {
            "external_id": ext,
            "item_code": item,
            "impression_id": imp,
            "state": states.get((cid, item)),
            "where": where,
        }
        for cid, ext, item, imp in offers
    ]


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
    offers = recs.offers if recs else []
    cells = outcome_cells(
        rt,
        [(client_id, record.external_id, o.code, o.impression_id) for o in offers],
        where="client",
    )
    return {
        "client": record,
        "history": history,
        "timeline": timeline(history)[:TIMELINE_ROWS],
        "timeline_total": history.total,
        "score": score,
        "model_ready": ready and raw is not None,
        "recs": recs,
        "similar": similar or [],
        "decline_reasons": DECLINE_REASONS,
        "outcome_cells": cells,
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
    recorded: Annotated[Literal["", "accepted", "declined", "purchased", "call"], Query()] = "",
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
    outcome: Annotated[Literal["accepted", "declined", "purchased"], Form()],
    impression_id: Annotated[int | None, Form(ge=1, le=2**62)] = None,
    item_code: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[DeclineReason | Literal[""], Form()] = "",
    where: Annotated[Literal["client", "worklist"], Form()] = "client",
) -> Response:
    """Store accepted / declined (with the reason picked) / purchased for the impression
    shown (client page) or the client's offer of ``item_code`` (worklist row); a
    purchase is also the order. An htmx request gets the offer's outcome cell back, a
    plain form a redirect; a decline without a reason is refused (422)."""
    if not records_outcomes(user):
        raise Forbidden(f"the {user.role} role does not record outcomes")
    cell: dict[str, Any] = {
        "external_id": external_id,
        "item_code": item_code,
        "impression_id": impression_id,
        "state": None,
        "where": where,
    }
    try:
        if impression_id is not None:
            event = events.record_outcome(
                rt,
                impression_id=impression_id,
                outcome=outcome,
                reason=(reason or None) if outcome == "declined" else None,
                actor=user.name,
                client_id=client_id,
            )
        else:
            event = events.record_item_outcome(
                rt,
                client_id=client_id,
                item_code=item_code,
                outcome=outcome,
                reason=(reason or None) if outcome == "declined" else None,
                actor=user.name,
                shown_on=Surface.WORKLIST,
            )
    except InvalidInput:
        if not request.headers.get("hx-request"):
            raise
        cell["error"] = "outcome.reason_required" if outcome == "declined" else "error.400"
        return render(request, "_outcome.html", _cell_context(cell), status=422)
    except Conflict:  # recorded already (another tab, a double click): show what it is
        if not request.headers.get("hx-request"):
            raise
        cell["state"] = _state_of(rt, client_id, item_code)
        return render(request, "_outcome.html", _cell_context(cell))
    if request.headers.get("hx-request"):
        today = dt.datetime.now(dt.UTC).date()
        cell["state"] = OutcomeState(event.event, today, user.name, reason or None)
        return render(request, "_outcome.html", _cell_context(cell))
    if where == "worklist":
        return RedirectResponse(f"{prefix(request)}/?recorded={outcome}", 303)
    return RedirectResponse(f"{prefix(request)}/clients/{external_id}?recorded={outcome}", 303)


def _cell_context(cell: dict[str, Any]) -> dict[str, Any]:
    return {"o": cell, "decline_reasons": DECLINE_REASONS}


def _state_of(rt: Runtime, client_id: int, item_code: str) -> OutcomeState | None:
    return outcomes.outcome_states(rt, pairs=[(client_id, item_code)]).get((client_id, item_code))


@router.post("/clients/{external_id}/call", dependencies=[CsrfDep])
def log_call(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    client_id: ClientIdDep,
    external_id: ExternalId,
    where: Annotated[Literal["client", "worklist"], Form()] = "client",
) -> Response:
    """Log a call with the client today (an interaction of kind ``call``, no free text);
    an htmx request gets the confirmation fragment, a plain form a redirect."""
    if not records_outcomes(user):
        raise Forbidden(f"the {user.role} role does not record outcomes")
    call = outcomes.log_call(rt, client_id=client_id, actor=user.name)
    if request.headers.get("hx-request"):
        return render(request, "_call.html", {"call": call})
    if where == "worklist":
        return RedirectResponse(f"{prefix(request)}/?recorded=call", 303)
    return RedirectResponse(f"{prefix(request)}/clients/{external_id}?recorded=call", 303)
