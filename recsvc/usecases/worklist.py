"""The worklist: which clients to contact now, with their best offer, its probability
and expected value, and why; exported to CSV (UTF-8 with BOM, opens in Excel) or
``.xlsx`` by :func:`export`, the one export of the CLI, the API and the console.

Deterministic for one version in service (it ranks on that version's snapshot), so a
ranked list is kept with the bundle per filter set; a shorter page of a list already
ranked is a slice of it. Each row also carries the client's probability of buying any
service (the value model's, as the client page shows it) and, for roles that may see
personal data, the client's primary contact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from recsvc.recommend import worklist as rank_worklist
from recsvc.recommend.worklist import COLUMNS, SORTS, WorklistRow, worklist_table
from recsvc.runtime import Runtime
from recsvc.serving import ServingBundle
from recsvc.store import queries

__all__ = [
    "COLUMNS",
    "SORTS",
    "Worklist",
    "WorklistFilters",
    "WorklistRow",
    "export",
    "filter_options",
    "heading",
    "public_row",
    "warm",
    "worklist",
]

_KEPT_LISTS = 256


@dataclass(frozen=True)
class WorklistFilters:
    """Filters for the worklist (all optional), its order and the page size."""

    segment: str | None = None
    account_manager: str | None = None
    kind: str | None = None
    product: str | None = None
    field: str | None = None
    sort: str = "value"
    limit: int = 50


@dataclass(frozen=True)
class Worklist:
    """A page of the worklist and the version that ranked it."""

    version: str
    rows: list[WorklistRow]


def worklist(
    rt: Runtime, *, filters: WorklistFilters, offset: int = 0, contacts: bool = False
) -> Worklist:
    """Rows ``offset`` to ``offset + filters.limit`` of the worklist, best first.

    Args:
        contacts: fill each row's primary contact (personal data: only for roles that
            may see it).

    Raises:
        NotReady: no model is in service.
        InvalidInput: an unknown product code or sort.
    """
    bundle = rt.require_bundle()
    want = replace(filters, limit=filters.limit + offset)
    rows = [_with_client_probability(bundle, r) for r in _ranked(bundle, want)[offset:]]
    if contacts and rows:
        found = queries.primary_contacts(rt.db, client_ids=[r.client_id for r in rows])
        rows = [
            replace(
                r,
                contact_name=c.name,
                contact_phone=c.phone,
                contact_email=c.email,
            )
            if (c := found.get(r.client_id)) is not None
            else r
            for r in rows
        ]
    return Worklist(bundle.version, rows)


def filter_options(rt: Runtime) -> dict[str, list[Any]]:
    """Choices for the worklist filters: account managers, industry fields, products."""
    return queries.filter_options(rt.db)


def warm(bundle: ServingBundle) -> None:
    """Rank the default worklist of a bundle before it serves."""
    _ranked(bundle, WorklistFilters())


def heading(rt: Runtime, name: str, lang: str) -> str:
    """The heading of worklist column ``name`` in ``lang`` (the export's words)."""
    return COLUMNS[name].text(lang).format(months=rt.settings.horizon_months)


def public_row(row: WorklistRow, *, contacts: bool = False) -> dict[str, Any]:
    """A worklist row with public ids only (the API's and the console's fields).

    ``probability`` and ``expected_value`` are the offer's, ``client_probability`` the
    client's (:mod:`recsvc.quantities`); ``score`` repeats ``probability`` for older
    callers. Contact fields only with ``contacts``.
    """
    out: dict[str, Any] = {
        "rank": row.rank,
        "client_external_id": row.external_id,
        "client_name": row.name_zh or row.name_en or None,
        "client_name_en": row.name_en or None,
        "segment": row.segment or None,
        "industry_field": row.industry_field or None,
        "account_manager": row.account_manager or None,
        "probability": float(row.score),
        "expected_value": row.expected_value,
        "client_probability": row.client_probability,
        "score": float(row.score),
        "product_code": row.product_code,
        "product_name_zh": row.product_zh,
        "product_name_en": row.product_en,
        "reason_zh": row.reason_zh,
        "reason_en": row.reason_en,
        "action_zh": row.action_zh or None,
        "action_en": row.action_en or None,
    }
    if contacts:
        out.update(
            contact_name=row.contact_name,
            contact_phone=row.contact_phone,
            contact_email=row.contact_email,
        )
    return out


def export(
    rows: list[WorklistRow],
    *,
    fmt: str,
    lang: str = "zh",
    contacts: bool = False,
    months: int = 12,
) -> bytes:
    """Worklist rows as CSV (UTF-8 with BOM) or ``.xlsx`` bytes, for the CLI, the API
    and the console alike (:func:`recsvc.recommend.worklist.worklist_table`).

    Headings, names, segments and reasons in ``lang``; probabilities and values rounded
    (CSV) or numbers with a percent / ¥ format (``.xlsx``); the contact columns only
    with ``contacts`` (rows from :func:`worklist` called with ``contacts=True``);
    ``months``, the horizon the headings name (``settings.horizon_months``). Text
    that a spreadsheet would run as a formula is neutralised.

    Raises:
        InvalidInput: a format other than csv or xlsx.
    """
    return worklist_table(rows, fmt=fmt, lang=lang, contacts=contacts, months=months)


def _with_client_probability(bundle: ServingBundle, row: WorklistRow) -> WorklistRow:
    """The row with the client's value probability, as the client page reads it."""
    scores = bundle.scores
    if scores is None or row.client_id not in scores.index:
        return row
    p = scores.loc[row.client_id, "probability"]
    return row if pd.isna(p) else replace(row, client_probability=float(p))


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
            sort=filters.sort,
            limit=filters.limit,
        )
    if len(bundle.cache) > _KEPT_LISTS:
        bundle.cache.clear()
    bundle.cache[key] = (filters.limit, rows)
    return rows
