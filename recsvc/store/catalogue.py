"""The value-added catalogue (DOMAIN.md; seed 000 Table 5, seeds 002-003).

:func:`sync_catalogue` upserts it by ``code``; it runs after every schema upgrade,
so a fresh database always has the catalogue and editing this list is a deploy.
What the client portal tells a client about each product (a description addressed to
them, deliverables, quoted or guide price) is :mod:`recsvc.store.catalogue_texts`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from recsvc.store.models import Product

_ORG = ["in_house_institute", "enterprise", "research_institute", "university", "other"]
_ENTERPRISE = ["enterprise", "other"]
_ACADEMIC = ["in_house_institute", "research_institute", "university"]


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    category: str
    price: float
    one_off: bool = True
    eligible_kinds: list[str] | None = None


CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        "industry_analysis",
        "产业分析",
        "Industry analysis",
        "面向进入或扩张某一产业的企业，分析产业链、市场格局、主要参与者与政策环境。",
        "Industry chain, market structure, key players and policy for an enterprise entering "
        "or expanding in an industry.",
        "analysis",
        60000,
        eligible_kinds=_ENTERPRISE,
    ),
    CatalogueEntry(
        "trend_analysis",
        "领域态势分析",
        "Field trend analysis",
        "基于文献与专利计量，揭示研究领域的发展态势、热点、前沿与主要研究力量。",
        "Bibliometric and patent landscape of a research field: growth, hot topics, fronts and "
        "leading groups, for planning in a fast-moving direction.",
        "analysis",
        40000,
    ),
    CatalogueEntry(
        "key_tech_screening",
        "关键技术筛选",
        "Key technology screening",
        "在多条技术路线之间比较成熟度、专利壁垒与发展潜力，辅助研发路线选择。",
        "Compares technical routes by maturity, patent barriers and potential to support an "
        "R&D route decision.",
        "analysis",
        45000,
        eligible_kinds=_ORG,
    ),
    CatalogueEntry(
        "thematic_database",
        "微型专题文献库",
        "Micro thematic literature database",
        "为长期项目在窄主题上建设并持续更新的专题文献与专利数据库。",
        "A curated, continuously updated literature and patent database on a narrow topic for a "
        "long-running project.",
        "literature",
        30000,
        one_off=False,
    ),
    CatalogueEntry(
        "literature_patent_analysis",
        "文献、专利分析",
        "Literature and patent analysis",
        "针对工艺或装备开发，系统分析相关文献与专利的技术方案与演进。",
        "Systematic analysis of the literature and patents behind a process or equipment "
        "development.",
        "analysis",
        35000,
    ),
    CatalogueEntry(
        "patent_analysis",
        "专利分析",
        "Patent analysis report",
        "围绕拟申请或已申请专利，分析现有技术、可专利性与自由实施风险。",
        "Prior art, patentability and freedom-to-operate analysis around a patent application.",
        "patent",
        25000,
    ),
    CatalogueEntry(
        "competitor_intelligence",
        "竞争对手情报",
        "Competitor intelligence",
        "跟踪国内外竞争对手的专利布局、产品与研发动向。",
        "Tracks domestic and foreign competitors' patent portfolios, products and R&D moves.",
        "intelligence",
        40000,
        eligible_kinds=_ENTERPRISE,
    ),
    CatalogueEntry(
        "market_research",
        "市场调研",
        "Market research",
        "面向新产品上市的市场规模、需求、价格与渠道调研。",
        "Market size, demand, pricing and channels for a product launch.",
        "intelligence",
        50000,
        eligible_kinds=_ENTERPRISE,
    ),
    CatalogueEntry(
        "patent_navigation",
        "专利导航",
        "Patent navigation",
        "以专利数据引导科研团队的方向选择与布局规划。",
        "Uses patent data to steer a research team's choice of directions and portfolio plan.",
        "patent",
        80000,
        eligible_kinds=_ORG,
    ),
    CatalogueEntry(
        "patent_pre_assessment",
        "专利申请前评估",
        "Pre-application patent evaluation",
        "在发明披露后、申请前评估新颖性、创造性与授权前景。",
        "Evaluates novelty, inventiveness and grant prospects of an invention disclosure before "
        "filing.",
        "patent",
        8000,
    ),
    CatalogueEntry(
        "tech_matching",
        "技术匹配与专利转移",
        "Technology matching and transfer",
        "为寻求外部技术的企业匹配高校与院所的专利和成果，促成转移转化。",
        "Matches an enterprise seeking technology with university and institute patents and "
        "results, and supports the transfer.",
        "service",
        20000,
        eligible_kinds=_ENTERPRISE,
    ),
    CatalogueEntry(
        "citation_certification",
        "查收查引",
        "Citation and indexing certification",
        "为报奖、职称与项目申请出具论文收录与引用证明。",
        "Certifies indexing and citations of papers for award, title and grant applications.",
        "literature",
        2000,
        one_off=False,
    ),
    CatalogueEntry(
        "discipline_report",
        "学科情报分析",
        "Discipline intelligence report",
        "面向研究所与高校的学科竞争力与发展态势情报报告。",
        "Discipline competitiveness and development report for institutes and universities.",
        "analysis",
        50000,
        eligible_kinds=_ACADEMIC,
    ),
    CatalogueEntry(
        "embedded_service",
        "嵌入科研团队服务",
        "Embedded research-team service",
        "情报人员嵌入大型项目团队，提供全过程文献、专利与情报支撑。",
        "An information specialist embedded in a large project team for literature, patent and "
        "intelligence support throughout.",
        "service",
        120000,
        one_off=False,
        eligible_kinds=_ORG,
    ),
    CatalogueEntry(
        "literacy_training",
        "信息素养培训",
        "On-site information-literacy training",
        "上门开展文献检索、专利检索与数据库使用培训。",
        "On-site training in literature search, patent search and database use.",
        "training",
        5000,
        one_off=False,
    ),
    CatalogueEntry(
        "literature_alerts",
        "文献跟踪推送",
        "Literature tracking and alerts",
        "按项目主题定期跟踪推送最新文献与专利。",
        "Periodic alerts of new literature and patents on a project's topic.",
        "literature",
        6000,
        one_off=False,
    ),
)


def sync_catalogue(session: Session) -> int:
    """Insert or update every catalogue entry by code. Returns the number of entries."""
    existing = {p.code: p for p in session.scalars(select(Product))}
    for entry in CATALOGUE:
        values = asdict(entry)
        product = existing.get(entry.code)
        if product is None:
            session.add(Product(**values, active=True))
        else:
            for key, value in values.items():
                if getattr(product, key) != value:
                    setattr(product, key, value)
    return len(CATALOGUE)
