"""The librarian's worklist: which clients to contact now, with what, and why.

Each row is a client's best offer with the quantities of :mod:`recsvc.quantities`:
its probability (P(buys this offer within the horizon), calibrated, so it compares
across clients) and its expected value (probability × list price, ¥). Rows are
ranked by expected value (``sort="value"``, the default: "ranked by value") or by
probability (``sort="probability"``); the best offer of a client is the one that
ranks first by the same measure. Filterable by segment, industry field, account
manager and product, paginated, and exportable (:func:`worklist_table`, the one
export of the CLI, the API and the console).

Example:
    >>> rows = worklist(rec, segment="key", limit=20)       # doctest: +SKIP
    >>> export_worklist(rows, "worklist.xlsx", lang="en")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from recsvc import quantities
from recsvc.errors import InvalidInput
from recsvc.exports import EXPORT_FORMATS, table_bytes
from recsvc.recommend.offer import list_prices
from recsvc.store.enums import Surface
from recsvc.store.labels import Label, label

#: What the worklist can be ranked by.
WorklistSort = Literal["value", "probability"]
SORTS: tuple[str, ...] = ("value", "probability")

#: Export columns: name → heading in both languages (``{months}``: the horizon). The
#: console's worklist headings read the same catalogue.
COLUMNS: dict[str, Label] = {
    "rank": Label("序号", "Rank"),
    "client_external_id": Label("客户编号", "Client ID"),
    "client_name": Label("客户名称", "Client"),
    "segment": Label("客户分类", "Segment"),
    "industry_field": Label("行业领域", "Industry field"),
    "account_manager": Label("客户经理", "Account manager"),
    "contact_name": Label("联系人", "Contact"),
    "contact_phone": Label("联系电话", "Phone"),
    "contact_email": Label("电子邮箱", "Email"),
    "product_code": Label("产品代码", "Product code"),
    "product_name": Label("推荐服务", "Offer"),
    "probability": quantities.LABELS["probability"],
    "expected_value": quantities.LABELS["expected_value"],
    "client_probability": quantities.LABELS["client_probability"],
    "reason": Label("推荐理由", "Reason"),
    "action": Label("关系维护动作", "Relationship action"),
}
#: Columns with personal data: only for roles that may see contacts.
CONTACT_COLUMNS = ("contact_name", "contact_phone", "contact_email")
_PERCENT_COLUMNS = ("probability", "client_probability")
_YUAN_COLUMNS = ("expected_value",)
_WIDTHS = {"client_name": 30, "product_name": 24, "reason": 60, "action": 24, "contact_email": 26}


@dataclass
class WorklistRow:
    """One client to contact: its best offer, the offer's probability and expected
    value, the client's probability of buying any service, and a one-line reason.

    ``score`` is the offer's probability (the name ``Offer.score`` carries);
    ``client_probability`` and the contact fields are filled by the use case
    (:mod:`recsvc.usecases.worklist`), which has the value scores and the store.
    """

    rank: int
    client_id: int
    external_id: str
    name_zh: str
    name_en: str
    segment: str
    industry_field: str
    account_manager: str
    product_code: str
    product_zh: str
    product_en: str
    score: float
    expected_value: float | None
    reason_zh: str
    reason_en: str
    action_zh: str
    action_en: str
    client_probability: float | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def worklist(
    recommender: Any,
    *,
    segment: str | None = None,
    field: str | None = None,
    staff: str | None = None,
    product: str | None = None,
    kind: str | None = None,
    sort: str = "value",
    limit: int = 20,
    offset: int = 0,
) -> list[WorklistRow]:
    """Top clients to contact now, best first.

    Args:
        recommender: a :class:`~recsvc.recommend.service.Recommender`.
        segment: value segment (``key``, ``potential``, …).
        field: industry field (exact match).
        staff: account manager (exact match).
        product: only clients whose offers include this product code (it becomes
            the row's offer).
        kind: client kind.
        sort: ``value`` (expected value of the best offer, the default) or
            ``probability`` (its probability).
        limit: page size.
        offset: rows to skip (pagination).

    Raises:
        InvalidInput: a bad page, sort or product.
    """
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be >= 1 and offset >= 0")
    if sort not in SORTS:
        raise InvalidInput(f"sort by value or probability, not {sort!r}")
    ctx = recommender.context
    clients = ctx.clients
    active = clients.index.isin(ctx.frames.commissions["client_id"].unique())
    cl = clients[active]
    seg = ctx.segments if ctx.segments is not None else pd.Series(dtype=object)
    if segment:
        cl = cl[seg.reindex(cl.index).astype(str).to_numpy() == segment]
    if field:
        cl = cl[cl["industry_field"].astype(str) == field]
    if staff:
        cl = cl[cl["account_manager"].astype(str) == staff]
    if kind:
        cl = cl[cl["kind"].astype(str) == kind]
    if product and product not in set(ctx.codes):
        raise InvalidInput(f"unknown product {product!r}")
    ids = cl.index.to_numpy(dtype=np.int64)
    if len(ids) == 0:
        return []
    codes, scores, _ = recommender.rank(ids, None, live=False)
    prices = list_prices(ctx.products.set_index("code"))
    price = np.vectorize(lambda c: prices.get(str(c), 0.0), otypes=[float])(codes)
    measure = scores * price if sort == "value" else scores
    measure = np.where(codes != "", measure, -np.inf)
    if product:
        hit = codes == product
        keep = hit.any(axis=1)
        best = np.where(keep, np.argmax(hit, axis=1), 0)
    else:
        keep = codes[:, 0] != ""
        best = np.argmax(measure, axis=1)
    rows_i = np.arange(len(ids))
    best_code = codes[rows_i, best]
    best_measure = measure[rows_i, best]
    order = [i for i in np.argsort(-best_measure, kind="stable") if keep[i]]
    page = order[offset : offset + limit]
    if not page:
        return []
    page_ids = ids[page]
    recs = recommender.recommend_many(page_ids, Surface.WORKLIST, codes.shape[1], live=False)
    rows: list[WorklistRow] = []
    for r, i in enumerate(page):
        cid = int(ids[i])
        code = str(best_code[i])
        rec = next((x for x in recs[cid] if x.code == code), None) or recs[cid][0]
        c = clients.loc[cid]
        acts = recommender.actions(cid)
        rows.append(
            WorklistRow(
                rank=offset + r + 1,
                client_id=cid,
                external_id=str(c.get("external_id") or cid),
                name_zh=_s(c.get("name_zh")),
                name_en=_s(c.get("name_en")),
                segment=recommender.segment_of(cid) or "",
                industry_field=_s(c.get("industry_field")),
                account_manager=_s(c.get("account_manager")),
                product_code=rec.code,
                product_zh=rec.name_zh,
                product_en=rec.name_en,
                score=float(rec.score),
                expected_value=rec.expected_value,
                reason_zh=rec.reason_zh,
                reason_en=rec.reason_en,
                action_zh=acts[0].name_zh if acts else "",
                action_en=acts[0].name_en if acts else "",
            )
        )
    return rows


def _s(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def _pick(lang: str, zh: str | None, en: str | None) -> str | None:
    first, second = (zh, en) if lang == "zh" else (en, zh)
    return first or second or None


def export_row(row: WorklistRow, lang: str) -> dict[str, Any]:
    """One row as the export writes it: texts in ``lang``, the segment's label, the
    quantities rounded as :mod:`recsvc.quantities` shows them."""
    return {
        "rank": row.rank,
        "client_external_id": row.external_id,
        "client_name": _pick(lang, row.name_zh, row.name_en),
        "segment": label("segment", row.segment, lang) or row.segment or None,
        "industry_field": label("field", row.industry_field, lang) or row.industry_field or None,
        "account_manager": row.account_manager or None,
        "contact_name": row.contact_name,
        "contact_phone": row.contact_phone,
        "contact_email": row.contact_email,
        "product_code": row.product_code,
        "product_name": _pick(lang, row.product_zh, row.product_en),
        "probability": quantities.round_probability(row.score),
        "expected_value": quantities.round_value(row.expected_value),
        "client_probability": quantities.round_probability(row.client_probability),
        "reason": _pick(lang, row.reason_zh, row.reason_en),
        "action": _pick(lang, row.action_zh, row.action_en),
    }


def headings(lang: str, *, contacts: bool, months: int = 12) -> dict[str, str]:
    """Export column → heading in ``lang``; the contact columns only with ``contacts``."""
    return {
        name: lab.text(lang).format(months=months)
        for name, lab in COLUMNS.items()
        if contacts or name not in CONTACT_COLUMNS
    }


def worklist_table(
    rows: Sequence[WorklistRow],
    *,
    fmt: str,
    lang: str = "zh",
    contacts: bool = False,
    months: int = 12,
) -> bytes:
    """The worklist as CSV (UTF-8 with BOM) or ``.xlsx`` bytes: the one export of the
    CLI, the API and the console.

    Headings and texts in ``lang``, segments as labels, probabilities to 0.1 % and
    values to whole yuan; in ``.xlsx`` they stay numbers with a percent and a ¥ number
    format, under a frozen, filterable header row with fitted widths. The contact
    columns (personal data) only with ``contacts``. Formula-leading text is
    neutralised (:mod:`recsvc.exports`).

    Raises:
        InvalidInput: a format other than csv or xlsx.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export to csv or xlsx, not {fmt!r}")
    cols = headings(lang, contacts=contacts, months=months)
    formats = {c: quantities.PERCENT_FORMAT for c in _PERCENT_COLUMNS}
    formats.update({c: quantities.YUAN_FORMAT for c in _YUAN_COLUMNS})
    return table_bytes(
        [export_row(r, lang) for r in rows],
        cols,
        fmt=fmt,
        sheet="worklist",
        formats=formats,
        widths=_WIDTHS,
    )


def export_worklist(
    rows: Sequence[WorklistRow], path: Path | str, *, lang: str = "zh", contacts: bool = False
) -> Path:
    """Write :func:`worklist_table` to an existing folder as ``.csv`` or ``.xlsx``.

    Raises:
        InvalidInput: another suffix, or a folder that does not exist.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput(f"export to .csv or .xlsx, not {suffix or 'no suffix'}")
    if not path.parent.is_dir():
        raise InvalidInput(f"no folder {str(path.parent)!r} to export to")
    path.write_bytes(worklist_table(rows, fmt=suffix[1:], lang=lang, contacts=contacts))
    return path
