"""What each feature means, in Chinese and English, for explanations and docs.

``direction`` is the usual effect on the chance of a value-added purchase (+1 raises,
-1 lowers, 0 depends); explanations use the model's own contribution sign, the
direction is documentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from recsvc.store.enums import ClientKind, InteractionKind, Purpose


@dataclass(frozen=True)
class FeatureDoc:
    """A feature's bilingual label. ``kind`` picks the value format (count, months, …)."""

    zh: str
    en: str
    direction: int = 0
    kind: str = "number"  # count | months | money | score | share | flag | number

    def format(self, value: float) -> tuple[str, str]:
        """The value as short (zh, en) text."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "无", "none"
        if self.kind == "flag":
            return ("是", "yes") if value >= 0.5 else ("否", "no")
        if self.kind == "count":
            s = f"{value:.0f}"
            return s, s
        if self.kind == "months":
            return f"{value:.0f} 个月", f"{value:.0f} months"
        if self.kind == "money":
            return f"{value:,.0f} 元", f"CNY {value:,.0f}"
        if self.kind == "share":
            s = f"{100 * value:.0f}%"
            return s, s
        s = f"{value:.2f}"
        return s, s


_D = FeatureDoc

FEATURES: dict[str, FeatureDoc] = {
    # -- R&D strength (profile layer 2) -------------------------------------------
    "talent_count": _D("高端人才数", "high-end talent", 1, "count"),
    "patents_invention": _D("发明专利数", "invention patents", 1, "count"),
    "patents_utility": _D("实用新型专利数", "utility-model patents", 1, "count"),
    "patents_design": _D("外观设计专利数", "design patents", 0, "count"),
    "patents_in_force": _D("有效专利数", "patents in force", 1, "count"),
    "patents_total": _D("专利总数", "patents in total", 1, "count"),
    "invention_share": _D("发明专利占比", "share of invention patents", 1, "share"),
    "honours_count": _D("荣誉数量", "honours", 1, "count"),
    "rd_strength": _D("研发实力指数", "R&D strength index", 1),
    # -- recency / frequency / monetary of commissions ------------------------------
    "n_commissions": _D("累计查新委托数", "commissions in total", 1, "count"),
    "n_commissions_12m": _D("近12个月委托数", "commissions in the last 12 months", 1, "count"),
    "n_commissions_24m": _D("近24个月委托数", "commissions in the last 24 months", 1, "count"),
    "commission_trend": _D(
        "委托数变化（近12个月减前12个月）",
        "change in commissions (last 12 vs previous 12 months)",
        1,
    ),
    "months_since_last_commission": _D(
        "距上次委托", "time since the last commission", -1, "months"
    ),
    "months_since_first_commission": _D("合作时长", "time since the first commission", 1, "months"),
    "commissions_per_year": _D("年均委托频次", "commissions per year", 1),
    "mean_gap_months": _D("委托平均间隔", "mean gap between commissions", -1, "months"),
    "fee_total": _D("累计查新费用", "commission fees in total", 1, "money"),
    "fee_12m": _D("近12个月查新费用", "commission fees in the last 12 months", 1, "money"),
    "fee_mean": _D("平均每单查新费用", "mean fee per commission", 1, "money"),
    "share_foreign_scope": _D(
        "国内外检索占比", "share of domestic-and-foreign searches", 1, "share"
    ),
    "n_subject_areas": _D("涉及学科领域数", "subject areas covered", 0, "count"),
    "max_same_subject_24m": _D(
        "近24个月同一领域最多委托数", "most commissions in one subject (24 months)", 1, "count"
    ),
    # -- loyalty (Table 3) ----------------------------------------------------------
    "recognition_mean": _D("对查新的认知度", "recognition of novelty search", 1, "score"),
    "cooperation_mean": _D("与查新员的配合度", "cooperation with the searcher", 1, "score"),
    "loyalty_score": _D("忠诚度指数", "loyalty index", 1),
    # -- value-added purchases ----------------------------------------------------------
    "n_purchases": _D("累计增值服务购买次数", "value-added purchases in total", 1, "count"),
    "purchases_24m": _D(
        "近24个月增值服务购买", "value-added purchases in the last 24 months", 1, "count"
    ),
    "months_since_last_purchase": _D(
        "距上次购买增值服务", "time since the last value-added purchase", -1, "months"
    ),
    "n_distinct_products": _D(
        "购买过的增值产品种类", "distinct value-added products bought", 1, "count"
    ),
    "spend_value_added": _D("增值服务累计消费", "value-added spend in total", 1, "money"),
    "spend_total": _D(
        "累计消费（查新+增值）", "total spend (commissions + value-added)", 1, "money"
    ),
    "n_quotes_12m": _D("近12个月报价次数", "quotes in the last 12 months", 1, "count"),
    "n_cancelled": _D("取消的订单数", "cancelled orders", -1, "count"),
    # -- interactions -------------------------------------------------------------------
    "n_interactions_12m": _D("近12个月接触次数", "touch points in the last 12 months", 1, "count"),
    "months_since_last_interaction": _D(
        "距上次接触", "time since the last touch point", -1, "months"
    ),
    # -- satisfaction -------------------------------------------------------------------
    "n_feedback": _D("满意度反馈次数", "satisfaction responses", 1, "count"),
    "satisfaction_mean": _D("平均满意度", "mean satisfaction", 1, "score"),
    "satisfaction_12m": _D("近12个月满意度", "satisfaction in the last 12 months", 1, "score"),
    "satisfaction_trend": _D("满意度变化趋势", "satisfaction trend", 1),
    # -- complaints (48h / 24h / 8h targets by severity) ---------------------------------
    "n_complaints_24m": _D("近24个月投诉数", "complaints in the last 24 months", -1, "count"),
    "n_complaints_severe_24m": _D(
        "近24个月严重及以上投诉", "serious or critical complaints (24 months)", -1, "count"
    ),
    "complaint_on_time_rate": _D("投诉按时响应率", "complaints answered within target", 1, "share"),
    "n_complaints_missed_target": _D(
        "投诉响应超时次数", "complaints answered later than target", -1, "count"
    ),
    # -- research direction (semantic layer) ------------------------------------------------
    "field_momentum": _D("所在行业委托增长势头", "momentum of the client's industry", 1),
    "client_fields_momentum": _D(
        "近期委托领域的增长势头", "momentum of the fields of recent projects", 1
    ),
    "field_buyer_rate": _D(
        "同行业客户的增值服务购买率", "share of peers in the industry who bought", 1, "share"
    ),
    "semantic_sim_buyers": _D(
        "研究方向与近期购买客户的相似度", "similarity of research directions to recent buyers", 1
    ),
    "field_growth_5y": _D(
        "所在行业五年委托增长趋势", "five-year growth trend of the client's industry", 1
    ),
    "field_peer_purchases": _D(
        "同行业客户人均增值服务购买", "value-added purchases per industry peer (3 years)", 1
    ),
    "field_growth_3y": _D(
        "所在行业三年委托增长率", "yearly growth of the client's industry (3 years)", 1
    ),
    # -- decayed activity (half-life 12 months) ------------------------------------------
    "decayed_commissions": _D("近期委托强度", "recent commission intensity", 1),
    "field_intensity_max": _D(
        "同一领域近期委托强度", "recent commissions concentrated in one field", 1
    ),
    "home_field_intensity": _D(
        "主营行业近期委托强度", "recent commissions in the client's own industry", 1
    ),
    "decayed_patent": _D("近期专利申请类委托", "recent commissions for patent applications", 1),
    "decayed_development": _D(
        "近期产品开发/市场进入类委托", "recent product-development or market-entry commissions", 1
    ),
    "decayed_entry": _D(
        "近期跨行业开发类委托", "recent development commissions outside the home industry", 1
    ),
    "decayed_award": _D("近期报奖类委托", "recent commissions for award applications", 1),
    "decayed_purchases": _D("近期增值服务购买强度", "recent value-added purchases", 0),
    "decayed_contact": _D("近期走访与联系强度", "recent visits and contacts", 1),
    "decayed_complaints": _D("近期投诉负担", "recent complaint burden", -1),
    "satisfaction_ema": _D("满意度（指数平滑）", "satisfaction (smoothed)", 1, "score"),
    # -- relationship --------------------------------------------------------------------------
    "months_since_registration": _D("建档时长", "time since registration", 0, "months"),
    "months_since_last_activity": _D(
        "距上次业务往来", "time since the last business", -1, "months"
    ),
    "relationship_stage": _D(
        "关系阶段（0认知 1探索 2拓展 3承诺 4解除）",
        "relationship stage (0 awareness, 1 exploration, 2 expansion, 3 commitment, 4 dissolution)",
        0,
    ),
}

_KIND_ZH = {
    "in_house_institute": "所内研究所",
    "enterprise": "企业",
    "research_institute": "科研院所",
    "university": "高校",
    "individual": "个人",
    "other": "其他",
}
for _k in ClientKind:
    FEATURES[f"kind_{_k.value}"] = _D(
        f"客户类型为{_KIND_ZH[_k.value]}", f"client is a {_k.value.replace('_', ' ')}", 0, "flag"
    )

_PURPOSE_ZH = {
    "project_approval": "立项",
    "achievement_appraisal": "成果鉴定",
    "award_application": "报奖",
    "patent_application": "专利申请",
    "product_development": "产品开发",
    "market_entry": "市场进入",
    "other": "其他",
}
for _p in Purpose:
    FEATURES[f"purpose_{_p.value}_24m"] = _D(
        f"近24个月以{_PURPOSE_ZH[_p.value]}为目的的委托",
        f"commissions for {_p.value.replace('_', ' ')} (24 months)",
        0,
        "count",
    )

_INTERACTION_ZH = {
    "visit": "走访",
    "call": "电话",
    "email": "邮件",
    "training": "培训",
    "greeting": "节日问候",
    "push": "产品推送",
    "meeting": "会议",
}
for _i in InteractionKind:
    FEATURES[f"n_{_i.value}_24m"] = _D(
        f"近24个月{_INTERACTION_ZH[_i.value]}次数",
        f"{_i.value} touch points (24 months)",
        1,
        "count",
    )
