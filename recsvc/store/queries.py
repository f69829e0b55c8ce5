"""Every read of the store outside the bulk frame reader (:mod:`recsvc.store.frames`).

Each query is a keyword-only function of the :class:`~recsvc.store.db.Database`; none
writes. The use cases (:mod:`recsvc.usecases`) call these; the API, the console and
the CLI never query the store themselves.

Example:
    >>> from recsvc.store import Database
    >>> db = Database.from_url("sqlite://"); db.upgrade()
    >>> client_id(db, external_id="C-1") is None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.orm import Session

from recsvc.store.db import Database
from recsvc.store.enums import EventType
from recsvc.store.frames import PERSONAL_COLUMNS
from recsvc.store.models import (
    ApiKey,
    Client,
    Commission,
    Complaint,
    Contact,
    Feedback,
    Interaction,
    Order,
    Product,
    RecommendationEvent,
    TrainingJob,
)

__all__ = [
    "ClientHistory",
    "ClientRows",
    "OrderRow",
    "client",
    "client_events",
    "client_external_ids",
    "client_history",
    "client_id",
    "client_rows",
    "clients",
    "clients_by_id",
    "commission_id",
    "event",
    "filter_options",
    "impression",
    "key_is_active",
    "key_named",
    "keys",
    "keys_with_prefix",
    "latest_impression",
    "nth_client_external_id",
    "outcome_of",
    "ping",
    "product_codes",
    "rate_events",
    "training_job",
]

#: Every client route translates the public id: one statement, built once.
_CLIENT_ID_OF = select(Client.id).where(Client.external_id == bindparam("external_id"))

_EVENT_COLUMNS = ["event", "client_id", "item_code", "occurred_at", "impression_id", "reason"]
_NO_EVENTS = pd.DataFrame(columns=_EVENT_COLUMNS)
# built once: composing the statement cost more than running it on every live call
_EVENTS_OF = select(
    RecommendationEvent.event,
    RecommendationEvent.client_id,
    RecommendationEvent.item_code,
    RecommendationEvent.occurred_at,
    RecommendationEvent.impression_id,
    RecommendationEvent.reason,
).where(RecommendationEvent.client_id.in_(bindparam("ids", expanding=True)))
_EVENTS_OF_TYPES = _EVENTS_OF.where(
    RecommendationEvent.event.in_(bindparam("types", expanding=True))
)


@dataclass(frozen=True)
class OrderRow:
    """An order with its product's code and names."""

    order: Order
    product_code: str
    product_name_zh: str
    product_name_en: str


@dataclass(frozen=True)
class ClientRows:
    """One client's rows in the layout of :class:`~recsvc.store.frames.Frames` (no
    personal columns, dates as ``datetime64``)."""

    clients: pd.DataFrame
    commissions: pd.DataFrame
    orders: pd.DataFrame


@dataclass(frozen=True)
class ClientHistory:
    """A client's history, newest first in each list (contacts only when asked for)."""

    commissions: list[Commission] = field(default_factory=list)
    orders: list[OrderRow] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many entries the timeline has (everything but contacts)."""
        return (
            len(self.commissions)
            + len(self.orders)
            + len(self.feedback)
            + len(self.complaints)
            + len(self.interactions)
        )


def ping(db: Database) -> None:
    """A trivial query (raises the driver's error when the store does not answer)."""
    with db.session() as s:
        s.scalar(select(1))


def client_id(db: Database, *, external_id: str) -> int | None:
    """The internal id of a public client id, or ``None``."""
    with db.engine.connect() as conn:  # every client route asks: no ORM session
        return conn.scalar(_CLIENT_ID_OF, {"external_id": external_id})


def client_external_ids(db: Database, *, client_ids: list[int]) -> dict[int, str]:
    """Public ids for internal ids (unknown ids are left out)."""
    if not client_ids:
        return {}
    with db.session() as s:
        rows = s.execute(
            select(Client.id, Client.external_id).where(Client.id.in_(client_ids))
        ).all()
    return {int(i): e for i, e in rows}


def nth_client_external_id(db: Database, *, n: int) -> str | None:
    """The public id of the ``n``-th client by internal id (from 0), or ``None``."""
    with db.session() as s:
        return s.scalar(select(Client.external_id).order_by(Client.id).offset(n).limit(1))


def clients(
    db: Database,
    *,
    q: str | None = None,
    kind: str | None = None,
    industry: str | None = None,
    account_manager: str | None = None,
    region: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Client], int]:
    """A page of clients matching every filter given (AND), and the total count."""
    stmt = select(Client)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                Client.external_id.ilike(like),
                Client.name_zh.ilike(like),
                Client.name_en.ilike(like),
                Client.industry_field.ilike(like),
                Client.core_technologies.ilike(like),
            )
        )
    if kind:
        stmt = stmt.where(Client.kind == kind)
    if industry:
        stmt = stmt.where(Client.industry_field == industry)
    if account_manager:
        stmt = stmt.where(Client.account_manager == account_manager)
    if region:
        stmt = stmt.where(Client.region == region)
    with db.session() as s:
        count = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = list(s.scalars(stmt.order_by(Client.id).offset(offset).limit(limit)))
    return rows, count


