"""Reads of orders outside the snapshot: a few clients' purchases, fresh from the store,
so a live recommendation sees an order placed after its version was opened; and what a
purchase recorded as an order checks inside its own transaction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from recsvc.store.db import Database
from recsvc.store.enums import OrderStatus
from recsvc.store.models import Order, Product

__all__ = ["bought_orders", "order_named", "product_named"]

_BOUGHT = (OrderStatus.PAID, OrderStatus.DELIVERED)


def bought_orders(db: Database, *, client_ids: Sequence[int]) -> dict[str, np.ndarray]:
    """These clients' paid or delivered orders as arrays ``client_id``, ``product_code``,
    ``ordered_on`` (``datetime64[ns]``): what the business rules read of orders."""
    query = (
        select(Order.client_id, Product.code, Order.ordered_on)
        .join(Product, Product.id == Order.product_id)
        .where(Order.client_id.in_([int(c) for c in client_ids]), Order.status.in_(_BOUGHT))
    )
    with db.engine.connect() as conn:
        rows = conn.execute(query).all()
    return {
        "client_id": np.array([int(r[0]) for r in rows], dtype=np.int64),
        "product_code": np.array([str(r[1]) for r in rows], dtype=object),
        "ordered_on": np.array([r[2] for r in rows], dtype="datetime64[ns]"),
    }


def product_named(session: Session, *, code: str) -> Product | None:
    """The catalogue product ``code`` inside the caller's session, or ``None``."""
    return session.scalar(select(Product).where(Product.code == code))


def order_named(session: Session, *, external_id: str) -> int | None:
    """The id of the order ``external_id`` inside the caller's session, or ``None``."""
    return session.scalar(select(Order.id).where(Order.external_id == external_id))
