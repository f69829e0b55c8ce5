"""Closed vocabularies of the domain, shared by the store, the importer and the API."""

from __future__ import annotations

from enum import StrEnum


class ClientKind(StrEnum):
    IN_HOUSE_INSTITUTE = "in_house_institute"  # 所内研究所 (e.g. a CAS institute)
    ENTERPRISE = "enterprise"  # 企业
    RESEARCH_INSTITUTE = "research_institute"  # 科研院所
    UNIVERSITY = "university"  # 高校
    INDIVIDUAL = "individual"  # 个人
    OTHER = "other"  # 其他


class SearchScope(StrEnum):
    DOMESTIC = "domestic"  # 国内
    DOMESTIC_AND_FOREIGN = "domestic_and_foreign"  # 国内外


class Purpose(StrEnum):
    PROJECT_APPROVAL = "project_approval"  # 立项
    ACHIEVEMENT_APPRAISAL = "achievement_appraisal"  # 成果鉴定
    AWARD_APPLICATION = "award_application"  # 报奖
    PATENT_APPLICATION = "patent_application"  # 专利申请
    PRODUCT_DEVELOPMENT = "product_development"  # 产品开发
    MARKET_ENTRY = "market_entry"  # 市场进入
    OTHER = "other"


class OrderStatus(StrEnum):
    QUOTED = "quoted"
    PAID = "paid"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class InteractionKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    TRAINING = "training"
    GREETING = "greeting"
    PUSH = "push"
    MEETING = "meeting"


class FeedbackKind(StrEnum):
    REPORT = "report"  # after each novelty-search report
    QUARTERLY = "quarterly"  # quarterly satisfaction survey


class Severity(StrEnum):
    """Complaint severity; seed 004 sets response targets of 48h / 24h / 8h."""

    GENERAL = "general"
    SERIOUS = "serious"
    CRITICAL = "critical"


RESPONSE_TARGET_HOURS: dict[Severity, int] = {
    Severity.GENERAL: 48,
    Severity.SERIOUS: 24,
    Severity.CRITICAL: 8,
}


class Surface(StrEnum):
    LIBRARIAN = "librarian"
    PORTAL = "portal"
    WORKLIST = "worklist"


class EventType(StrEnum):
    """A recommendation event: the impression, then at most one outcome per impression."""

    IMPRESSION = "impression"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PURCHASED = "purchased"
    IGNORED = "ignored"


class DeclineReason(StrEnum):
    NO_BUDGET = "no_budget"
    NOT_RELEVANT = "not_relevant"
    ALREADY_HAVE = "already_have"
    BAD_TIMING = "bad_timing"
    OTHER = "other"


class Role(StrEnum):
    LIBRARIAN = "librarian"
    ANALYST = "analyst"
    ADMIN = "admin"
    PORTAL = "portal"  # a client's token, bound to exactly one client


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
