"""Turn a simulated :class:`~recsvc.demo.simulate.History` into import-file tables.

Column names follow the ingest contract (docs/architecture.md): model attribute names,
foreign keys as ``client_external_id`` / ``contact_external_id`` /
``commission_external_id`` / ``product_code``, enum English codes, ISO dates.

Each function turns one block of clients into rows; ``first`` is the number of rows of
that table the blocks before wrote, so numbered external ids continue across blocks.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pandas as pd

from recsvc.demo import names as nm
from recsvc.demo import rules as R
from recsvc.demo.fields import FIELDS
from recsvc.demo.state import PRODUCTS, TRIGGERS, History
from recsvc.demo.world import KINDS, World, month_dates
from recsvc.store.catalogue import CATALOGUE

_END = np.datetime64(R.END.isoformat(), "D")
_SEVERITIES = tuple(R.SEVERITY_MIX)
_SEGMENT_QS = (R.SEGMENT_STRONG_Q, R.SEGMENT_AVERAGE_Q)
_INTERACTIONS = tuple(R.INTERACTION_MIX)
_COMPLAINT_CATEGORIES = ("报告质量", "交付延期", "收费争议", "服务态度", "检索遗漏")
_COMPLAINT_TEXT = (
    "委托方认为查新报告对比文献不够充分",
    "报告交付时间晚于约定日期",
    "对查新收费标准有异议",
    "反映沟通不及时，修改意见未被采纳",
    "认为检索范围遗漏了重要国外专利",
)
_NOTES = {
    "visit": ("上门回访，了解项目进展", "走访研发部门，介绍增值服务", "年度客户回访"),
    "call": ("电话回访查新报告使用情况", "电话沟通新项目需求", "电话了解满意度"),
    "email": ("邮件发送服务产品介绍", "邮件确认委托材料", "邮件推送专题快报"),
    "training": ("上门开展信息素养培训", "专利检索培训", "数据库使用培训"),
    "greeting": ("节日问候", "新年贺卡", "中秋问候"),
    "push": ("推送领域最新文献", "推送高被引论文快报", "推送专利预警信息"),
    "meeting": ("参加客户项目研讨会", "服务协议洽谈", "需求座谈会"),
}
_GOOD = ("报告质量高，检索全面", "服务及时，沟通顺畅", "对查新结论满意")
_MID = ("总体满意，希望缩短周期", "报告基本满足需求", "希望增加国外文献对比")
_BAD = ("对比分析不够深入", "交付延期，影响申报", "沟通不畅，体验较差")


def _cat(parts: list[np.ndarray], dtype: type | None = None) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _iso(d: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(d, unit="D")


def commissions_table(
    w: World, h: History, rng: np.random.Generator, first: int = 0
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Commissions plus each commission's date and completion date (for children)."""
    c = {k: _cat(v) for k, v in h.commissions.items()}
    n = len(c["gid"])
    client, month, fld = c["client"], c["month"], c["field"]
    date = month_dates(month, rng)
    done = date + rng.integers(5, 26, n).astype("timedelta64[D]")
    done_ok = done <= _END
    zh_only = c["u_lang"] < R.SHARE_ZH_ONLY
    en_only = (c["u_lang"] >= R.SHARE_ZH_ONLY) & (c["u_lang"] < R.SHARE_ZH_ONLY + R.SHARE_EN_ONLY)
    domestic = c["u_scope"] < np.where(zh_only, 0.9, R.DOMESTIC_SCOPE_SHARE)
    u = rng.random((n, 3))
    lo = np.where(domestic, R.FEE_DOMESTIC[0], R.FEE_DOMESTIC_AND_FOREIGN[0])
    hi = np.where(domestic, R.FEE_DOMESTIC[1], R.FEE_DOMESTIC_AND_FOREIGN[1])
    fee = lo + (hi - lo) * u[:, 0]
    fee = np.round(fee / 100) * 100
    contact = w.contact_start[client] + (u[:, 1] * w.contact_count[client]).astype(np.int64)
    searcher = (u[:, 2] * len(nm.SEARCHERS)).astype(np.int64)
    tz = _cat(h.titles["title_zh"], object)
    te = _cat(h.titles["title_en"], object)
    kz = _cat(h.titles["kw_zh"], object)
    ke = _cat(h.titles["kw_en"], object)
    keywords = np.where(zh_only, kz, np.where(en_only, ke, kz + ";" + ke))
    year = month // 12 + 2011
    ext = np.array([f"CX{y}-{first + g + 1:07d}" for y, g in zip(year, c["gid"], strict=True)])
    df = pd.DataFrame(
        {
            "external_id": ext,
            "client_external_id": w.external_id[client],
            "contact_external_id": w.contacts["external_id"].to_numpy()[contact],
            "title_zh": np.where(en_only, "", tz),
            "title_en": np.where(zh_only, "", te),
            "keywords": keywords,
            "subject_area": [FIELDS[f].subject_zh for f in fld],
            "search_scope": np.where(domestic, "domestic", "domestic_and_foreign"),
            "purpose": np.array(R.PURPOSES)[c["purpose"]],
            "fee": fee.astype(np.int64),
            "industry_type": [FIELDS[f].name_zh for f in fld],
            "commissioned_on": _iso(date),
            "completed_on": np.where(done_ok, _iso(done), ""),
            "searcher": np.array(nm.SEARCHERS)[searcher],
            "recognition_score": c["recognition"].astype(np.int64),
            "cooperation_score": c["cooperation"].astype(np.int64),
        }
    )
    return df, date, np.where(done_ok, done, np.datetime64("NaT"))


