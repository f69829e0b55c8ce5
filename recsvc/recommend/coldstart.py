"""Clients added after the snapshot: their rows read from the store, appended to a history.

A live call may name a client imported after the serving snapshot was taken.
:func:`client_rows` reads that client, its commissions and orders (no personal
columns); :func:`with_client` returns the history with them appended, so the
recommender can serve the client without reloading the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd
from sqlalchemy import select

from recsvc.errors import NotFound
from recsvc.store.db import Database
from recsvc.store.frames import PERSONAL_COLUMNS, Frames
from recsvc.store.models import Client, Commission, Order, Product

__all__ = ["ClientRows", "client_rows", "with_client"]


@dataclass(frozen=True)
class ClientRows:
    """One client's rows in the frames' layout."""

    clients: pd.DataFrame
    commissions: pd.DataFrame
    orders: pd.DataFrame


def client_rows(db: Database, client_id: int, cutoff: pd.Timestamp) -> ClientRows:
    """The client, its commissions and orders as frames (registration after ``cutoff``
    is unknown, as in a snapshot).

    Raises:
        NotFound: no such client.
    """
    with db.engine.connect() as conn:
        cl = pd.read_sql(
            select(*[c for c in Client.__table__.columns if c.name not in PERSONAL_COLUMNS]).where(
                Client.id == client_id
            ),
            conn,
        ).rename(columns={"id": "client_id"})
        if cl.empty:
            raise NotFound(f"no client {client_id}")
        cm = pd.read_sql(
            select(
                *[c for c in Commission.__table__.columns if c.name not in PERSONAL_COLUMNS]
            ).where(Commission.client_id == client_id),
            conn,
        ).rename(columns={"id": "commission_id"})
        od = pd.read_sql(
            select(*Order.__table__.columns, Product.code.label("product_code"))
            .join(Product, Product.id == Order.product_id)
            .where(Order.client_id == client_id),
            conn,
        ).rename(columns={"id": "order_id"})
    for df, cols in (
        (cl, ("registered_on",)),
        (cm, ("commissioned_on", "completed_on")),
        (od, ("ordered_on",)),
    ):
        for c in cols:
            df[c] = pd.to_datetime(df[c])
    cl["registered_on"] = cl["registered_on"].where(cl["registered_on"] < cutoff)
    return ClientRows(cl, cm, od)


def with_client(history: Frames, rows: ClientRows) -> Frames:
    """``history`` with ``rows`` appended (only the columns the history has)."""

    def grown(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([old, new[[c for c in old.columns if c in new]]], ignore_index=True)

    return replace(
        history,
        clients=grown(history.clients, rows.clients),
        commissions=grown(history.commissions, rows.commissions),
        orders=grown(history.orders, rows.orders),
    )
