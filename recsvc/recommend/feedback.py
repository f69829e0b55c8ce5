"""The feedback loop: impressions, outcomes, rates, and ranker features from them.

Every recommendation shown is an ``impression`` event (surface, model version, rank,
score); outcomes (``accepted``, ``declined`` with a :class:`DeclineReason`,
``purchased``) refer back to it. The next retrain reads the same events through
``Frames.events`` (:func:`feedback_features`) and the business rules turn recent
declines into cool-downs.

A ``purchased`` outcome of a product is also the order (:func:`order_for`): the business
rules read orders, so without one the product just bought would be offered again. The
order's ``external_id`` names the impression (``rec-<impression id>``), so one impression
never yields two orders. A call logged from the worklist is an interaction
(:func:`record_call`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import insert
from sqlalchemy.orm import Session

from recsvc.errors import InvalidInput, NotFound
from recsvc.store import queries
from recsvc.store.db import Database
from recsvc.store.enums import DeclineReason, EventType, InteractionKind, OrderStatus, Surface
from recsvc.store.models import Interaction, Order, RecommendationEvent

OUTCOMES = (EventType.ACCEPTED, EventType.DECLINED, EventType.PURCHASED, EventType.IGNORED)


@dataclass(frozen=True)
class Shown:
    """One item shown to a client (what an impression records)."""

    item_code: str
    rank: int
    score: float | None


@dataclass(frozen=True)
class Answer:
    """An outcome answering a stored impression of the same client (in a batch)."""

    impression_id: int
    outcome: EventType
    reason: DeclineReason | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record_impressions(
    db: Database,
    client_id: int,
    shown: Sequence[Shown],
    *,
    surface: Surface | str,
    model_version: str | None,
    actor: str | None = None,
    at: dt.datetime | None = None,
) -> list[int]:
    """Record one impression per shown item; returns the impression ids in order.

    One multi-row ``INSERT … RETURNING`` (the live recommendation path pays for it on
    every call, so no ORM objects are built).
    """
    if not shown:
        return []
    surface = Surface(surface)
    occurred = at or _now()
    rows = [
        {
            "event": EventType.IMPRESSION,
            "client_id": int(client_id),
            "item_code": item.item_code,
            "surface": surface,
            "model_version": model_version,
            "rank": int(item.rank),
            "score": None if item.score is None else float(item.score),
            "actor": actor,
            "occurred_at": occurred,
        }
        for item in shown
    ]
    stmt = insert(RecommendationEvent).returning(
        RecommendationEvent.id, sort_by_parameter_order=True
    )
    with db.engine.begin() as conn:  # Core: the ORM session's bookkeeping was half the cost
        return [int(i) for i in conn.execute(stmt, rows).scalars()]


def record_outcome(
    db: Database,
    outcome: EventType | str,
    *,
    impression_id: int | None = None,
    client_id: int | None = None,
    item_code: str | None = None,
    reason: DeclineReason | str | None = None,
    actor: str | None = None,
    surface: Surface | str = Surface.LIBRARIAN,
    at: dt.datetime | None = None,
    amount: float | None = None,
) -> int:
    """Record an outcome referring to an impression.

    Give ``impression_id``, or ``client_id`` and ``item_code`` (then the client's latest
    impression of that item is used; without one the outcome is recorded unattached).
    A ``purchased`` product is also recorded as its order, in the same transaction
    (:func:`order_for`; ``amount`` defaults to the catalogue price).

    Raises:
        InvalidInput: an unknown outcome, or a reason on a non-decline.
        NotFound: the impression does not exist.
    """
    try:
        outcome = EventType(outcome)
    except ValueError as exc:
        raise InvalidInput(f"unknown outcome {outcome!r}; use one of {list(OUTCOMES)}") from exc
    if outcome not in OUTCOMES:
        raise InvalidInput(f"{outcome} is not an outcome")
    if reason is not None:
        if outcome is not EventType.DECLINED:
            raise InvalidInput("a reason is only recorded with 'declined'")
        try:
            reason = DeclineReason(reason)
        except ValueError as exc:
            raise InvalidInput(f"unknown decline reason {reason!r}") from exc
    with db.session() as s:
        imp: RecommendationEvent | None = None
        if impression_id is not None:
            imp = s.get(RecommendationEvent, impression_id)
            if imp is None or imp.event != EventType.IMPRESSION:
                raise NotFound(f"no impression {impression_id}")
        elif client_id is not None and item_code is not None:
            imp = queries.latest_impression(s, client_id=client_id, item_code=item_code)
        else:
            raise InvalidInput("give impression_id, or client_id and item_code")
        row = RecommendationEvent(
            event=outcome,
            client_id=imp.client_id if imp else int(client_id),  # type: ignore[arg-type]
            item_code=imp.item_code if imp else str(item_code),
            impression_id=imp.id if imp else None,
            surface=imp.surface if imp else Surface(surface),
            model_version=imp.model_version if imp else None,
            rank=imp.rank if imp else None,
            score=imp.score if imp else None,
            reason=reason,
            actor=actor,
            occurred_at=at or _now(),
        )
        s.add(row)
        s.flush()
        order_for(s, row, amount=amount)
        return row.id


def record_batch(
    db: Database,
    client_id: int,
    items: Sequence[Shown | Answer],
    *,
    surface: Surface | str,
    model_version: str | None,
    actor: str | None = None,
    at: dt.datetime | None = None,
) -> list[int]:
    """Impressions and outcomes of one client in ONE transaction: all are stored or none.

    The caller has checked the items (codes, reasons, no outcome recorded twice); an
    outcome copies its impression's item, surface, version, rank and score, as
    :func:`record_outcome` does. Returns the event ids in order.

    Raises:
        NotFound: an answered impression does not exist or is another client's.
    """
    surface = Surface(surface)
    occurred = at or _now()
    with db.session() as s:
        rows: list[RecommendationEvent] = []
        for item in items:
            if isinstance(item, Shown):
                rows.append(
                    RecommendationEvent(
                        event=EventType.IMPRESSION,
                        client_id=int(client_id),
                        item_code=item.item_code,
                        surface=surface,
                        model_version=model_version,
                        rank=int(item.rank),
                        score=None if item.score is None else float(item.score),
                        actor=actor,
                        occurred_at=occurred,
                    )
                )
                continue
            imp = s.get(RecommendationEvent, item.impression_id)
            if imp is None or imp.event != EventType.IMPRESSION or imp.client_id != client_id:
                raise NotFound(f"no impression {item.impression_id}")
            rows.append(
                RecommendationEvent(
                    event=item.outcome,
                    client_id=imp.client_id,
                    item_code=imp.item_code,
                    impression_id=imp.id,
                    surface=imp.surface,
                    model_version=imp.model_version,
                    rank=imp.rank,
                    score=imp.score,
                    reason=item.reason,
                    actor=actor,
                    occurred_at=occurred,
                )
            )
        s.add_all(rows)
        s.flush()
        for row in rows:
            order_for(s, row)
        return [int(row.id) for row in rows]


def order_for(s: Session, outcome: RecommendationEvent, *, amount: float | None = None) -> None:
    """The order a ``purchased`` outcome of a product stands for, added in ``s``.

    Once per impression: the order is ``rec-<impression id>`` (``rec-event-<id>`` for an
    unattached outcome) and an existing one is kept. Dated the outcome's day, paid, for
    ``amount`` or the catalogue price. Outcomes of relationship actions (``action:…``)
    and anything but ``purchased`` add nothing.
    """
    if outcome.event != EventType.PURCHASED:
        return
    product = queries.product_named(s, code=outcome.item_code)
    if product is None:
        return
    if outcome.impression_id is not None:
        external_id = f"rec-{outcome.impression_id}"
    else:
        external_id = f"rec-event-{outcome.id}"
    if queries.order_named(s, external_id=external_id) is not None:
        return
    occurred = outcome.occurred_at or _now()
    s.add(
        Order(
            external_id=external_id,
            client_id=outcome.client_id,
            product_id=product.id,
            ordered_on=occurred.date(),
            amount=float(product.price if amount is None else amount),
            status=OrderStatus.PAID,
        )
    )
    s.flush()


def record_call(
    db: Database, client_id: int, *, staff: str | None, on: dt.date | None = None
) -> int:
    """A call with the client logged today (an ``interactions`` row of kind ``call``,
    no note: the work surface records that it happened, not what was said).
    Returns the interaction id."""
    with db.session() as s:
        row = Interaction(
            external_id=f"call-{uuid.uuid4().hex}",
            client_id=int(client_id),
            kind=InteractionKind.CALL,
            occurred_on=on or _now().date(),
            staff=staff,
        )
        s.add(row)
        s.flush()
        return int(row.id)


def rates_from_events(
    events: pd.DataFrame, by: Literal["product", "model_version"] = "product"
) -> pd.DataFrame:
    """Acceptance and conversion rates per product or per model version.

    An impression counts as accepted (or purchased) when an outcome event refers to
    it; ``acceptance_rate`` = (accepted or purchased) / impressions,
    ``conversion_rate`` = purchased / impressions, ``decline_rate`` likewise.
    """
    key = {"product": "item_code", "model_version": "model_version"}.get(by)
    if key is None:
        raise InvalidInput("by must be 'product' or 'model_version'")
    cols = ["impressions", "accepted", "declined", "purchased"]
    if events.empty:
        return pd.DataFrame(
            columns=[*cols, "acceptance_rate", "conversion_rate", "decline_rate"]
        ).rename_axis(by)
    ev = events.copy()
    ev["event"] = ev["event"].astype(str)
    imp = ev[ev["event"] == "impression"].set_index("event_id")
    out = ev[ev["event"] != "impression"].dropna(subset=["impression_id"])
    flags = pd.DataFrame(index=imp.index)
    for kind in ("accepted", "declined", "purchased"):
        ids = set(out.loc[out["event"] == kind, "impression_id"].astype(int))
        flags[kind] = imp.index.isin(ids)
    flags["accepted"] |= flags["purchased"]
    flags["impressions"] = True
    flags[by] = imp[key].fillna("(none)").astype(str)
    table = flags.groupby(by)[cols].sum().astype(int)
    n = table["impressions"].where(table["impressions"] > 0)
    table["acceptance_rate"] = table["accepted"] / n
    table["conversion_rate"] = table["purchased"] / n
    table["decline_rate"] = table["declined"] / n
    return table


def rates(db: Database, by: Literal["product", "model_version"] = "product") -> pd.DataFrame:
    """:func:`rates_from_events` over every event in the store."""
    return rates_from_events(queries.rate_events(db), by)


FEEDBACK_FEATURES = ("fb_impressions", "fb_accepts", "fb_declines", "fb_days_since_decline")


def feedback_features(
    events: pd.DataFrame, client_ids: np.ndarray, codes: np.ndarray, as_of: pd.Timestamp
) -> dict[str, np.ndarray]:
    """Per (client, product) counts of past impressions, accepts, declines before ``as_of``.

    Returns:
        Feature name → matrix ``(n_clients, n_products)``.
    """
    n, m = len(client_ids), len(codes)
    out = {name: np.zeros((n, m)) for name in FEEDBACK_FEATURES}
    out["fb_days_since_decline"][:] = np.nan
    if events is None or events.empty:
        return out
    ev = events[pd.to_datetime(events["occurred_at"]) < pd.Timestamp(as_of)]
    row = pd.Series(np.arange(n), index=pd.Index(np.asarray(client_ids, dtype=np.int64)))
    col = pd.Series(np.arange(m), index=pd.Index(codes))
    ev = ev[ev["client_id"].isin(row.index) & ev["item_code"].isin(col.index)]
    kinds = ev["event"].astype(str)
    for name, kind in (
        ("fb_impressions", {"impression"}),
        ("fb_accepts", {"accepted", "purchased"}),
        ("fb_declines", {"declined"}),
    ):
        sub = ev[kinds.isin(kind)]
        np.add.at(
            out[name],
            (row.loc[sub["client_id"]].to_numpy(), col.loc[sub["item_code"]].to_numpy()),
            1.0,
        )
    dec = ev[kinds == "declined"]
    if len(dec):
        last = dec.groupby(["client_id", "item_code"])["occurred_at"].max()
        days = (pd.Timestamp(as_of) - pd.to_datetime(last)).dt.days
        r = row.loc[last.index.get_level_values(0)].to_numpy()
        c = col.loc[last.index.get_level_values(1)].to_numpy()
        out["fb_days_since_decline"][r, c] = days.to_numpy()
    return out
