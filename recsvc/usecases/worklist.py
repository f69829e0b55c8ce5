"""The worklist: which clients to contact now, with their best offer and why; exported
to CSV (UTF-8 with BOM, opens in Excel) or ``.xlsx`` through :mod:`recsvc.exports`
(formula-leading text neutralised, no formula cells).

Deterministic for one version in service (it ranks on that version's snapshot), so a
ranked list is kept with the bundle per filter set; a shorter page of a list already
ranked is a slice of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from recsvc.errors import InvalidInput
from recsvc.exports import EXPORT_FORMATS, table_bytes
from recsvc.recommend import worklist as rank_worklist
from recsvc.recommend.worklist import WorklistRow
from recsvc.runtime import Runtime
from recsvc.serving import ServingBundle
from recsvc.store import queries

__all__ = [
    "WORKLIST_COLUMNS",
    "Worklist",
    "WorklistFilters",
    "WorklistRow",
    "export",
    "filter_options",
    "public_row",
    "warm",
    "worklist",
]

#: Worklist columns as exported: public name → Chinese heading.
WORKLIST_COLUMNS: dict[str, str] = {
    "rank": "序号",
    "client_external_id": "客户编号",
    "client_name": "客户名称",
    "segment": "客户分类",
    "industry_field": "行业领域",
    "account_manager": "负责人",
    "product_code": "产品代码",
    "product_name_zh": "推荐产品",
    "product_name_en": "产品(英文)",
    "score": "购买概率",
    "expected_value": "期望价值",
    "reason_zh": "推荐理由",
    "reason_en": "理由(英文)",
    "action_zh": "关系维护动作",
    "action_en": "动作(英文)",
}
_KEPT_LISTS = 256


@dataclass(frozen=True)
class WorklistFilters:
    """Filters for the worklist (all optional) and the page size."""

    segment: str | None = None
    account_manager: str | None = None
    kind: str | None = None
    product: str | None = None
    field: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class Worklist:
    """A page of the worklist and the version that ranked it."""

    version: str
    rows: list[WorklistRow]


def worklist(rt: Runtime, *, filters: WorklistFilters, offset: int = 0) -> Worklist:
    """Rows ``offset`` to ``offset + filters.limit`` of the worklist, best first.

    Raises:
        NotReady: no model is in service.
        InvalidInput: an unknown product code.
    """
    bundle = rt.require_bundle()
    want = replace(filters, limit=filters.limit + offset)
    return Worklist(bundle.version, _ranked(bundle, want)[offset:])


def filter_options(rt: Runtime) -> dict[str, list[Any]]:
    """Choices for the worklist filters: account managers, industry fields, products."""
    return queries.filter_options(rt.db)


def warm(bundle: ServingBundle) -> None:
    """Rank the default worklist of a bundle before it serves."""
    _ranked(bundle, WorklistFilters())


def public_row(row: WorklistRow) -> dict[str, Any]:
    """A worklist row with public ids only (the API's and the exports' columns)."""
    return {
        "rank": row.rank,
        "client_external_id": row.external_id,
        "client_name": row.name_zh or row.name_en or None,
        "segment": row.segment or None,
        "industry_field": row.industry_field or None,
        "account_manager": row.account_manager or None,
        "score": float(row.score),
        "expected_value": float(row.expected_value),
        "product_code": row.product_code,
        "product_name_zh": row.product_zh,
        "product_name_en": row.product_en,
        "reason_zh": row.reason_zh,
        "reason_en": row.reason_en,
        "action_zh": row.action_zh or None,
        "action_en": row.action_en or None,
    }


def export(rows: list[WorklistRow], *, fmt: str) -> bytes:
    """Worklist rows as CSV (UTF-8 with BOM) or ``.xlsx`` bytes.

    Columns are the public ones (no internal ids), headed in Chinese and English. Text
    that a spreadsheet would run as a formula (a client named ``=HYPERLINK(…)``) is
    neutralised, and ``.xlsx`` cells are strings or numbers, never formulas.

    Raises:
        InvalidInput: a format other than csv or xlsx.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export to csv or xlsx, not {fmt!r}")
    headings = {en: f"{zh} {en}" for en, zh in WORKLIST_COLUMNS.items()}
    return table_bytes([public_row(r) for r in rows], headings, fmt=fmt, sheet="worklist")


def _ranked(bundle: ServingBundle, filters: WorklistFilters) -> list[WorklistRow]:
    """The first ``filters.limit`` rows, from the bundle's kept list when it has them."""
    key = ("worklist", replace(filters, limit=0))
    done: tuple[int, list[WorklistRow]] | None = bundle.cache.get(key)
    if done is not None and (filters.limit <= done[0] or len(done[1]) < done[0]):
        return done[1][: filters.limit]
    with bundle.lock:
        rows = rank_worklist(
            bundle.recommender,
            segment=filters.segment,
            field=filters.field,
            staff=filters.account_manager,
            product=filters.product,
            kind=filters.kind,
            limit=filters.limit,
        )
    if len(bundle.cache) > _KEPT_LISTS:
        bundle.cache.clear()
    bundle.cache[key] = (filters.limit, rows)
    return rows
