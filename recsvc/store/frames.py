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

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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

#: A store whose latest edit is this recent is not stamped (:func:`read_stamp`).
SETTLE = dt.timedelta(seconds=1)

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
    """The store's :func:`data_stamp` taken just before :func:`load_frames` read these
    tables, when the store had settled (:func:`read_stamp`); ``None`` for frames derived
    from a read (:meth:`as_of`, a client appended) or built in memory. Equal stamps
    mean equal tables (:func:`snapshot_digest`, :class:`~recsvc.serving.SnapshotHolder`)."""

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
    """The rows of ``frame`` where ``keep``; when that is every row (a server's snapshot
    at today's cutoff), a frame over the same data, which copy-on-write copies only
    should either side change: taking every row of the store took 1.1 s of a start at
    100,000 clients."""
    return frame.copy(deep=False) if bool(keep.all()) else frame[keep]


def _masked(frame: pd.DataFrame, columns: tuple[str, ...], cutoff: pd.Timestamp) -> pd.DataFrame:
    """``frame`` with the dates of ``columns`` on or after ``cutoff`` as not yet
    happened (``NaT``)."""
    late = {c: frame[c] >= cutoff for c in columns}
    if not any(bool(m.any()) for m in late.values()):
        return frame
    frame = frame.copy()
    for c, m in late.items():
        frame.loc[m, c] = pd.NaT
    return frame


def _columns(model: type, exclude: set[str] | frozenset[str] = PERSONAL_COLUMNS) -> list:
    return [c for c in model.__table__.columns if c.name not in exclude]  # type: ignore[attr-defined]


def _read(db: Database, stmt: Select, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    with db.engine.connect() as conn:
        df = shared_strings(pd.read_sql(stmt, conn))
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
    :func:`read_stamp` taken before the read (a change made during the read makes the
    next stamp differ)."""
    stamp = read_stamp(db)
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
        stamp=stamp,
    )
    for name, table in frames.tables().items():
        leaked = PERSONAL_COLUMNS & set(table.columns)
        if leaked:  # a guard against a future column slipping through, not a validation
            raise RuntimeError(f"personal columns {sorted(leaked)} reached frame {name}")
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
    """What :func:`load_frames` would read, summarised cheaply: the database, and per
    table the row count, the largest id and the latest ``updated_at``. Equal stamps
    mean a snapshot already read is still the store's (inserts, deletes, imports and
    edits all change it), unless the store was edited within :data:`SETTLE` of the
    stamp (:func:`read_stamp`)."""
    return _stamp(db)[0]


def read_stamp(db: Database) -> str | None:
    """:func:`data_stamp`, or ``None`` while the store's latest edit is under
    :data:`SETTLE` old by the database's clock.

    ``updated_at`` has whole seconds on SQLite, so an edit in the same second as the
    latest one would leave the stamp as it was; once that second is over, any edit
    gets a later ``updated_at``. (On PostgreSQL ``updated_at`` is its transaction's
    start: an edit whose transaction began more than :data:`SETTLE` before the latest
    edit's and commits after the stamp is not seen; imports insert rows, which the
    counts see.) A snapshot read from an unsettled store has no stamp: nothing is
    keyed by it, and a holder reads the store again next time.
    """
    stamp, latest, now = _stamp(db)
    if latest is not None and (now is None or _naive(latest) > _naive(now) - SETTLE):
        return None
    return stamp


def _stamp(db: Database) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    """The stamp, the latest ``updated_at`` of any table and the database's clock now
    (``now()``, which writes ``updated_at``).

    One statement of single-aggregate subqueries: SQLite answers a lone ``max`` of an
    indexed column from the index, but scans the table for ``count(*), max(...)``
    together (0.36 s against 0.03 s for 1.2 M feedback rows).
    """
    columns: list[Any] = []
    for model in SNAPSHOT_TABLES:
        aggregates: list[Any] = [func.count(), func.max(model.id)]
        if hasattr(model, "updated_at"):
            aggregates.append(func.max(model.updated_at))
        columns += [select(a).select_from(model).scalar_subquery() for a in aggregates]
    with db.session() as s:
        row = list(s.execute(select(*columns, func.now())).one())
    clock = row.pop()
    parts: list[Any] = [db.engine.url.render_as_string(hide_password=True)]
    edits: list[dt.datetime] = []
    for model in SNAPSHOT_TABLES:
        width = 3 if hasattr(model, "updated_at") else 2
        values, row = row[:width], row[width:]
        parts.append([str(v) for v in values])
        if width == 3 and values[2] is not None:
            edits.append(values[2])
    return json.dumps(parts), max(edits, key=_naive) if edits else None, clock


def _naive(when: dt.datetime) -> dt.datetime:
    """``when`` as naive UTC (SQLite's ``CURRENT_TIMESTAMP`` is naive UTC already)."""
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo is not None else when


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


#: Snapshot digests by the stamp of the read they were computed for
#: (:func:`remember_digest`).
_DIGESTS: dict[str, str] = {}


def remember_digest(stamp: str | None, digest: str) -> None:
    """Take ``digest`` as the :func:`snapshot_digest` of any snapshot read with
    ``stamp``: a process that opens a version reads the digest training wrote for the
    store's stamp instead of hashing every cell (6.4 s at 100,000 clients)."""
    if stamp is None:
        return
    if len(_DIGESTS) > 16:
        _DIGESTS.clear()
    _DIGESTS[stamp] = digest


@memo_per_frame
def snapshot_digest(frames: Frames) -> str:
    """A digest of every table of ``frames``, computed once per snapshot object, or
    the one remembered for their :attr:`Frames.stamp` (:func:`remember_digest`).

    The serving files of a snapshot (value scores, ranker scores, commission vectors)
    are keyed by it.
    """
    known = _DIGESTS.get(frames.stamp) if frames.stamp is not None else None
    if known is not None:
        return known
    h = hashlib.sha256()
    digest_tables(h, frames.tables().values())
    digest = h.hexdigest()
    remember_digest(frames.stamp, digest)
    return digest