def orders_table(
    w: World,
    h: History,
    comm: pd.DataFrame,
    comm_month: np.ndarray,
    rng: np.random.Generator,
    first: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Orders and their truth (the trigger that chose the product, when the need opened,
    its monthly probability)."""
    o = {k: _cat(v) for k, v in h.orders.items()}
    n = len(o["client"])
    month, link = o["month"], o["link"]
    date = month_dates(month, rng)
    ok_link = (link >= 0) & ((month - comm_month[np.maximum(link, 0)]) <= R.ORDER_LINK_MONTHS)
    price = np.array([e.price for e in CATALOGUE])[o["product"]]
    amount = np.round(price * np.exp(rng.normal(0, R.AMOUNT_SIGMA, n)) / 100) * 100
    u = o["u"]
    recent = month >= R.N_MONTHS - 3
    status = np.where(
        o["cancelled"],
        "cancelled",
        np.where(
            recent,
            np.where(u[:, 1] < R.RECENT_QUOTED_SHARE, "quoted", "paid"),
            np.where(u[:, 1] < R.OLD_PAID_SHARE, "paid", "delivered"),
        ),
    )
    year = month // 12 + 2011
    ext = np.array([f"VA{y}-{first + i + 1:06d}" for i, y in enumerate(year)])
    cext = comm["external_id"].to_numpy()
    df = pd.DataFrame(
        {
            "external_id": ext,
            "client_external_id": w.external_id[o["client"]],
            "product_code": np.array(PRODUCTS)[o["product"]],
            "commission_external_id": np.where(ok_link, cext[np.maximum(link, 0)], ""),
            "ordered_on": _iso(date),
            "amount": amount.astype(np.int64),
            "status": status,
        }
    )
    truth = pd.DataFrame(
        {
            "order_external_id": ext,
            "client_external_id": df["client_external_id"],
            "product_code": df["product_code"],
            "trigger": [TRIGGERS[r] if r >= 0 else "base" for r in o["reason"]],
            "need_month": [f"{2011 + k // 12}-{k % 12 + 1:02d}" for k in o["need_month"]],
            "monthly_purchase_probability": np.round(o["p"], 5),
        }
    )
    return df, truth


def feedback_table(
    w: World,
    h: History,
    comm: pd.DataFrame,
    done: np.ndarray,
    rng: np.random.Generator,
    first: int = 0,
) -> pd.DataFrame:
    f = {k: _cat(v) for k, v in h.feedback.items()}
    n = len(f["client"])
    cid = f["commission"]
    quarterly = f["quarterly"]
    after = done[np.maximum(cid, 0)] + rng.integers(3, 21, n).astype("timedelta64[D]")
    qdate = month_dates(f["month"], rng)
    received = np.where(quarterly, qdate, after)
    keep = ~np.isnat(received) & (received <= _END)
    ov = f["overall"]
    u = rng.random(n)
    pick = (u * 3).astype(np.int64)
    comment = np.where(
        ov >= 4.5,
        np.array(_GOOD)[pick],
        np.where(ov >= 3.5, np.array(_MID)[pick], np.array(_BAD)[pick]),
    )
    comment = np.where(rng.random(n) < 0.5, comment, "")
    channel = np.where(quarterly, "survey", np.array(["phone", "email", "platform"])[pick])
    cext = comm["external_id"].to_numpy()
    df = pd.DataFrame(
        {
            "client_external_id": w.external_id[f["client"]],
            "commission_external_id": np.where(quarterly, "", cext[np.maximum(cid, 0)]),
            "kind": np.where(quarterly, "quarterly", "report"),
            "received_on": np.where(keep, _iso(received.astype("datetime64[D]")), ""),
            "channel": channel,
            "overall": ov.astype(np.int64),
            "experience": f["experience"].astype(np.int64),
            "quality": f["quality"].astype(np.int64),
            "attitude": f["attitude"].astype(np.int64),
            "comment": comment,
        }
    )[keep].reset_index(drop=True)
    df.insert(0, "external_id", [f"FB{first + i + 1:08d}" for i in range(len(df))])
    return df


def complaints_table(
    w: World, h: History, comm: pd.DataFrame, date: np.ndarray, done: np.ndarray, first: int = 0
) -> pd.DataFrame:
    c = {k: _cat(v) for k, v in h.complaints.items()}
    if not len(c.get("client", [])):
        return pd.DataFrame(
            columns=[
                "external_id",
                "client_external_id",
                "commission_external_id",
                "severity",
                "opened_at",
                "responded_at",
                "resolved_at",
                "category",
                "description",
            ]
        )
    gid, u = c["commission"], c["u"]
    base = np.where(np.isnat(done[gid]), date[gid], done[gid]).astype("datetime64[s]")
    opened = base + (u[:, 0] * 20 * 86400 + 8 * 3600 + u[:, 1] * 10 * 3600).astype("timedelta64[s]")
    responded = opened + (c["response_hours"] * 3600).astype("timedelta64[s]")
    resolved = responded + (c["resolve_days"] * 86400).astype("timedelta64[s]")
    end = np.datetime64(R.END.isoformat() + "T23:59:59", "s")
    keep = opened <= end
    cat = (u[:, 2] * len(_COMPLAINT_CATEGORIES)).astype(np.int64)

    def ts(a: np.ndarray, ok: np.ndarray) -> np.ndarray:
        return np.where(ok, np.datetime_as_string(a, unit="s"), "")

    df = pd.DataFrame(
        {
            "client_external_id": w.external_id[c["client"]],
            "commission_external_id": comm["external_id"].to_numpy()[gid],
            "severity": np.array(_SEVERITIES)[c["severity"]],
            "opened_at": ts(opened, np.ones(len(gid), dtype=bool)),
            "responded_at": ts(responded, responded <= end),
            "resolved_at": ts(resolved, (resolved <= end) & ~c["unresolved"]),
            "category": np.array(_COMPLAINT_CATEGORIES)[cat],
            "description": np.array(_COMPLAINT_TEXT)[cat],
        }
    )[keep].reset_index(drop=True)
    df.insert(0, "external_id", [f"CP{first + i + 1:07d}" for i in range(len(df))])
    return df


def interactions_table(
    w: World, h: History, rng: np.random.Generator, first: int = 0
) -> pd.DataFrame:
    it = {k: _cat(v) for k, v in h.interactions.items()}
    n = len(it["client"])
    date = month_dates(it["month"], rng)
    kinds = np.array(_INTERACTIONS)[it["kind"]]
    pick = rng.integers(0, 3, n)
    notes = np.array([_NOTES[k][p] for k, p in zip(kinds, pick, strict=True)], dtype=object)
    manager = w.clients["account_manager"].to_numpy()[it["client"]]
    other = np.array(nm.STAFF)[rng.integers(0, len(nm.STAFF), n)]
    staff = np.where(rng.random(n) < 0.8, manager, other)
    return pd.DataFrame(
        {
            "external_id": [f"IN{first + i + 1:08d}" for i in range(n)],
            "client_external_id": w.external_id[it["client"]],
            "kind": kinds,
            "occurred_on": _iso(date),
            "staff": staff,
            "note": notes,
        }
    )


def clients_truth(w: World, h: History) -> pd.DataFrame:
    """Latent traits per client and the segment they imply (never imported).

    Segments compare an enterprise's latent R&D strength and loyalty with the quantiles
    of their distribution (both standard normal among enterprises, R2), not with the
    ranks inside this block, so a client's segment does not depend on the block size.
    """
    seg = np.full(w.n, "", dtype=object)
    ent = w.kind == KINDS.index("enterprise")
    if ent.any():
        strong, average = (NormalDist().inv_cdf(q) for q in _SEGMENT_QS)
        rd = w.rd[ent] - R.RD_SHIFT["enterprise"]
        loyalty = w.loyalty[ent]
        strong_r, strong_l = rd > strong, loyalty > strong
        avg_r, avg_l = rd > average, loyalty > average
        key = strong_r & strong_l
        potential = ~key & ((strong_r & avg_l) | (avg_r & strong_l))
        seg[ent] = np.where(key, "key", np.where(potential, "potential", "general"))
    assert h.dormant_month is not None
    return pd.DataFrame(
        {
            "external_id": w.external_id,
            "kind": [KINDS[k] for k in w.kind],
            "home_field": [FIELDS[f].code for f in w.home],
            "second_field": [FIELDS[f].code for f in w.second],
            "rd_strength": np.round(w.rd, 4),
            "loyalty": np.round(w.loyalty, 4),
            "latent_demand": np.round(w.demand, 4),
            "satisfaction": np.round(w.sat_latent, 4),
            "arrival_month": w.arrival,
            "dormant_month": h.dormant_month,
            "segment": seg,
        }
    )
