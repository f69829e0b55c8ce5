"""The worklist, the librarians' landing page: whom to contact this week, with what
offer, what it is worth and why; filters, order (expected value or probability),
pagination and CSV / Excel export in the session's language.

It calls ``worklist.worklist`` and ``worklist.export``, exactly as
``GET /api/v1/worklist`` does; the contact columns only for roles that may see them.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.views import export_response
from api.web.audit import ConsoleAudit
from api.web.clients import DECLINE_REASONS, outcome_cells
from api.web.deps import RuntimeDep, Staff, language, render, sees_personal_data
from recsvc import quantities
from recsvc.auth import Principal
from recsvc.errors import NotReady
from recsvc.runtime import Runtime
from recsvc.usecases import worklist
from recsvc.usecases.worklist import WorklistFilters, WorklistRow

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()

PAGE_SIZE = 20
MAX_PAGE = 50
#: Rows in an export: this week's calls, not the whole client base.
EXPORT_ROWS = 50
SEGMENTS = ("key", "potential", "general", "new", "dormant")

SORTS = ("value", "probability")

SegmentQ = Annotated[Literal["", "key", "potential", "general", "new", "dormant"], Query()]
SortQ = Annotated[Literal["value", "probability"], Query()]
TextQ = Annotated[str, Query(max_length=120)]


def _rows(
    rt: Runtime,
    user: Principal,
    segment: str,
    field: str,
    staff: str,
    product: str,
    sort: str,
    want: int,
) -> tuple[str, list[WorklistRow]]:
    """The first ``want`` worklist rows for the filters (only as many as the page needs
    are ranked and explained: explaining is the costly part)."""
    found = worklist.worklist(
        rt,
        filters=WorklistFilters(
            segment=segment or None,
            account_manager=staff or None,
            product=product or None,
            field=field or None,
            sort=sort,
            limit=want,
        ),
        contacts=sees_personal_data(user),
    )
    return found.version, found.rows


@router.get("/", name="worklist", dependencies=[ConsoleAudit.worklist_page])
def worklist_page(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    segment: SegmentQ = "",
    field: TextQ = "",
    staff: TextQ = "",
    product: TextQ = "",
    sort: SortQ = "value",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Clients to contact now, best offer first, a page at a time."""
    start = (page - 1) * PAGE_SIZE
    try:
        version, rows = _rows(rt, user, segment, field, staff, product, sort, start + PAGE_SIZE + 1)
    except NotReady:
        version, rows = None, []
    filters = {"segment": segment, "field": field, "staff": staff, "product": product}
    if sort != "value":
        filters["sort"] = sort
    lang = language(request)
    contacts = sees_personal_data(user)
    shown = rows[start : start + PAGE_SIZE]
    offers: list[tuple[int, str, str, int | None]] = [
        (r.client_id, r.external_id, r.product_code, None) for r in shown
    ]
    return render(
        request,
        "worklist.html",
        {
            "active": "worklist",
            "rows": [worklist.public_row(r, contacts=contacts) for r in shown],
            "outcome_cells": outcome_cells(rt, offers, where="worklist"),
            "decline_reasons": DECLINE_REASONS,
            "sort": sort,
            "sorts": SORTS,
            "contacts": contacts,
            "heading": {
                name: worklist.heading(rt, name, lang)
                for name in ("probability", "expected_value", "client_probability", "contact_name")
            },
            "horizon_months": rt.settings.horizon_months,
            "percent": quantities.percent,
            "yuan": quantities.yuan,
            "start": start,
            "page": page,
            "has_next": len(rows) > start + PAGE_SIZE,
            "filters": filters,
            "query": urlencode({k: v for k, v in filters.items() if v}),
            "options": worklist.filter_options(rt),
            "segments": SEGMENTS,
            "model_version": version,
        },
    )


@router.get("/worklist.{fmt}", name="worklist_export", dependencies=[ConsoleAudit.worklist_export])
def worklist_export(
    request: Request,
    user: Staff,
    rt: RuntimeDep,
    fmt: Literal["csv", "xlsx"],
    segment: SegmentQ = "",
    field: TextQ = "",
    staff: TextQ = "",
    product: TextQ = "",
    sort: SortQ = "value",
) -> Response:
    """The filtered worklist (its first :data:`EXPORT_ROWS` rows) as CSV or Excel, in
    the session's language; contact columns only for roles that may see them."""
    version, rows = _rows(rt, user, segment, field, staff, product, sort, EXPORT_ROWS)
    payload = worklist.export(
        rows,
        fmt=fmt,
        lang=language(request),
        contacts=sees_personal_data(user),
        months=rt.settings.horizon_months,
    )
    return export_response(payload, fmt, version, f"worklist-{version}")
