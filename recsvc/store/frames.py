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

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Select, select

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
from recsvc.store.stamp import read_stamp

#: The tables of a :class:`Frames`, in order.
TABLES = (
    "clients",
    "commissions",
    "products",
    "orders",
    "interactions",
    "feedback",
    "complaints",
    "events",
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
    stamp: str | None = field(default=None, compare=False, repr=False)
    """The store's :func:`~recsvc.store.stamp.data_stamp` taken just before
    :func:`load_frames` read these tables, when the store had settled
    (:func:`~recsvc.store.stamp.read_stamp`); ``None`` for frames derived from a read
    (:meth:`as_of`, a client appended) or built in memory. Equal stamps mean equal
    tables (:func:`~recsvc.store.stamp.snapshot_digest`,
    :class:`~recsvc.serving.SnapshotHolder`)."""

    def tables(self) -> dict[str, pd.DataFrame]:
        """Each table by name, in :data:`TABLES` order."""
        return {name: getattr(self, name) for name in TABLES}

    def as_of(self, cutoff: pd.Timestamp) -> Frames:
        """Only what was known strictly before ``cutoff`` (the point-in-time view).

        Clients registered after the cutoff are dropped; a complaint's response and
        resolution times after the cutoff are masked as not yet happened.
        """
        cutoff = pd.Timestamp(cutoff)
        c = self.clients
        clients = _kept(c, c["registered_on"].isna() | (c["registered_on"] < cutoff))
        complaints = _masked(
            _kept(self.complaints, self.complaints["opened_at"] < cutoff),
            ("responded_at", "resolved_at"),
            cutoff,
        )
        commissions = _masked(
            _kept(self.commissions, self.commissions["commissioned_on"] < cutoff),
            ("completed_on",),
            cutoff,
        )
        return Frames(
            clients=clients,
            commissions=commissions,
            products=self.products,
            orders=_kept(self.orders, self.orders["ordered_on"] < cutoff),
            interactions=_kept(self.interactions, self.interactions["occurred_on"] < cutoff),
            feedback=_kept(self.feedback, self.feedback["received_on"] < cutoff),
            complaints=complaints,
            events=_kept(self.events, self.events["occurred_at"] < cutoff),
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


def _kept(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """The rows of ``frame`` where ``keep``, over the same data when they are its first
    rows: a table read in date order keeps a prefix at any cutoff, which copy-on-write
    copies only should either side change. Taking the rows at a server's start cost
    1.1 s at 100,000 clients when every row was kept, 0.17 s when the last day's were
    not (a training's cutoffs take a prefix too)."""
    mask = keep.to_numpy(dtype=bool)
    n = int(np.count_nonzero(mask))
    return frame.iloc[:n] if bool(mask[:n].all()) else frame[mask]


def _masked(frame: pd.DataFrame, columns: tuple[str, ...], cutoff: pd.Timestamp) -> pd.DataFrame:
    """``frame`` with the dates of ``columns`` on or after ``cutoff`` as not yet
    happened (``NaT``); only those columns are new, the others stay shared."""
    late = {c: frame[c] >= cutoff for c in columns}
    masked = {c: frame[c].mask(m) for c, m in late.items() if bool(m.any())}
    return frame.assign(**masked) if masked else frame


def _columns(model: type, exclude: set[str] | frozenset[str] = PERSONAL_COLUMNS) -> list:
    return [c for c in model.__table__.columns if c.name not in exclude]  # type: ignore[attr-defined]


def _read(db: Database, stmt: Select, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    with db.engine.connect() as conn:
        # the driver's rows become one row-major array of objects, and a text column
        # of it is a strided view: taking a few of its rows copies the whole column
        # first (1.2 ms a take at 10,000 clients). Copied, each column is contiguous.
        df = shared_strings(pd.read_sql(stmt, conn)).copy()
    for col in dates:
        df[col] = (
            pd.to_datetime(df[col], utc=False).dt.tz_localize(None)
            if len(df)
            else (pd.to_datetime(df[col]))
        )
    return df


#: Leading cells of a text column :func:`shared_strings` looks at to tell whether its
#: values repeat.
SAMPLE = 1000


def shared_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text column whose values repeat holding one string object
    per distinct value (the same values, the same dtype).

    The store hands back a new object for every cell: at 100,000 clients a few dozen
    purposes, fields and feedback kinds were millions of strings. Shared, they are
    pickled once each, so the snapshot a server unpickles at start (and the frames
    sent to each training worker) shrink with them (900,000 cells of 7 values: 22.5 →
    1.8 MB, unpickled in 0.03 s instead of 0.23 s).
    """
    shared = {}
    for name, column in frame.items():
        if not isinstance(column.dtype, pd.StringDtype) or len(column) < 2:
            continue
        if column.iloc[:SAMPLE].nunique() > min(len(column), SAMPLE) // 2:
            continue  # mostly distinct (ids, titles, keywords): hashing them would not pay
        codes, uniques = pd.factorize(column)
        values = np.asarray(uniques, dtype=object)[codes]
        values[codes < 0] = column.dtype.na_value
        shared[name] = pd.Series(values, index=column.index, dtype=column.dtype)
    return frame.assign(**shared) if shared else frame


def load_frames(db: Database) -> Frames:
    """Read the whole store (minus personal data) into :class:`Frames`, stamped with
    :func:`~recsvc.store.stamp.read_stamp` taken before the read (a change made during
    the read makes the next stamp differ)."""
    stamp = read_stamp(db)
    skip = PERSONAL_COLUMNS | {"created_at", "updated_at"}
    # the centre's own numbers of interactions, feedback and complaints: nothing models
    # them, and at 100,000 clients their 2.2 M strings were 0.2 s of a server's start
    unnumbered = skip | {"external_id"}
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
        db,
        select(*_columns(Interaction, unnumbered)).order_by(Interaction.occurred_on),
        ("occurred_on",),
    ).rename(columns={"id": "interaction_id"})
    feedback = _read(
        db, select(*_columns(Feedback, unnumbered)).order_by(Feedback.received_on), ("received_on",)
    ).rename(columns={"id": "feedback_id"})
    complaints = _read(
        db,
        select(*_columns(Complaint, unnumbered)).order_by(Complaint.opened_at),
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
        stamp=stamp,
    )
    for name, table in frames.tables().items():
        leaked = PERSONAL_COLUMNS & set(table.columns)
        if leaked:  # a guard against a future column slipping through, not a validation
            raise RuntimeError(f"personal columns {sorted(leaked)} reached frame {name}")
    return frames
