"""Bodies of the staff surface: clients and their history, profiles and scores,
similar clients, search hits, the worklist and a librarian's outcome."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import FROM_ATTRIBUTES, UtcDateTime
from recsvc.store.enums import (
    ClientKind,
    DeclineReason,
    FeedbackKind,
    InteractionKind,
    OrderStatus,
    Purpose,
    Severity,
)
from recsvc.usecases.recommendations import ActionPublic


class ClientBase(BaseModel):
    """What identifies a client and places it (no personal data)."""

    model_config = FROM_ATTRIBUTES

    external_id: str
    name_zh: str | None = None
    name_en: str | None = None
    kind: ClientKind
    industry_field: str | None = None
    region: str | None = None
    park: str | None = None
    enterprise_type: str | None = None
    account_manager: str | None = None
    registered_on: dt.date | None = None


class ClientPublic(ClientBase):
    """A client with its R&D strength and industry direction (seed 000, Table 2)."""

    core_technologies: str | None = None
    core_products: str | None = None
    talent_count: int | None = None
    patents_invention: int | None = None
    patents_utility: int | None = None
    patents_design: int | None = None
    patents_in_force: int | None = None
    honours: str | None = None


class ClientsPublic(BaseModel):
    data: list[ClientPublic]
    count: int = Field(description="Total matches (not just this page)")


class ContactPublic(BaseModel):
    """Personal data: only in profiles seen by admin and librarian keys."""

    model_config = FROM_ATTRIBUTES

    external_id: str
    name: str
    registered_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    active: bool = True


class CommissionPublic(BaseModel):
    model_config = FROM_ATTRIBUTES

    external_id: str
    title_zh: str | None = None
    title_en: str | None = None
    keywords: str | None = None
    subject_area: str | None = None
    purpose: Purpose | None = None
    fee: float | None = None
    industry_type: str | None = None
    commissioned_on: dt.date
    completed_on: dt.date | None = None
    recognition_score: float | None = None
    cooperation_score: float | None = None


class OrderPublic(BaseModel):
    external_id: str
    product_code: str
    product_name_zh: str
    product_name_en: str
    ordered_on: dt.date
    amount: float
    status: OrderStatus


class FeedbackPublic(BaseModel):
    model_config = FROM_ATTRIBUTES

    external_id: str
    kind: FeedbackKind
    received_on: dt.date
    channel: str | None = None
    overall: float | None = None
    experience: float | None = None
    quality: float | None = None
    attitude: float | None = None


class ComplaintPublic(BaseModel):
    model_config = FROM_ATTRIBUTES

    external_id: str
    severity: Severity
    category: str | None = None
    opened_at: UtcDateTime
    responded_at: UtcDateTime | None = None
    resolved_at: UtcDateTime | None = None


class InteractionPublic(BaseModel):
    model_config = FROM_ATTRIBUTES

    external_id: str
    kind: InteractionKind
    occurred_on: dt.date
    staff: str | None = None


class ReasonPublic(BaseModel):
    """One reason, in Chinese and English."""

    feature: str | None = None
    contribution: float | None = None
    text_zh: str
    text_en: str


class ClvPublic(BaseModel):
    expected_commissions_12m: float
    expected_value_12m: float
    p_alive: float


class ScorePublic(BaseModel):
    """The value model's view of a client, with its reasons."""

    value_probability: float
    client_probability: float | None = Field(
        None,
        description="P(buys any value-added service within the horizon): value_probability, "
        "under the name the worklist uses",
    )
    reasons: list[ReasonPublic]
    segment: str | None = None
    actions: list[ActionPublic] = []
    clv: ClvPublic | None = None
    relationship_stage: str | None = None


class ClientProfilePublic(BaseModel):
    """The 360° profile: basic, peripheral and deep layers (seed 000, Tables 1-3)."""

    client: ClientPublic
    contacts: list[ContactPublic] | None = Field(
        None, description="Personal data; null unless the key's role may see it"
    )
    commissions: list[CommissionPublic]
    orders: list[OrderPublic]
    feedback: list[FeedbackPublic]
    complaints: list[ComplaintPublic]
    interactions: list[InteractionPublic]
    score: ScorePublic | None = Field(None, description="Null until a model is trained")
    model_version: str | None = None


class SimilarClientPublic(BaseModel):
    external_id: str
    name_zh: str | None = None
    name_en: str | None = None
    kind: ClientKind | None = None
    industry_field: str | None = None
    score: float


class SimilarClientsPublic(BaseModel):
    data: list[SimilarClientPublic]
    count: int


class SearchHitPublic(BaseModel):
    """A search result, with public ids (client / commission external id, product code)."""

    kind: str
    id: str
    score: float
    channels: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="Which channel found it (dense, lexical): rank, score"
    )
    title: str
    summary: str | None = None
    meta: dict[str, str | None] = {}


class SearchHitsPublic(BaseModel):
    query: str
    data: list[SearchHitPublic]
    count: int


class WorklistRowPublic(BaseModel):
    """One client to contact: its best offer, the probability it buys it, what that is
    worth, and why (the quantities of ``recsvc.quantities``)."""

    rank: int
    client_external_id: str
    client_name: str | None = None
    client_name_en: str | None = None
    segment: str | None = None
    industry_field: str | None = None
    account_manager: str | None = None
    contact_name: str | None = Field(None, description="Primary contact (librarian, admin)")
    contact_phone: str | None = Field(None, description="Primary contact (librarian, admin)")
    contact_email: str | None = Field(None, description="Primary contact (librarian, admin)")
    probability: float | None = Field(
        None, description="P(the client buys this offer within the horizon), 0–1"
    )
    expected_value: float | None = Field(
        None, description="probability × the offer's list price, ¥ (None without a price)"
    )
    client_probability: float | None = Field(
        None, description="P(the client buys any value-added service within the horizon)"
    )
    score: float | None = Field(None, description="The same as probability (older name)")
    product_code: str | None = None
    product_name_zh: str | None = None
    product_name_en: str | None = None
    reason_zh: str | None = None
    reason_en: str | None = None
    action_zh: str | None = None
    action_en: str | None = None


class WorklistPublic(BaseModel):
    model_version: str
    data: list[WorklistRowPublic]
    count: int


class FeedbackCreate(BaseModel):
    """A librarian's outcome for a recommendation they were shown."""

    impression_id: int = Field(ge=1, le=2**62)
    outcome: Literal["accepted", "declined", "purchased"]
    reason: DeclineReason | None = Field(None, description="Why it was declined")
