"""Request and response bodies of the JSON API.

Naming follows one pattern: ``ThingBase`` (shared fields), ``ThingCreate`` (a request
body), ``ThingPublic`` (one item out), ``ThingsPublic`` (``{data, count}``).

Every timestamp is a :data:`UtcDateTime`: it always carries an offset (the stores hand
back naive UTC datetimes on SQLite; they are read as UTC and written ``+00:00``).

The recommendations body and its items (one :class:`~recsvc.recommend.offer.Offer`
shape from the recommender to the wire) are defined with the use case that answers
them, so the CLI prints the same JSON.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from recsvc.store.enums import (
    ClientKind,
    DeclineReason,
    EventType,
    FeedbackKind,
    InteractionKind,
    JobStatus,
    OrderStatus,
    Purpose,
    Severity,
    Surface,
)
from recsvc.usecases.portal import PortalOfferPublic, PortalPublic
from recsvc.usecases.recommendations import ActionPublic, RecommendationsPublic

__all__ = [
    "ActionPublic",
    "ClientBase",
    "ClientProfilePublic",
    "ClientPublic",
    "ClientsPublic",
    "ClvPublic",
    "CommissionPublic",
    "ComplaintPublic",
    "ContactPublic",
    "EvaluationReportPublic",
    "EventPublic",
    "EventsPublic",
    "FeedbackCreate",
    "FeedbackPublic",
    "HealthPublic",
    "ImportReportPublic",
    "ImportReportsPublic",
    "InteractionPublic",
    "JobPublic",
    "ModelVersionPublic",
    "ModelVersionsPublic",
    "OrderPublic",
    "PortalEventCreate",
    "PortalEventsCreate",
    "PortalOfferPublic",
    "PortalPublic",
    "ProblemItemPublic",
    "ProblemPublic",
    "ReadyPublic",
    "ReasonPublic",
    "RecommendationsPublic",
    "ScorePublic",
    "SearchHitPublic",
    "SearchHitsPublic",
    "SimilarClientPublic",
    "SimilarClientsPublic",
    "UtcDateTime",
    "WorklistPublic",
    "WorklistRowPublic",
]

_ORM = ConfigDict(from_attributes=True)


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC; a naive value is taken to be UTC already (what the store keeps)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


#: A timestamp in a response: always timezone-aware UTC, written with an explicit
#: ``+00:00`` offset (RFC 3339 ``date-time``, as the OpenAPI schema declares).
UtcDateTime = Annotated[
    dt.datetime,
    AfterValidator(as_utc),
    PlainSerializer(lambda v: as_utc(v).isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ClientBase(BaseModel):
    """What identifies a client and places it (no personal data)."""

    model_config = _ORM

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

    model_config = _ORM

    external_id: str
    name: str
    registered_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    active: bool = True


class CommissionPublic(BaseModel):
    model_config = _ORM

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
    model_config = _ORM

    external_id: str
    kind: FeedbackKind
    received_on: dt.date
    channel: str | None = None
    overall: float | None = None
    experience: float | None = None
    quality: float | None = None
    attitude: float | None = None


class ComplaintPublic(BaseModel):
    model_config = _ORM

    external_id: str
    severity: Severity
    category: str | None = None
    opened_at: UtcDateTime
    responded_at: UtcDateTime | None = None
    resolved_at: UtcDateTime | None = None


class InteractionPublic(BaseModel):
    model_config = _ORM

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


class PortalEventCreate(BaseModel):
    """A portal event: an impression of a recommended item, or an outcome of one."""

    event: Literal["impression", "accepted", "declined", "purchased"]
    item_code: str | None = Field(None, max_length=64, description="Required for impressions")
    impression_id: int | None = Field(
        None, ge=1, le=2**62, description="Required for outcomes: the impression they answer"
    )
    rank: int | None = Field(None, ge=1, le=1000)
    reason: DeclineReason | None = None


class PortalEventsCreate(BaseModel):
    events: list[PortalEventCreate] = Field(min_length=1, max_length=100)


class EventPublic(BaseModel):
    id: int
    event: EventType
    item_code: str
    impression_id: int | None = None
    surface: Surface
    model_version: str | None = None


class EventsPublic(BaseModel):
    data: list[EventPublic]
    count: int


class ImportReportPublic(BaseModel):
    entity: str
    source: str
    inserted: int
    updated: int
    unchanged: int
    dry_run: bool = False


class ImportReportsPublic(BaseModel):
    data: list[ImportReportPublic]
    count: int


class JobPublic(BaseModel):
    model_config = _ORM

    id: str
    status: JobStatus
    progress: float
    message: str | None = None
    requested_by: str | None = None
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    result: dict[str, Any] | None = None


class ModelVersionPublic(BaseModel):
    version: str
    active: bool
    created: str | None = None
    metrics: dict[str, Any] = {}
    value_model: str = Field(
        "lightgbm", description="The value model it serves: `lightgbm` or `logistic`"
    )


class ModelVersionsPublic(BaseModel):
    active: str | None
    serving: str | None = Field(None, description="The version this process serves now")
    data: list[ModelVersionPublic]
    count: int


class EvaluationReportPublic(BaseModel):
    version: str
    metrics: dict[str, Any]
    meta: dict[str, Any] = {}
    plots: list[str] = Field(default_factory=list, description="URLs of the report's plots")


class ProblemItemPublic(BaseModel):
    """One located problem in a 422 (or an import's report): which file, row, field, why."""

    reason: str
    field: str | None = None
    row: int | None = None
    file: str | None = None


class ProblemPublic(BaseModel):
    """An RFC 9457 problem document (``application/problem+json``): every error the API
    answers has this shape (``api/errors.py``)."""

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(None, description="The request path")
    errors: list[ProblemItemPublic] | None = Field(None, description="Field-level problems")


class HealthPublic(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyPublic(BaseModel):
    status: Literal["ready", "degraded", "unavailable"]
    database: bool
    model_loaded: bool
    model_version: str | None = None
    model_error: str | None = Field(None, description="Why the active model failed to load")
    worker: int = Field(description="Process id of the server worker that answered")
