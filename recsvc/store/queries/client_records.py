"""Reads of clients and their records: public and internal ids, pages of clients, one
client, its history, its rows as frames, and public commission ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Select, bindparam, func, or_, select

from recsvc.store.db import Database
from recsvc.store.frames import PERSONAL_COLUMNS
from recsvc.store.models import (
    Client,
    Commission,
    Complaint,
    Contact,
    Feedback,
    Interaction,
    Order,
    Product,
)

__all__ = [
    "ClientHistory",
    "ClientRows",
    "OrderRow",
    "client",
    "client_external_ids",
    "client_history",
    "client_id",
    "client_rows",
    "clients",
    "clients_by_id",
    "commission_id",
    "nth_client_external_id",
    "primary_contacts",
]

#: Every client route translates the public id: one statement, built once.
_CLIENT_ID_OF = select(Client.id).where(Client.external_id == bindparam("external_id"))


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


def primary_contacts(db: Database, *, client_ids: list[int]) -> dict[int, Contact]:
    """Each client's primary contact: its first active one (lowest id), or its first
    one if none is active. Personal data: callers check the role first."""
    out: dict[int, Contact] = {}
    with db.session() as s:
        rows = s.scalars(
            select(Contact)
            .where(Contact.client_id.in_(client_ids))
            .order_by(Contact.client_id, Contact.active.desc(), Contact.id)
        )
        for c in rows:
            out.setdefault(c.client_id, c)
    return out


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


def commission_id(db: Database, *, external_id: str) -> int | None:
    """The internal id of a public commission id, or ``None``."""
    with db.session() as s:
        return s.scalar(select(Commission.id).where(Commission.external_id == external_id))
