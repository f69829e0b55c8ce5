"""The domain store: SQLAlchemy 2.0 typed models, one schema on SQLite and PostgreSQL.

Personal data lives in :class:`Contact` alone. Nothing downstream of the store
(features, indexes, model artifacts, logs, portal responses) reads that table;
:mod:`recsvc.store.frames` is the only bulk reader and never selects it.

Every importable entity has a unique ``external_id`` (the centre's own number) so an
import is an upsert; internal integer ids never leave the service.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


def _enum(e: type[StrEnum]) -> SAEnum:
    """A portable enum column: VARCHAR plus a CHECK constraint on both databases."""
    return SAEnum(
        e,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
        name=f"ck_{e.__name__.lower()}",
    )


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    # indexed: the store's stamp reads the latest of every table (recsvc.store.frames)
    updated_at: Mapped[dt.datetime] = mapped_column(
        server_default=func.now(), onupdate=func.now(), index=True
    )


class Client(TimestampMixin, Base):
    """An organisation (or individual) that commissions work: the unit we recommend to."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[ClientKind] = mapped_column(_enum(ClientKind), index=True)
    enterprise_type: Mapped[str | None] = mapped_column(String(64))
    park: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))
    # industry direction (Table 2)
    industry_field: Mapped[str | None] = mapped_column(String(120), index=True)
    core_technologies: Mapped[str | None] = mapped_column(Text)
    core_products: Mapped[str | None] = mapped_column(Text)
    # R&D strength (Table 2)
    talent_count: Mapped[int | None] = mapped_column(Integer)
    patents_invention: Mapped[int | None] = mapped_column(Integer)
    patents_utility: Mapped[int | None] = mapped_column(Integer)
    patents_design: Mapped[int | None] = mapped_column(Integer)
    patents_in_force: Mapped[int | None] = mapped_column(Integer)
    honours: Mapped[str | None] = mapped_column(Text)
    # relationship
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    account_manager: Mapped[str | None] = mapped_column(String(80), index=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    contacts: Mapped[list[Contact]] = relationship(back_populates="client")
    commissions: Mapped[list[Commission]] = relationship(back_populates="client")


class Contact(TimestampMixin, Base):
    """Personal data (委托人). Read only by the profile view of roles allowed to see it."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    registered_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    client: Mapped[Client] = relationship(back_populates="contacts")


class Commission(TimestampMixin, Base):
    """A novelty-search project (查新委托)."""

    __tablename__ = "commissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    title_zh: Mapped[str | None] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str | None] = mapped_column(Text)
    """Keywords and novelty points, separated by ';' or '；'."""
    subject_area: Mapped[str | None] = mapped_column(String(120))
    search_scope: Mapped[SearchScope | None] = mapped_column(_enum(SearchScope))
    purpose: Mapped[Purpose | None] = mapped_column(_enum(Purpose))
    fee: Mapped[float | None] = mapped_column(Float)
    industry_type: Mapped[str | None] = mapped_column(String(120))
    commissioned_on: Mapped[dt.date] = mapped_column(Date, index=True)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    searcher: Mapped[str | None] = mapped_column(String(80))
    recognition_score: Mapped[float | None] = mapped_column(Float)
    """The client's recognition of novelty search, 1-5 (loyalty indicator, Table 3)."""
    cooperation_score: Mapped[float | None] = mapped_column(Float)
    """The client's cooperation with the searcher, 1-5 (loyalty indicator, Table 3)."""

    client: Mapped[Client] = relationship(back_populates="commissions")


class Product(TimestampMixin, Base):
    """A value-added service in the catalogue (增值服务产品)."""

    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_zh: Mapped[str] = mapped_column(Text)
    description_en: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    price: Mapped[float] = mapped_column(Float)
    one_off: Mapped[bool] = mapped_column(Boolean, default=True)
    """A one-off deliverable (a report) is not re-offered soon after purchase."""
    eligible_kinds: Mapped[list[str] | None] = mapped_column(JSON)
    """Client kinds this may be offered to; null means all."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Order(TimestampMixin, Base):
    """A value-added purchase."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id", ondelete="SET NULL")
    )
    ordered_on: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[float] = mapped_column(Float)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PAID)


