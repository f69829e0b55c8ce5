"""A tiny hand-made store snapshot (5 clients, 14 commissions, 4 orders).

Used by the semantic tests and the search benchmark's smoke run; it mirrors the real
cases of DOMAIN.md (swine vaccines, village sewage, cigarette filters) and includes
Chinese-only commissions (empty English title).
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from recsvc.store.catalogue import CATALOGUE
from recsvc.store.frames import Frames

_CLIENTS = [
    # client_id, external_id, name_zh, name_en, kind, industry, technologies, products
    (
        1,
        "C-AGRI",
        "华牧生物科技有限公司",
        "Huamu Biotech",
        "enterprise",
        "animal health",
        "swine vaccines; 猪用疫苗",
        "veterinary vaccines",
    ),
    (
        2,
        "C-ENV",
        "清源环保工程有限公司",
        "Qingyuan Environmental",
        "enterprise",
        "环保",
        "农村污水处理; MBBR; MBR",
        "一体化污水处理设备",
    ),
    (
        3,
        "C-TOB",
        "金叶烟草集团",
        "Jinye Tobacco",
        "enterprise",
        "tobacco",
        "cigarette filters; 滤嘴",
        "cigarettes",
    ),
    (
        4,
        "C-UNI",
        "东华大学材料学院",
        "Donghua University School of Materials",
        "university",
        "new energy materials",
        "lithium-ion battery cathodes",
        "cathode materials",
    ),
    (
        5,
        "C-AERO",
        "航宇复合材料研究所",
        "Hangyu Composites Institute",
        "research_institute",
        "aviation",
        "carbon-fibre composites",
        "airframe parts",
    ),
]

_COMMISSIONS = [
    # id, client, external, title_zh, title_en, keywords, date
    (
        101,
        1,
        "N-101",
        "非洲猪瘟亚单位疫苗研制",
        "Development of an African swine fever subunit vaccine",
        "swine fever; vaccine; 猪瘟; 疫苗",
        "2021-03-01",
    ),
    (
        102,
        1,
        "N-102",
        "猪圆环病毒疫苗免疫效果评价",
        "Immune efficacy of a porcine circovirus vaccine",
        "porcine circovirus; swine vaccine; 圆环病毒",
        "2021-06-10",
    ),
    (
        103,
        1,
        "N-103",
        "猪流行性腹泻灭活疫苗",
        "Inactivated porcine epidemic diarrhea vaccine for swine",
        "porcine epidemic diarrhea; vaccine; 腹泻",
        "2021-09-15",
    ),
    (
        201,
        2,
        "N-201",
        "农村生活污水MBBR生物膜处理工艺",
        "",
        "污水处理; MBBR; 农村生活污水; 生物膜",
        "2022-02-01",
    ),
    (
        202,
        2,
        "N-202",
        "一体化MBR膜生物反应器污水处理设备",
        "",
        "污水处理; MBR; 膜生物反应器",
        "2022-05-20",
    ),
    (203, 2, "N-203", "分散式村镇污水处理技术", "", "村镇污水; 污水处理; 分散式", "2022-08-08"),
    (
        301,
        3,
        "N-301",
        "卷烟滤嘴降焦添加剂",
        "Tar-reducing additive for cigarette filters",
        "cigarette filter; additive; 滤嘴; 降焦",
        "2020-04-01",
    ),
    (
        302,
        3,
        "N-302",
        "卷烟滤嘴香味缓释材料",
        "Slow-release flavour material in cigarette filters",
        "cigarette filter; flavour; 缓释",
        "2020-07-01",
    ),
    (
        401,
        4,
        "N-401",
        "高镍三元锂离子电池正极材料",
        "High-nickel cathode material for lithium-ion batteries",
        "lithium-ion battery; cathode; 正极材料",
        "2023-01-10",
    ),
    (
        402,
        4,
        "N-402",
        "固态电解质界面稳定性",
        "Interface stability of solid-state electrolytes",
        "solid-state battery; electrolyte; 固态电池",
        "2023-06-01",
    ),
    (
        403,
        4,
        "N-403",
        "mRNA疫苗脂质纳米颗粒递送",
        "Lipid nanoparticle delivery of mRNA vaccines",
        "vaccine; lipid nanoparticle; mRNA; 疫苗",
        "2023-09-01",
    ),
    (
        501,
        5,
        "N-501",
        "碳纤维复合材料机翼蒙皮",
        "Carbon-fibre composite wing skins for aircraft",
        "carbon fibre; composite; wing; 复合材料",
        "2019-05-01",
    ),
    (
        502,
        5,
        "N-502",
        "复合材料无损检测",
        "Non-destructive testing of aerospace composites",
        "NDT; composites; ultrasonic; 无损检测",
        "2019-10-01",
    ),
    (
        503,
        5,
        "N-503",
        "疫苗冷链运输复合材料保温箱",
        "Composite insulated containers for vaccine cold-chain transport",
        "vaccine; cold chain; composites; 疫苗",
        "2020-03-01",
    ),
]

_ORDERS = [
    # order_id, client, product, commission_id, date
    (1, 1, "trend_analysis", None, "2021-12-01"),
    (2, 1, "thematic_database", 103, "2022-01-15"),
    (3, 2, "literature_patent_analysis", None, "2022-10-01"),
    (4, 3, "industry_analysis", 302, "2020-12-01"),
]


def sample_frames() -> Frames:
    """The sample snapshot as :class:`Frames` (personal data absent, as in the store)."""
    clients = pd.DataFrame(
        _CLIENTS,
        columns=[
            "client_id",
            "external_id",
            "name_zh",
            "name_en",
            "kind",
            "industry_field",
            "core_technologies",
            "core_products",
        ],
    )
    clients["registered_on"] = pd.Timestamp("2018-01-01")
    commissions = pd.DataFrame(
        _COMMISSIONS,
        columns=[
            "commission_id",
            "client_id",
            "external_id",
            "title_zh",
            "title_en",
            "keywords",
            "commissioned_on",
        ],
    )
    commissions["commissioned_on"] = pd.to_datetime(commissions["commissioned_on"])
    commissions["completed_on"] = commissions["commissioned_on"] + pd.Timedelta(days=20)
    commissions["subject_area"] = None
    products = pd.DataFrame([asdict(e) for e in CATALOGUE])
    products.insert(0, "product_id", range(1, len(products) + 1))
    products["active"] = True
    orders = pd.DataFrame(
        _ORDERS, columns=["order_id", "client_id", "product_code", "commission_id", "ordered_on"]
    )
    orders["ordered_on"] = pd.to_datetime(orders["ordered_on"])
    orders["status"] = "paid"
    orders["amount"] = 40000.0
    empty = pd.DataFrame()
    return Frames(
        clients=clients,
        commissions=commissions,
        products=products,
        orders=orders,
        interactions=empty,
        feedback=empty,
        complaints=empty,
        events=empty,
    )