def client(db: Database, *, client_id: int) -> Client | None:
    """The client row (no relationships loaded), or ``None``."""
    with db.session() as s:
        return s.get(Client, client_id)


def clients_by_id(db: Database, *, client_ids: list[int]) -> dict[int, Client]:
    """Client rows by internal id (unknown ids are left out)."""
    with db.session() as s:
        return {c.id: c for c in s.scalars(select(Client).where(Client.id.in_(client_ids)))}


def client_history(db: Database, *, client_id: int, include_contacts: bool) -> ClientHistory:
    """Commissions, orders, feedback, complaints, interactions (and contacts if asked)."""
    with db.session() as s:
        commissions = s.scalars(
            select(Commission)
            .where(Commission.client_id == client_id)
            .order_by(Commission.commissioned_on.desc())
        )
        orders = s.execute(
            select(Order, Product.code, Product.name_zh, Product.name_en)
            .join(Product, Product.id == Order.product_id)
            .where(Order.client_id == client_id)
            .order_by(Order.ordered_on.desc())
        ).all()
        feedback = s.scalars(
            select(Feedback)
            .where(Feedback.client_id == client_id)
            .order_by(Feedback.received_on.desc())
        )
        complaints = s.scalars(
            select(Complaint)
            .where(Complaint.client_id == client_id)
            .order_by(Complaint.opened_at.desc())
        )
        interactions = s.scalars(
            select(Interaction)
            .where(Interaction.client_id == client_id)
            .order_by(Interaction.occurred_on.desc())
        )
        contacts = (
            list(s.scalars(select(Contact).where(Contact.client_id == client_id)))
            if include_contacts
            else []
        )
        return ClientHistory(
            commissions=list(commissions),
            orders=[OrderRow(o, c, zh, en) for o, c, zh, en in orders],
            feedback=list(feedback),
            complaints=list(complaints),
            interactions=list(interactions),
            contacts=contacts,
        )


def _public(model: Any) -> list[Any]:
    return [c for c in model.__table__.columns if c.name not in PERSONAL_COLUMNS]


def client_rows(db: Database, *, client_id: int) -> ClientRows | None:
    """The client, its commissions and its orders (with product codes) as frames, or
    ``None`` when there is no such client."""

    def read(stmt: Select[Any], key: str, dates: tuple[str, ...]) -> pd.DataFrame:
        df = pd.read_sql(stmt, conn).rename(columns={"id": key})
        for c in dates:
            df[c] = pd.to_datetime(df[c])
        return df

    with db.engine.connect() as conn:
        cl = read(
            select(*_public(Client)).where(Client.id == client_id), "client_id", ("registered_on",)
        )
        if cl.empty:
            return None
        cm = read(
            select(*_public(Commission)).where(Commission.client_id == client_id),
            "commission_id",
            ("commissioned_on", "completed_on"),
        )
        od = read(
            select(*Order.__table__.columns, Product.code.label("product_code"))
            .join(Product, Product.id == Order.product_id)
            .where(Order.client_id == client_id),
            "order_id",
            ("ordered_on",),
        )
    return ClientRows(cl, cm, od)


def client_events(
    db: Database, *, client_ids: Sequence[int], events: Sequence[EventType | str] | None = None
) -> pd.DataFrame:
    """These clients' recommendation events, fresh from the store (live cool-downs).

    Args:
        client_ids: whose events (one query for all of them).
        events: only these event types (a cool-down needs declines, not the client's
            ever-growing impressions); default all.
    """
    params: dict[str, list[Any]] = {"ids": [int(c) for c in client_ids]}
    query = _EVENTS_OF
    if events is not None:
        query = _EVENTS_OF_TYPES
        params["types"] = [EventType(e) for e in events]
    with db.engine.connect() as conn:
        rows = conn.execute(query, params).all()
    if not rows:  # a live call's usual answer; a new empty frame costs 77 µs, a copy 6
        return _NO_EVENTS.copy()
    df = pd.DataFrame(rows, columns=_EVENT_COLUMNS)
    df["event"] = df["event"].astype(str)
    df["occurred_at"] = pd.to_datetime(df["occurred_at"], utc=True).dt.tz_localize(None)
    return df


