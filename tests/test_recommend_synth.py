"""A tiny synthetic world whose right answers are known, shared by the recommender tests.

Three groups of clients, each with its own commissions and its own purchases:

- swine-vaccine enterprises (agriculture) → field trend analysis, thematic database;
- rural-sewage enterprises (environment) → literature & patent analysis, competitor intel;
- universities filing patents (purpose ``patent_application``) → patent analysis, and
  later (the ladder) patent navigation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recsvc.recommend.context import RecContext, build_context
from recsvc.store.catalogue import CATALOGUE
from recsvc.store.frames import Frames

CUTOFF = pd.Timestamp("2024-01-01")
PROBE_DAY = pd.Timestamp("2023-10-01")

GROUPS = {
    "vaccine": {
        "kind": "enterprise",
        "field": "agriculture",
        "titles": [
            ("猪瘟疫苗研制", "Swine fever vaccine development"),
            ("猪蓝耳病疫苗制备工艺", "Porcine reproductive syndrome vaccine preparation"),
            ("猪伪狂犬病疫苗株筛选", "Pseudorabies swine vaccine strain screening"),
        ],
        "purpose": "project_approval",
        "buys": ["trend_analysis", "thematic_database"],
    },
    "sewage": {
        "kind": "enterprise",
        "field": "environment",
        "titles": [
            ("农村污水MBBR处理工艺", "Rural sewage treatment with MBBR process"),
            ("村镇生活污水MBR膜处理设备", "Village domestic sewage MBR membrane equipment"),
        ],
        "purpose": "product_development",
        "buys": ["literature_patent_analysis", "competitor_intelligence"],
    },
    "patent": {
        "kind": "university",
        "field": "materials",
        "titles": [
            ("石墨烯复合电极材料", "Graphene composite electrode material"),
            ("高熵合金涂层制备方法", "High-entropy alloy coating preparation method"),
            ("钙钛矿太阳能电池界面层", "Perovskite solar cell interface layer"),
        ],
        "purpose": "patent_application",
        "buys": ["patent_analysis"],
    },
}


def catalogue_frame() -> pd.DataFrame:
    rows = [{**e.__dict__, "product_id": i + 1, "active": True} for i, e in enumerate(CATALOGUE)]
    return pd.DataFrame(rows)


def make_history(n_per_group: int = 30, seed: int = 7) -> Frames:
    """Frames for the synthetic world (2017-2025); clients numbered from 1."""
    rng = np.random.default_rng(seed)
    clients, comms, orders = [], [], []
    cid = 0
    start = pd.Timestamp("2017-01-01")
    for gname, g in GROUPS.items():
        for _ in range(n_per_group):
            cid += 1
            clients.append(
                {
                    "client_id": cid,
                    "external_id": f"C{cid:04d}",
                    "name_zh": f"{gname}客户{cid}",
                    "name_en": f"{gname.title()} Client {cid}",
                    "kind": g["kind"],
                    "industry_field": g["field"],
                    "account_manager": ["王", "李"][cid % 2],
                    "registered_on": start,
                }
            )
            # commissions every ~8 months, purchases follow some of them
            t = start + pd.Timedelta(days=int(rng.integers(0, 300)))
            while t < pd.Timestamp("2025-06-01"):
                zh, en = g["titles"][int(rng.integers(len(g["titles"])))]
                comms.append(
                    {
                        "commission_id": len(comms) + 1,
                        "external_id": f"M{len(comms) + 1:05d}",
                        "client_id": cid,
                        "title_zh": zh,
                        "title_en": en,
                        "keywords": "",
                        "purpose": g["purpose"],
                        "fee": 3000.0,
                        "commissioned_on": t,
                        "completed_on": t + pd.Timedelta(days=20),
                    }
                )
                if rng.random() < 0.6:
                    code = g["buys"][int(rng.integers(len(g["buys"])))]
                    orders.append((cid, code, t + pd.Timedelta(days=int(rng.integers(30, 200)))))
                    if gname == "patent" and rng.random() < 0.7:
                        orders.append(
                            (
                                cid,
                                "patent_navigation",
                                t + pd.Timedelta(days=int(rng.integers(220, 400))),
                            )
                        )
                t += pd.Timedelta(days=int(rng.integers(150, 330)))
    products = catalogue_frame()
    price = products.set_index("code")["price"]
    order_rows = [
        {
            "order_id": i + 1,
            "external_id": f"O{i + 1:05d}",
            "client_id": c,
            "product_id": int(products.index[products["code"] == p][0]) + 1,
            "product_code": p,
            "commission_id": None,
            "ordered_on": d,
            "amount": float(price[p]),
            "status": "paid",
        }
        for i, (c, p, d) in enumerate(sorted(orders, key=lambda r: r[2]))
    ]
    empty = pd.DataFrame
    return Frames(
        clients=pd.DataFrame(clients),
        commissions=pd.DataFrame(comms),
        products=products,
        orders=pd.DataFrame(order_rows),
        interactions=empty({"occurred_on": pd.Series(dtype="datetime64[ns]"), "client_id": []}),
        feedback=empty({"received_on": pd.Series(dtype="datetime64[ns]"), "client_id": []}),
        complaints=empty(
            {
                "opened_at": pd.Series(dtype="datetime64[ns]"),
                "responded_at": pd.Series(dtype="datetime64[ns]"),
                "resolved_at": pd.Series(dtype="datetime64[ns]"),
                "client_id": [],
            }
        ),
        events=empty(
            {
                "occurred_at": pd.Series(dtype="datetime64[ns]"),
                "client_id": pd.Series(dtype="int64"),
                "item_code": pd.Series(dtype=object),
                "event": pd.Series(dtype=object),
            }
        ),
    )


def add_client(
    history: Frames,
    *,
    kind: str,
    field: str | None,
    titles: list[tuple[str | None, str | None]],
    purpose: str = "other",
    orders: tuple[tuple[str, pd.Timestamp], ...] = (),
    when: pd.Timestamp = PROBE_DAY,
) -> tuple[Frames, int]:
    """A copy of ``history`` with one extra probe client; returns it and the new id."""
    cid = int(history.clients["client_id"].max()) + 1
    clients = pd.concat(
        [
            history.clients,
            pd.DataFrame(
                [
                    {
                        "client_id": cid,
                        "external_id": f"P{cid}",
                        "name_zh": "探针客户",
                        "name_en": "Probe client",
                        "kind": kind,
                        "industry_field": field,
                        "account_manager": "王",
                        "registered_on": when - pd.Timedelta(days=10),
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    base = int(history.commissions["commission_id"].max())
    new = [
        {
            "commission_id": base + i + 1,
            "external_id": f"PM{base + i + 1}",
            "client_id": cid,
            "title_zh": zh,
            "title_en": en,
            "keywords": "",
            "purpose": purpose,
            "fee": 3000.0,
            "commissioned_on": when,
            "completed_on": when + pd.Timedelta(days=20),
        }
        for i, (zh, en) in enumerate(titles)
    ]
    comms = pd.concat([history.commissions, pd.DataFrame(new)], ignore_index=True)
    o = history.orders
    if orders:
        products = history.products.set_index("code")
        extra = pd.DataFrame(
            [
                {
                    "order_id": int(o["order_id"].max()) + i + 1,
                    "external_id": f"PO{i}",
                    "client_id": cid,
                    "product_id": int(products.loc[code, "product_id"]),
                    "product_code": code,
                    "commission_id": None,
                    "ordered_on": d,
                    "amount": float(products.loc[code, "price"]),
                    "status": "paid",
                }
                for i, (code, d) in enumerate(orders)
            ]
        )
        o = pd.concat([o, extra], ignore_index=True)
    f = Frames(
        clients=clients,
        commissions=comms,
        products=history.products,
        orders=o,
        interactions=history.interactions,
        feedback=history.feedback,
        complaints=history.complaints,
        events=history.events,
    )
    return f, cid


def make_context(history: Frames, cutoff: pd.Timestamp = CUTOFF) -> RecContext:
    return build_context(history, cutoff, with_features=False)


def test_synthetic_world_is_sane() -> None:
    h = make_history(n_per_group=5)
    assert len(h.clients) == 15
    assert set(h.orders["product_code"]) >= {"trend_analysis", "patent_analysis"}
    assert h.orders["client_id"].isin(h.clients["client_id"]).all()
