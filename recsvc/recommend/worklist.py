"""The librarian's worklist: which clients to contact now, with what, and why.

Rows are ranked by the calibrated probability of the client's best offer (so scores
compare across clients), filterable by segment, industry field, account manager and
product, paginated, and exportable to CSV or Excel.

Example:
    >>> rows = worklist(rec, segment="key", limit=20)       # doctest: +SKIP
    >>> export_worklist(rows, "worklist.xlsx")              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.errors import InvalidInput
from recsvc.exports import table_bytes
from recsvc.store.enums import Surface

COLUMNS_ZH = {
    "external_id": "客户编号",
    "name_zh": "客户名称",
    "segment": "客户分类",
    "industry_field": "行业领域",
    "account_manager": "负责人",
    "product_code": "产品代码",
    "product_zh": "推荐产品",
    "score": "购买概率",
    "reason_zh": "推荐理由",
    "action_zh": "关系维护动作",
}


@dataclass
class WorklistRow:
    """One client to contact: its best offer and a one-line reason."""

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
    expected_value: float
    reason_zh: str
    reason_en: str
    action_zh: str
    action_en: str

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
        limit: page size.
        offset: rows to skip (pagination).
    """
    if limit < 1 or offset < 0:
        raise InvalidInput("limit must be >= 1 and offset >= 0")
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
    if product:
        hit = codes == product
        keep = hit.any(axis=1)
        best = np.where(keep, np.argmax(hit, axis=1), 0)
    else:
        keep = codes[:, 0] != ""
        best = np.zeros(len(ids), dtype=int)
    best_code = codes[np.arange(len(ids)), best]
    best_score = scores[np.arange(len(ids)), best]
    order = [i for i in np.argsort(-best_score, kind="stable") if keep[i]]
    page = order[offset : offset + limit]
    if not page:
        return []
    page_ids = ids[page]
    recs = recommender.recommend_many(page_ids, Surface.WORKLIST, codes.shape[1], live=False)
    prices = ctx.products.set_index("code")["price"]
    rows: list[WorklistRow] = []
    for r, i in enumerate(page):
        cid = int(ids[i])
        code = str(best_code[i])
        rec = next((x for x in recs[cid] if x.code == code), None) or recs[cid][0]
        c = clients.loc[cid]
        acts = recommender.actions(cid)
        p = float(rec.score)
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
                score=p,
                expected_value=p * float(prices.get(rec.code, 0.0)),
                reason_zh=rec.reason_zh,
                reason_en=rec.reason_en,
                action_zh=acts[0].name_zh if acts else "",
                action_en=acts[0].name_en if acts else "",
            )
        )
    return rows


def _s(v: Any) -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)


def worklist_frame(rows: Sequence[WorklistRow]) -> pd.DataFrame:
    """The rows as a DataFrame (the export's columns)."""
    cols = list(WorklistRow.__dataclass_fields__)
    return pd.DataFrame([r.as_dict() for r in rows], columns=cols)


def export_worklist(rows: Sequence[WorklistRow], path: Path | str) -> Path:
    """Write the worklist to ``.csv`` (UTF-8 with BOM, opens in Excel) or ``.xlsx``.

    Raises:
        InvalidInput: any other suffix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput(f"export to .csv or .xlsx, not {suffix or 'no suffix'}")
    cols = list(WorklistRow.__dataclass_fields__)
    path.parent.mkdir(parents=True, exist_ok=True)
    # formula-leading text neutralised, xlsx cells never formulas (recsvc.exports)
    payload = table_bytes(
        [r.as_dict() for r in rows], {c: c for c in cols}, fmt=suffix[1:], sheet="worklist"
    )
    path.write_bytes(payload)
    return path
