"""Clients added after the snapshot: their rows read from the store, appended to a history.

A live call may name a client imported after the serving snapshot was taken.
:func:`client_rows` reads that client, its commissions and orders (no personal
columns; the read itself is :func:`recsvc.store.queries.client_rows`) as the snapshot
would have them; :func:`with_client` returns the history with them appended, so the
recommender can serve the client without reloading the snapshot.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from recsvc.errors import NotFound
from recsvc.store import queries
from recsvc.store.db import Database
from recsvc.store.frames import Frames
from recsvc.store.queries import ClientRows

__all__ = ["ClientRows", "client_rows", "with_client"]


def client_rows(db: Database, client_id: int, cutoff: pd.Timestamp) -> ClientRows:
    """The client, its commissions and orders as frames (registration after ``cutoff``
    is unknown, as in a snapshot).

    Raises:
        NotFound: no such client.
    """
    rows = queries.client_rows(db, client_id=client_id)
    if rows is None:
        raise NotFound(f"no client {client_id}")
    cl = rows.clients
    cl["registered_on"] = cl["registered_on"].where(cl["registered_on"] < cutoff)
    return rows


def with_client(history: Frames, rows: ClientRows) -> Frames:
    """``history`` with ``rows`` appended (only the columns the history has)."""

    def grown(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
        # An empty or all-null column read from the store comes back as ``object``;
        # concatenated as it is, it turned the history's numeric columns into objects
        # (the ranker then refused a client without orders).
        new = new[[c for c in old.columns if c in new]]
        if new.empty:
            return old
        typed = {
            c: "float64" if old[c].dtype.kind in "biu" else old[c].dtype  # None has no int
            for c in new.columns
            if new[c].dtype == object and old[c].dtype.kind in "biufM" and new[c].isna().all()
        }
        return pd.concat([old, new.astype(typed)], ignore_index=True)

    return replace(
        history,
        clients=grown(history.clients, rows.clients),
        commissions=grown(history.commissions, rows.commissions),
        orders=grown(history.orders, rows.orders),
        stamp=None,  # no longer what the store held
    )
