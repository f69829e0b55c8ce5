"""The one bulk reader for modelling: the store as pandas DataFrames.

Everything downstream (embeddings, features, models, evaluation) reads the store
through :func:`load_frames`. It never selects the ``contacts`` table, ``contact_id``,
or free-text fields that may carry people's names (interaction notes, feedback
comments, complaint descriptions), so personal data cannot reach a feature, an index
or a model artifact by accident. ``tests/test_frames.py`` pins that.

Clients are identified by the integer ``client_id`` inside the library; the public
``external_id`` is carried alongside for the edges (API, CLI) to translate once.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select

from recsvc.store.db import Database
from recsvc.store.models import (
    Client,
    Commission,
    Complaint,
    Feedback,
    Interaction,
    Order,
    Product,
    RecommendationEvent,
)

#: Columns that must never leave the store through a frame.
PERSONAL_COLUMNS = frozenset(
    {"contact_id", "name", "registered_name", "email", "phone", "note", "comment", "description"}
)


@dataclass
class Frames:
    """A snapshot of the store, one DataFrame per entity (dates as ``datetime64``)."""

    clients: pd.DataFrame
    commissions: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame
    feedback: pd.DataFrame
    complaints: pd.DataFrame
    events: pd.DataFrame

    def as_of(self, cutoff: pd.Timestamp) -> Frames:
        """Only what was known strictly before ``cutoff`` (the point-in-time view).

        Clients registered after the cutoff are dropped; a complaint's response and
        resolution times after the cutoff are masked as not yet happened.
        """
        cutoff = pd.Timestamp(cutoff)
        c = self.clients
        clients = c[c["registered_on"].isna() | (c["registered_on"] < cutoff)]
        complaints = self.complaints[self.complaints["opened_at"] < cutoff].copy()
        for col in ("responded_at", "resolved_at"):
            complaints.loc[complaints[col] >= cutoff, col] = pd.NaT
        commissions = self.commissions[self.commissions["commissioned_on"] < cutoff].copy()
        commissions.loc[commissions["completed_on"] >= cutoff, "completed_on"] = pd.NaT
        return Frames(
            clients=clients,
            commissions=commissions,
            products=self.products,
            orders=self.orders[self.orders["ordered_on"] < cutoff],
            interactions=self.interactions[self.interactions["occurred_on"] < cutoff],
            feedback=self.feedback[self.feedback["received_on"] < cutoff],
            complaints=complaints,
            events=self.events[self.events["occurred_at"] < cutoff],
        )

    @property
    def latest_date(self) -> pd.Timestamp:
        """The newest activity date in the snapshot (the natural 'now' for demo data)."""
        dates = [
            self.commissions["commissioned_on"].max(),
            self.orders["ordered_on"].max(),
            self.interactions["occurred_on"].max(),
        ]
        valid = [d for d in dates if pd.notna(d)]
        return max(valid) if valid else pd.Timestamp.now().normalize()


def _columns(model: type, exclude: set[str] | frozenset[str] = PERSONAL_COLUMNS) -> list:
    return [c for c in model.__table__.columns if c.name not in exclude]  # type: ignore[attr-defined]


def _read(db: Database, stmt: Select, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    with db.engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    for col in dates:
        df[col] = (
            pd.to_datetime(df[col], utc=False).dt.tz_localize(None)
            if len(df)
            else (pd.to_datetime(df[col]))
        )
    return df


def load_frames(db: Database) -> Frames:
    """Read the whole store (minus personal data) into :class:`Frames`."""
    skip = PERSONAL_COLUMNS | {"created_at", "updated_at"}
    clients = _read(
        db,
        select(*_columns(Client, skip)).order_by(Client.id),
        ("registered_on",),
    ).rename(columns={"id": "client_id"})
    commissions = _read(
        db,
        select(*_columns(Commission, skip)).order_by(Commission.commissioned_on, Commission.id),
        ("commissioned_on", "completed_on"),
    ).rename(columns={"id": "commission_id"})
    products = _read(db, select(*_columns(Product, skip)).order_by(Product.id)).rename(
        columns={"id": "product_id"}
    )
    orders = _read(
        db,
        select(*_columns(Order, skip), Product.code.label("product_code"))
        .join(Product, Product.id == Order.product_id)
        .order_by(Order.ordered_on, Order.id),
        ("ordered_on",),
    ).rename(columns={"id": "order_id"})
    interactions = _read(
        db, select(*_columns(Interaction, skip)).order_by(Interaction.occurred_on), ("occurred_on",)
    ).rename(columns={"id": "interaction_id"})
    feedback = _read(
        db, select(*_columns(Feedback, skip)).order_by(Feedback.received_on), ("received_on",)
    ).rename(columns={"id": "feedback_id"})
    complaints = _read(
        db,
        select(*_columns(Complaint, skip)).order_by(Complaint.opened_at),
        ("opened_at", "responded_at", "resolved_at"),
    ).rename(columns={"id": "complaint_id"})
    events = _read(
        db,
        select(*_columns(RecommendationEvent, skip)).order_by(RecommendationEvent.occurred_at),
        ("occurred_at",),
    ).rename(columns={"id": "event_id"})
    frames = Frames(
        clients=clients,
        commissions=commissions,
        products=products,
        orders=orders,
        interactions=interactions,
        feedback=feedback,
        complaints=complaints,
        events=events,
    )
    for f in fields(frames):
        leaked = PERSONAL_COLUMNS & set(getattr(frames, f.name).columns)
        if leaked:  # a guard against a future column slipping through, not a validation
            raise RuntimeError(f"personal columns {sorted(leaked)} reached frame {f.name}")
    return frames


#: The tables :func:`load_frames` reads, for :func:`data_stamp`.
SNAPSHOT_TABLES = (
    Client,
    Commission,
    Product,
    Order,
    Interaction,
    Feedback,
    Complaint,
    RecommendationEvent,
)


def data_stamp(db: Database) -> str:
    """What :func:`load_frames` would read, summarised cheaply: per table the row count,
    the largest id and the latest ``updated_at``. Equal stamps mean a snapshot already
    read is still the store's (inserts, deletes, imports and edits all change it)."""
    parts = []
    with db.session() as s:
        for model in SNAPSHOT_TABLES:
            cols: list[Any] = [func.count(), func.max(model.id)]
            if hasattr(model, "updated_at"):
                cols.append(func.max(model.updated_at))
            parts.append([str(v) for v in s.execute(select(*cols)).one()])
    return json.dumps(parts)


