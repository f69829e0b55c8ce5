"""The worklist, the librarians' landing page: whom to contact this week, with what
offer and why; filters, pagination and CSV / Excel export.

It calls ``Services.worklist`` and ``Services.export_worklist``, exactly as
``GET /api/v1/worklist`` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.views import export_response
from api.web.deps import ServicesDep, Staff, render
from api.web.queries import filter_options
from recsvc.errors import NotReady
from recsvc.services import Services, WorklistFilters

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()

PAGE_SIZE = 20
MAX_PAGE = 50
#: Rows in an export: this week's calls, not the whole client base.
EXPORT_ROWS = 50
#: At most this many ranked rows are scanned for an industry-field filter.
FIELD_SCAN = 400
SEGMENTS = ("key", "potential", "general", "new", "dormant")

SegmentQ = Annotated[Literal["", "key", "potential", "general", "new", "dormant"], Query()]
TextQ = Annotated[str, Query(max_length=120)]


def _rows(
    services: Services, segment: str, field: str, staff: str, product: str, want: int
) -> tuple[str, list[dict[str, Any]]]:
    """The first ``want`` worklist rows for the filters.

    ``Services.worklist`` explains every row it returns (the costly part), so only as
    many rows as the page needs are asked for. It has no industry-field filter, so the
    field is matched here on the rows' own ``industry_field``, scanning at most
    :data:`FIELD_SCAN` rows.
    """
    limit = min(max(want * 4, 100), FIELD_SCAN) if field else want
    filters = WorklistFilters(
        segment=segment or None,
        account_manager=staff or None,
        product=product or None,
        limit=limit,
    )
    version, rows = services.worklist(filters)
    if field:
        rows = [r for r in rows if r.get("industry_field") == field]
    return version, rows[:want]


@router.get("/", name="worklist")
def worklist_page(
    request: Request,
    user: Staff,
    services: ServicesDep,
    segment: SegmentQ = "",
    field: TextQ = "",
    staff: TextQ = "",
    product: TextQ = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Clients to contact now, best offer first, a page at a time."""
    start = (page - 1) * PAGE_SIZE
    try:
        version, rows = _rows(services, segment, field, staff, product, start + PAGE_SIZE + 1)
    except NotReady:
        version, rows = None, []
    filters = {"segment": segment, "field": field, "staff": staff, "product": product}
    return render(
        request,
        "worklist.html",
        {
            "active": "worklist",
            "rows": rows[start : start + PAGE_SIZE],
            "start": start,
            "page": page,
            "has_next": len(rows) > start + PAGE_SIZE,
            "filters": filters,
            "query": urlencode({k: v for k, v in filters.items() if v}),
            "options": filter_options(services.db),
            "segments": SEGMENTS,
            "model_version": version,
        },
    )


@router.get("/worklist.{fmt}", name="worklist_export")
def worklist_export(
    user: Staff,
    services: ServicesDep,
    fmt: Literal["csv", "xlsx"],
    segment: SegmentQ = "",
    field: TextQ = "",
    staff: TextQ = "",
    product: TextQ = "",
) -> Response:
    """The filtered worklist (its first :data:`EXPORT_ROWS` rows) as CSV or Excel."""
    version, rows = _rows(services, segment, field, staff, product, EXPORT_ROWS)
    return export_response(services.export_worklist(rows, fmt), fmt, version, f"worklist-{version}")
