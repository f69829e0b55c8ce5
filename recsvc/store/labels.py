"""Bilingual labels of every closed vocabulary: the one place their words live.

Each member of each enum in :mod:`recsvc.store.enums`, each value segment and each
relationship stage has one :class:`Label`: the Chinese and English word a page shows,
plus the further Chinese spellings the importer accepts. The importer
(:mod:`recsvc.ingest.schema`), the console's :class:`~api.web.i18n.Translator`, the
value model's segment and stage names and the explanations all read from here.

Vocabularies are addressed by a short name (``kind``, ``purpose``, ``segment`` …), the
same prefix the console's ``t.opt(prefix, code)`` uses. Two of them, ``field`` and
``enterprise_type``, are the centre's glossary (``glossary.json``): the Chinese words its
client records use, with their English; a word not in it is client-supplied text and
is shown as imported.

Example:
    >>> label("kind", "enterprise", "zh")
    '企业'
    >>> label("purpose", Purpose.MARKET_ENTRY, "en")
    'market entry'
    >>> label("field", "锂电池", "en")
    'Lithium batteries'
    >>> import_spellings(ClientKind)["university"]
    ('高校', '大学', '高等院校')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

from recsvc.store.enums import (
    ClientKind,
    DeclineReason,
    EventType,
    FeedbackKind,
    InteractionKind,
    JobStatus,
    OrderStatus,
    Purpose,
    Role,
    SearchScope,
    Severity,
    Surface,
)

__all__ = [
    "CASE_KIND_PHRASES",
    "ENUM_VOCABULARIES",
    "GLOSSARY_PATH",
    "KIND_PHRASES",
    "PURPOSE_PHRASES",
    "SEGMENT_CODES",
    "STAGE_CODES",
    "VOCABULARIES",
    "Label",
    "Lang",
    "field_phrase",
    "import_spellings",
    "label",
]

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class Label:
    """The words for one code.

    Attributes:
        zh: The Chinese label a page shows.
        en: The English label a page shows.
        accepted: The Chinese spellings the importer accepts, canonical first; empty
            means just :attr:`zh`.
    """

    zh: str
    en: str
    accepted: tuple[str, ...] = ()

    def text(self, lang: str) -> str:
        """The label in ``lang`` (English for anything but ``zh``)."""
        return self.zh if lang == "zh" else self.en

    @property
    def spellings(self) -> tuple[str, ...]:
        """Chinese spellings accepted on import, canonical first."""
        return self.accepted or (self.zh,)


#: Value segments (seed 000 Table 4 plus new and dormant), in display order.
SEGMENT_CODES: tuple[str, ...] = ("key", "potential", "general", "new", "dormant")
#: Relationship stages (Dwyer et al.), in stage-code order.
STAGE_CODES: tuple[str, ...] = (
    "awareness",
    "exploration",
    "expansion",
    "commitment",
    "dissolution",
)

_L = Label

#: Labels of each enum, by vocabulary name.
ENUM_VOCABULARIES: dict[str, tuple[type[StrEnum], dict[str, Label]]] = {
    "kind": (
        ClientKind,
        {
            "in_house_institute": _L(
                "所内研究所", "In-house institute", ("所内研究所", "所内", "院内研究所")
            ),
            "enterprise": _L("企业", "Enterprise", ("企业", "公司")),
            "research_institute": _L(
                "科研院所", "Research institute", ("科研院所", "研究院所", "研究所")
            ),
            "university": _L("高校", "University", ("高校", "大学", "高等院校")),
            "individual": _L("个人", "Individual"),
            "other": _L("其他", "Other", ("其他", "其它")),
        },
    ),
    "scope": (
        SearchScope,
        {
            "domestic": _L("国内", "domestic"),
            "domestic_and_foreign": _L("国内外", "domestic and foreign", ("国内外", "国内及国外")),
        },
    ),
    "purpose": (
        Purpose,
        {
            "project_approval": _L("立项", "project approval", ("立项", "项目立项")),
            "achievement_appraisal": _L(
                "成果鉴定", "achievement appraisal", ("成果鉴定", "鉴定", "成果评价")
            ),
            "award_application": _L("报奖", "award application", ("报奖", "申报奖励", "奖励申报")),
            "patent_application": _L("专利申请", "patent application", ("专利申请", "申请专利")),
            "product_development": _L(
                "产品开发", "product development", ("产品开发", "新产品开发")
            ),
            "market_entry": _L("市场进入", "market entry", ("市场进入", "市场准入")),
            "other": _L("其他", "other", ("其他", "其它")),
        },
    ),
    "order_status": (
        OrderStatus,
        {
            "quoted": _L("已报价", "quoted", ("已报价", "报价")),
            "paid": _L("已付款", "paid", ("已付款", "已支付", "付款")),
            "delivered": _L("已交付", "delivered", ("已交付", "交付")),
            "cancelled": _L("已取消", "cancelled", ("已取消", "取消")),
        },
    ),
    "interaction": (
        InteractionKind,
        {
            "visit": _L("拜访", "visit", ("走访", "拜访", "回访")),
            "call": _L("电话", "call"),
            "email": _L("邮件", "email", ("邮件", "电子邮件")),
            "training": _L("培训", "training"),
            "greeting": _L("节日问候", "greeting", ("问候", "节日问候")),
            "push": _L("推送", "push"),
            "meeting": _L("会议", "meeting", ("会议", "会面")),
        },
    ),
    "feedback": (
        FeedbackKind,
        {
            "report": _L("报告反馈", "report feedback", ("报告反馈", "报告")),
            "quarterly": _L("季度满意度调查", "quarterly survey", ("季度调查", "季度")),
        },
    ),
    "severity": (
        Severity,
        {
            "general": _L("一般投诉", "general complaint", ("一般",)),
            "serious": _L("严重投诉", "serious complaint", ("严重",)),
            "critical": _L("紧急投诉", "critical complaint", ("紧急", "重大")),
        },
    ),
    "surface": (
        Surface,
        {
            "librarian": _L("查新员工作台", "librarian console"),
            "portal": _L("客户门户", "client portal"),
            "worklist": _L("工作清单", "worklist"),
        },
    ),
    "event": (
        EventType,
        {
            "impression": _L("已展示", "shown"),
            "accepted": _L("客户接受", "Accepted"),
            "declined": _L("客户拒绝", "Declined"),
            "purchased": _L("已购买", "Purchased"),
            "ignored": _L("未回应", "Ignored"),
        },
    ),
    "decline": (
        DeclineReason,
        {
            "no_budget": _L("没有预算", "No budget"),
            "not_relevant": _L("不相关", "Not relevant"),
            "already_have": _L("已有同类服务", "Already have it"),
            "bad_timing": _L("时机不对", "Bad timing"),
            "other": _L("其他", "Other"),
        },
    ),
    "role": (
        Role,
        {
            "librarian": _L("查新员", "librarian"),
            "analyst": _L("分析员", "analyst"),
            "admin": _L("管理员", "admin"),
            "portal": _L("客户门户", "client portal"),
        },
    ),
    "job": (
        JobStatus,
        {
            "queued": _L("排队中", "queued"),
            "running": _L("运行中", "running"),
            "succeeded": _L("已完成", "succeeded"),
            "failed": _L("失败", "failed"),
        },
    ),
}

#: The centre's own words for client profiles (industry fields, enterprise types), Chinese
#: as imported → English; a value missing here is shown as it was imported.
GLOSSARY_PATH = Path(__file__).with_name("glossary.json")


def _glossary() -> dict[str, dict[str, Label]]:
    raw = json.loads(GLOSSARY_PATH.read_text(encoding="utf-8"))
    return {name: {zh: Label(zh, en) for zh, en in terms.items()} for name, terms in raw.items()}


#: Every vocabulary: the enums above, value segments, relationship stages, the candidate
#: sources a recommendation was found by, and the glossary of profile words.
VOCABULARIES: dict[str, Mapping[str, Label]] = {
    **{name: labels for name, (_, labels) in ENUM_VOCABULARIES.items()},
    "segment": {
        "key": _L("重点用户", "Key"),
        "potential": _L("潜在重点用户", "Potential key"),
        "general": _L("一般用户", "General"),
        "new": _L("新用户", "New"),
        "dormant": _L("休眠用户", "Dormant"),
    },
    "stage": {
        "awareness": _L("认知", "Awareness"),
        "exploration": _L("探索", "Exploration"),
        "expansion": _L("扩展", "Expansion"),
        "commitment": _L("承诺", "Commitment"),
        "dissolution": _L("解体", "Dissolution"),
    },
    "entity": {
        "clients": _L("客户", "clients"),
        "contacts": _L("联系人", "contacts"),
        "commissions": _L("委托项目", "commissions"),
        "orders": _L("订单", "orders"),
        "interactions": _L("联系记录", "interactions"),
        "feedback": _L("反馈", "feedback"),
        "complaints": _L("投诉", "complaints"),
    },
    "scorer": {
        "lightgbm": _L("LightGBM 梯度提升树", "LightGBM"),
        "model": _L("LightGBM 梯度提升树", "LightGBM"),
        "logistic": _L("逻辑回归", "Logistic regression"),
        "rfm": _L("RFM 规则", "RFM rule"),
    },
    "source": {
        "content": _L("项目内容相近", "similar projects"),
        "look-alike": _L("相似客户购买", "similar clients bought it"),
        "ladder": _L("服务升级路径", "next step up"),
        "chain": _L("常见后续服务", "usual follow-on"),
        "purpose": _L("委托用途", "commission purpose"),
        "popular-in-segment": _L("同类客户常购", "popular in the segment"),
        "popular": _L("热门服务", "popular overall"),
        "random": _L("随机探索", "exploration"),
    },
    **_glossary(),
}

#: A client kind inside an explanation sentence ("a similar case: an enterprise …").
KIND_PHRASES: dict[str, tuple[str, str]] = {
    "in_house_institute": ("所内研究所", "an in-house institute"),
    "enterprise": ("企业", "an enterprise"),
    "research_institute": ("科研院所", "a research institute"),
    "university": ("高校", "a university"),
    "individual": ("个人用户", "an individual client"),
    "other": ("机构", "an organisation"),
}
#: A purpose inside an explanation sentence ("used for project approval").
PURPOSE_PHRASES: dict[str, tuple[str, str]] = {
    **{code: (lab.zh, lab.en) for code, lab in ENUM_VOCABULARIES["purpose"][1].items()},
    "other": ("其他", "other purposes"),
}
#: A client kind inside an anonymised case's searchable text (part of what is
#: embedded, so changing a word changes the semantic index).
CASE_KIND_PHRASES: dict[str, tuple[str, str]] = {
    "in_house_institute": ("所内研究所", "an in-house institute"),
    "enterprise": ("企业", "an enterprise"),
    "research_institute": ("科研院所", "a research institute"),
    "university": ("高校团队", "a university group"),
    "individual": ("个人研究者", "an individual researcher"),
    "other": ("机构", "an organisation"),
}


def label(vocabulary: str, code: object, lang: str) -> str | None:
    """The label of ``code`` (a member or its value) in ``vocabulary``, or None."""
    labels = VOCABULARIES.get(vocabulary)
    if labels is None:
        return None
    found = labels.get(str(code.value if isinstance(code, StrEnum) else code))
    return found.text(lang) if found is not None else None


def field_phrase(field: str, lang: str) -> str:
    """An industry field inside a sentence of ``lang``: the glossary's word ("fine
    chemicals", "AI and machine vision"), or the field as imported, in quotes, when the
    glossary does not know it (client-supplied text); "" for no field."""
    if not field:
        return ""
    found = label("field", field, lang)
    if found is None:
        return f"“{field}”"
    if lang != "zh" and len(found) > 1 and found[1].islower():
        return found[0].lower() + found[1:]
    return found


def import_spellings(enum: type[StrEnum]) -> dict[str, tuple[str, ...]]:
    """Chinese spellings the importer accepts for each code of ``enum``, canonical first."""
    for enum_class, labels in ENUM_VOCABULARIES.values():
        if enum_class is enum:
            return {code: lab.spellings for code, lab in labels.items()}
    return {}