class Interaction(TimestampMixin, Base):
    """A touch point: visit, call, email, training, greeting, push …"""

    __tablename__ = "interactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[InteractionKind] = mapped_column(_enum(InteractionKind))
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    staff: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(Text)


class Feedback(TimestampMixin, Base):
    """Satisfaction: after a report, or the quarterly survey (scores 1-5)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id", ondelete="SET NULL")
    )
    kind: Mapped[FeedbackKind] = mapped_column(_enum(FeedbackKind))
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str | None] = mapped_column(String(32))
    overall: Mapped[float | None] = mapped_column(Float)
    experience: Mapped[float | None] = mapped_column(Float)
    quality: Mapped[float | None] = mapped_column(Float)
    attitude: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)


class Complaint(TimestampMixin, Base):
    """A complaint, handled by severity against 48h / 24h / 8h response targets."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id", ondelete="SET NULL")
    )
    severity: Mapped[Severity] = mapped_column(_enum(Severity))
    opened_at: Mapped[dt.datetime] = mapped_column(index=True)
    responded_at: Mapped[dt.datetime | None] = mapped_column()
    resolved_at: Mapped[dt.datetime | None] = mapped_column()
    category: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)


class RecommendationEvent(Base):
    """An impression of a recommendation, or an outcome that refers back to one.

    ``item_code`` is a product code or a relationship-action code (``action:…``).
    """

    __tablename__ = "recommendation_events"
    __table_args__ = (Index("ix_recevent_client_item", "client_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[EventType] = mapped_column(_enum(EventType), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(64))
    impression_id: Mapped[int | None] = mapped_column(
        ForeignKey("recommendation_events.id", ondelete="SET NULL"), index=True
    )
    surface: Mapped[Surface] = mapped_column(_enum(Surface))
    model_version: Mapped[str | None] = mapped_column(String(64))
    rank: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[DeclineReason | None] = mapped_column(_enum(DeclineReason))
    actor: Mapped[str | None] = mapped_column(String(80))
    """The API key name (a librarian) or 'portal' — never a person's personal data."""
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)


class ApiKey(Base):
    """An API key (librarian / analyst / admin) or a portal token bound to one client.

    Only a SHA-256 hash of the secret is stored; ``prefix`` identifies the key in logs.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class TrainingJob(Base):
    """A background training run started from the API; its state outlives the request."""

    __tablename__ = "training_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus), default=JobStatus.QUEUED)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(80))
    started_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pid: Mapped[int | None] = mapped_column(Integer)
    """The job process's id on ``host`` (to tell a live job from one whose process died)."""
    host: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column()
    """When the job last reported progress; a running job silent for long is stale."""


class ImportRun(Base):
    """One accepted import: which file, which entity, how many rows inserted / updated."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(500))
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())


class AuditEvent(Base):
    """Who did what to which client's data: append-only, never personal data.

    The actor is a key id and role (``None`` for the command line, where ``surface`` is
    ``cli``); the client is its internal id only, so an erased client's row names
    nobody. ``detail`` holds counts and codes (never query text, names or titles).
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    surface: Mapped[str] = mapped_column(String(16))
    actor_key_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Erasure(Base):
    """The record that a client was erased: who, when, why and how many rows and
    entries went; the client is named by its former internal id only."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    erased_at: Mapped[dt.datetime] = mapped_column(server_default=func.now())
    client_id: Mapped[int] = mapped_column(Integer)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


#: Importable entities in dependency order (parents before children).
ENTITIES: dict[str, type[Base]] = {
    "clients": Client,
    "contacts": Contact,
    "commissions": Commission,
    "orders": Order,
    "interactions": Interaction,
    "feedback": Feedback,
    "complaints": Complaint,
}
