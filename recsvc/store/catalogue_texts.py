"""What the portal tells a client about each catalogue product (:data:`CLIENT_TEXTS`).

The catalogue's own descriptions (:mod:`recsvc.store.catalogue`) are written for staff
("for an enterprise entering an industry"). These are the words a client reads: a short
description addressed to them, what they receive, and whether the price is a guide
price or quoted per project ("ask us"). Keyed by product code, in Chinese and English;
``tests/test_portal_page.py`` checks that every catalogue product has them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLIENT_TEXTS", "ClientText"]


@dataclass(frozen=True)
class ClientText:
    """A product as a client reads it. ``quoted``: priced per project (no guide price)."""

    summary_zh: str
    summary_en: str
    deliverables_zh: tuple[str, ...]
    deliverables_en: tuple[str, ...]
    quoted: bool = False


CLIENT_TEXTS: dict[str, ClientText] = {
    "industry_analysis": ClientText(
        "帮助您看清目标产业：产业链各环节、市场格局、主要企业和相关政策。",
        "A clear view of the industry you are entering or growing in: its value chain, "
        "market, main players and policies.",
        ("产业分析报告（含产业链图谱）", "主要企业名录与对比", "一次结果解读会"),
        (
            "Industry analysis report with a value-chain map",
            "Profiles and comparison of the main companies",
            "A briefing session on the findings",
        ),
    ),
    "trend_analysis": ClientText(
        "用文献和专利数据告诉您：您的研究领域在往哪里走、热点和前沿在哪里、谁在做。",
        "Literature and patent data showing where your research field is heading: its hot "
        "topics, research fronts and leading groups.",
        ("领域态势分析报告", "热点与前沿主题图谱", "主要研究机构与团队名单"),
        (
            "Field trend report",
            "Map of hot topics and research fronts",
            "List of leading institutions and teams",
        ),
    ),
    "key_tech_screening": ClientText(
        "在几条可选技术路线之间，比较成熟度、专利壁垒和发展潜力，帮您选定研发路线。",
        "Compares the technical routes open to you by maturity, patent barriers and "
        "potential, to help you choose your R&D route.",
        ("技术路线对比报告", "各路线专利壁垒分析", "路线选择建议"),
        (
            "Comparison report of the technical routes",
            "Patent barriers of each route",
            "A recommended route",
        ),
    ),
    "thematic_database": ClientText(
        "为您的长期项目建设一个专题文献与专利库，并持续更新。",
        "A literature and patent database on your project's topic, built for you and kept "
        "up to date.",
        ("在线专题文献与专利库", "定期更新", "检索与使用培训"),
        (
            "Online thematic literature and patent database",
            "Regular updates",
            "Training in searching and using it",
        ),
        quoted=True,
    ),
    "literature_patent_analysis": ClientText(
        "系统梳理与您的工艺或装备开发相关的文献和专利，看清已有技术方案及其演进。",
        "A systematic review of the literature and patents behind your process or equipment "
        "development: existing solutions and how they evolved.",
        ("文献与专利分析报告", "技术方案对比表", "技术演进路线图"),
        (
            "Literature and patent analysis report",
            "Comparison table of technical solutions",
            "Technology evolution roadmap",
        ),
    ),
    "patent_analysis": ClientText(
        "围绕您拟申请或已申请的专利，分析现有技术、可专利性和侵权风险。",
        "For a patent you plan to file or have filed: prior art, patentability and "
        "freedom-to-operate risks.",
        ("专利分析报告", "相关现有技术清单", "可专利性与风险意见"),
        (
            "Patent analysis report",
            "List of relevant prior art",
            "Opinion on patentability and risks",
        ),
    ),
    "competitor_intelligence": ClientText(
        "持续跟踪国内外竞争对手的专利布局、产品和研发动向。",
        "Keeps track of your domestic and foreign competitors' patents, products and R&D moves.",
        ("竞争对手情报报告", "竞争对手专利布局图", "动向简报"),
        (
            "Competitor intelligence report",
            "Map of competitors' patent portfolios",
            "Updates on their moves",
        ),
    ),
    "market_research": ClientText(
        "在新产品上市前，调研市场规模、需求、价格和销售渠道。",
        "Before your product launch: market size, demand, pricing and sales channels.",
        ("市场调研报告", "市场规模与价格数据", "渠道与客户分析"),
        (
            "Market research report",
            "Market size and pricing data",
            "Channel and customer analysis",
        ),
    ),
    "patent_navigation": ClientText(
        "用专利数据为您的科研团队选方向、做布局规划。",
        "Uses patent data to help your research team choose directions and plan its patent "
        "portfolio.",
        ("专利导航报告", "方向选择与专利布局建议", "研讨会一次"),
        (
            "Patent navigation report",
            "Advice on directions and portfolio",
            "A workshop with your team",
        ),
        quoted=True,
    ),
    "patent_pre_assessment": ClientText(
        "在提交专利申请之前，评估您的发明的新颖性、创造性和授权前景。",
        "Before you file: an assessment of your invention's novelty, inventiveness and "
        "chances of grant.",
        ("申请前评估意见书", "最接近的现有技术对比", "撰写与布局建议"),
        (
            "Pre-filing assessment",
            "Comparison with the closest prior art",
            "Advice on drafting and claims",
        ),
    ),
    "tech_matching": ClientText(
        "为您寻找高校和科研院所中可用的专利与成果，并协助对接和转移。",
        "Finds university and institute patents and results that fit your needs, and helps "
        "you license or acquire them.",
        ("匹配技术与专利清单", "对接洽谈安排", "转移过程协助"),
        (
            "List of matching technologies and patents",
            "Introductions to their owners",
            "Support through the transfer",
        ),
        quoted=True,
    ),
    "citation_certification": ClientText(
        "为报奖、职称评审和项目申报出具论文收录与引用证明。",
        "Certified proof of your papers' indexing and citations for awards, promotions and "
        "grant applications.",
        ("收录与引用检索证明（盖章）", "检索结果清单"),
        ("Stamped indexing and citation certificate", "List of the records found"),
    ),
    "discipline_report": ClientText(
        "分析您所在学科的竞争力与发展态势，支持学科规划与评估。",
        "How competitive your discipline is and where it is heading, for discipline planning "
        "and reviews.",
        ("学科情报分析报告", "同行机构对比", "发展建议"),
        (
            "Discipline intelligence report",
            "Comparison with peer institutions",
            "Recommendations",
        ),
    ),
    "embedded_service": ClientText(
        "一位情报专员加入您的项目团队，全程提供文献、专利和情报支持。",
        "An information specialist joins your project team and supports it with literature, "
        "patents and intelligence throughout.",
        ("专属情报专员", "按需检索与分析", "阶段性情报简报"),
        (
            "A dedicated information specialist",
            "Searches and analyses on request",
            "Regular intelligence briefings",
        ),
        quoted=True,
    ),
    "literacy_training": ClientText(
        "到您单位现场培训文献检索、专利检索和数据库使用。",
        "On-site training for your staff in literature search, patent search and database use.",
        ("现场培训课程", "培训讲义", "课后答疑"),
        ("On-site course", "Course handouts", "Follow-up questions answered"),
    ),
    "literature_alerts": ClientText(
        "按您的项目主题，定期推送最新的文献和专利。",
        "New literature and patents on your project's topic, sent to you regularly.",
        ("定期推送的文献与专利简报", "主题检索式维护"),
        ("Regular digest of new literature and patents", "Search profile kept up to date"),
    ),
}
