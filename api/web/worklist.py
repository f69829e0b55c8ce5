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

from api.web.deps import ServicesDep, Staff, render
from api.web.queries import client_fields, filter_options
from recsvc.errors import NotReady
from recsvc.services import Services, WorklistFilters

__all__ = ["PAGE_SIZE", "router"]

router = APIRouter()

PAGE_SIZE = 20
#: How many rows one worklist request ranks before filtering by field and paging.
WORKLIST_MAX = 1000
SEGMENTS = ("key", "potential", "general", "new", "dormant")
_EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

SegmentQ = Annotated[Literal["", "key", "potential", "general", "new", "dormant"], Query()]
TextQ = Annotated[str, Query(max_length=120)]


def _rows(
    services: Services, segment: str, field: str, staff: str, product: str
) -> tuple[str, list[dict[str, Any]]]:
    """The worklist rows for the filters (field is matched on the client's industry)."""
    filters = WorklistFilters(
        segment=segment or None,
        account_manager=staff or None,
        product=product or None,
        limit=WORKLIST_MAX,
    )
    version, rows = services.worklist(filters)
    fields = client_fields(services.db, [r["client_external_id"] for r in rows])
    rows = [dict(r, industry_field=fields.get(r["client_external_id"])) for r in rows]
    if field:
        rows = [r for r in rows if r["industry_field"] == field]
    return version, rows


@router.get("/", name="worklist")
def worklist_page(
    request: Request,
    user: Staff,
    services: ServicesDep,
    segment: SegmentQ = "",
    field: TextQ = "",
    staff: TextQ = "",
    product: TextQ = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Clients to contact now, best offer first, a page at a time."""
    try:
        version, rows = _rows(services, segment, field, staff, product)
    except NotReady:
        version, rows = None, []
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    start = (page - 1) * PAGE_SIZE
    filters = {"segment": segment, "field": field, "staff": staff, "product": product}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "worklist.html",
        {
            "active": "worklist",
            "rows": rows[start : start + PAGE_SIZE],
            "total": len(rows),
            "start": start,
            "page": page,
            "pages": pages,
            "filters": filters,
            "query": query,
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
    """The filtered worklist (all pages) as a CSV or Excel download."""
    version, rows = _rows(services, segment, field, staff, product)
    payload = services.export_worklist(
        [{k: v for k, v in r.items() if k != "industry_field"} for r in rows], fmt
    )
    return Response(
        payload,
        media_type=_EXPORT_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="worklist-{version}.{fmt}"',
            "X-Model-Version": version,
        },
    )