_T = TypeVar("_T")
_F = TypeVar("_F")


def memo_per_frame(fn: Callable[[_F], _T]) -> Callable[[_F], _T]:
    """Memoise ``fn(frame)`` per frame object (a snapshot's frames are not changed in
    place): for indexes a live call would otherwise rebuild from the same frame, and
    for the digest of a whole snapshot (:func:`snapshot_digest`).

    Keyed by identity and holding the frame, so a key is never a recycled id; the memo
    is dropped whole past 16 frames (a process serves one or two snapshots at a time).
    """
    memo: dict[int, tuple[_F, _T]] = {}

    @functools.wraps(fn)
    def wrapper(frame: _F) -> _T:
        hit = memo.get(id(frame))
        if hit is None or hit[0] is not frame:
            if len(memo) > 16:
                memo.clear()
            hit = (frame, fn(frame))
            memo[id(frame)] = hit
        return hit[1]

    return wrapper


@memo_per_frame
def column_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each column of ``frame`` as its array, kept per frame: a live call slices a few
    rows of a few columns, where a column access or a frame of those rows cost more
    than the work done with them."""
    return {str(c): frame[c].to_numpy() for c in frame.columns}


def digest_tables(h: Any, tables: Iterable[pd.DataFrame | pd.Series | None]) -> None:
    """Feed the contents of ``tables`` (column names, index, every cell) into the
    hashlib object ``h``; ``None`` counts as a table too."""
    for table in tables:
        if table is None:
            h.update(b"none")
            continue
        frame = table if isinstance(table, pd.DataFrame) else table.to_frame()
        h.update(json.dumps([str(n) for n in frame.columns]).encode())
        h.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
        for _, col in frame.items():
            try:
                hashed = pd.util.hash_pandas_object(col, index=False)
            except TypeError:  # JSON cells (dicts, lists): hashed by their text
                hashed = pd.util.hash_pandas_object(col.map(repr), index=False)
            h.update(hashed.to_numpy().tobytes())


@memo_per_frame
def snapshot_digest(frames: Frames) -> str:
    """A digest of every table of ``frames``, computed once per snapshot object.

    The serving files of a snapshot (value scores, ranker scores) are keyed by it; a
    load checks two or three of them against the same frames, and hashing every cell
    of a 100,000-client snapshot takes seconds.
    """
    h = hashlib.sha256()
    digest_tables(h, (getattr(frames, f.name) for f in fields(frames)))
    return h.hexdigest()