def rate_events(db: Database) -> pd.DataFrame:
    """Every recommendation event's ``event_id``, ``event``, ``item_code``,
    ``model_version`` and ``impression_id`` (what acceptance rates count)."""
    with db.session() as s:
        rows = s.execute(
            select(
                RecommendationEvent.id,
                RecommendationEvent.event,
                RecommendationEvent.item_code,
                RecommendationEvent.model_version,
                RecommendationEvent.impression_id,
            )
        ).all()
    return pd.DataFrame(
        rows, columns=["event_id", "event", "item_code", "model_version", "impression_id"]
    )


def latest_impression(
    session: Session, *, client_id: int, item_code: str
) -> RecommendationEvent | None:
    """The client's latest impression of ``item_code``, inside the caller's session (an
    outcome is recorded against it in the same transaction), or ``None``."""
    return session.scalars(
        select(RecommendationEvent)
        .where(
            RecommendationEvent.client_id == client_id,
            RecommendationEvent.item_code == item_code,
            RecommendationEvent.event == EventType.IMPRESSION,
        )
        .order_by(RecommendationEvent.occurred_at.desc(), RecommendationEvent.id.desc())
    ).first()


def commission_id(db: Database, *, external_id: str) -> int | None:
    """The internal id of a public commission id, or ``None``."""
    with db.session() as s:
        return s.scalar(select(Commission.id).where(Commission.external_id == external_id))


def product_codes(db: Database) -> set[str]:
    """Every product code in the catalogue."""
    with db.session() as s:
        return set(s.scalars(select(Product.code)))


def impression(db: Database, *, impression_id: int) -> RecommendationEvent | None:
    """The recommendation event ``impression_id`` (of any kind), or ``None``."""
    with db.session() as s:
        return s.get(RecommendationEvent, impression_id)


def outcome_of(db: Database, *, impression_id: int, outcome: str) -> int | None:
    """The id of the ``outcome`` event already recorded for an impression, or ``None``."""
    with db.session() as s:
        return s.scalar(
            select(RecommendationEvent.id).where(
                RecommendationEvent.impression_id == impression_id,
                RecommendationEvent.event == outcome,
            )
        )


def event(db: Database, *, event_id: int) -> RecommendationEvent | None:
    """A recommendation event by id, or ``None``."""
    with db.session() as s:
        return s.get(RecommendationEvent, event_id)


def training_job(db: Database, *, job_id: str) -> TrainingJob | None:
    """A training job by id, or ``None``."""
    with db.session() as s:
        return s.get(TrainingJob, job_id)


def key_is_active(db: Database, *, key_id: int) -> bool:
    """Whether an API key still exists and is not revoked."""
    with db.session() as s:
        row = s.execute(select(ApiKey.revoked_at).where(ApiKey.id == key_id)).first()
    return row is not None and row[0] is None


def filter_options(db: Database) -> dict[str, list[Any]]:
    """Choices for the worklist filters: account managers, industry fields, products."""
    with db.session() as s:
        staff = [
            v
            for (v,) in s.execute(
                select(Client.account_manager).distinct().order_by(Client.account_manager)
            )
            if v
        ]
        fields = [
            v
            for (v,) in s.execute(
                select(Client.industry_field).distinct().order_by(Client.industry_field)
            )
            if v
        ]
        products = [
            {"code": c, "name_zh": zh, "name_en": en}
            for c, zh, en in s.execute(
                select(Product.code, Product.name_zh, Product.name_en)
                .where(Product.active.is_(True))
                .order_by(Product.id)
            )
        ]
    return {"staff": staff, "fields": fields, "products": products}


def _keys_with_clients() -> Select[tuple[ApiKey, str | None]]:
    """API keys with their bound client's external id (``None`` for staff keys)."""
    return select(ApiKey, Client.external_id).outerjoin(Client, Client.id == ApiKey.client_id)


def keys(db: Database) -> list[tuple[ApiKey, str | None]]:
    """Every API key, active and revoked, oldest first, with its client's external id."""
    with db.session() as s:
        return [(k, ext) for k, ext in s.execute(_keys_with_clients().order_by(ApiKey.id))]


def keys_with_prefix(db: Database, *, prefix: str) -> list[tuple[ApiKey, str | None]]:
    """The keys whose public prefix is ``prefix`` (candidates for a presented secret)."""
    with db.session() as s:
        rows = s.execute(_keys_with_clients().where(ApiKey.prefix == prefix))
        return [(k, ext) for k, ext in rows]


def key_named(session: Session, *, name: str) -> tuple[ApiKey, str | None] | None:
    """The key called ``name`` and its client's external id, inside the caller's session
    (revoking and rotating change the row in the same transaction)."""
    row = session.execute(_keys_with_clients().where(ApiKey.name == name)).first()
    return None if row is None else (row[0], row[1])
