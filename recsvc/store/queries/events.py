"""Reads of recommendation events: a client's events (live cool-downs), what
acceptance rates count, impressions and their recorded outcomes, and the latest outcome
of each (client, item) the console shows instead of fresh buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from recsvc.store.db import Database
from recsvc.store.enums import EventType
from recsvc.store.models import RecommendationEvent

__all__ = [
    "LatestOutcome",
    "client_events",
    "event",
    "impression",
    "latest_impression",
    "latest_outcomes",
    "outcome_of",
    "rate_events",
]

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


_OUTCOME_TYPES = (EventType.ACCEPTED, EventType.DECLINED, EventType.PURCHASED)


@dataclass(frozen=True)
class LatestOutcome:
    """The latest outcome recorded for a client and an item."""

    event: EventType
    occurred_at: dt.datetime
    actor: str | None
    reason: str | None


def latest_outcomes(
    db: Database, *, pairs: Iterable[tuple[int, str]], since: dt.datetime
) -> dict[tuple[int, str], LatestOutcome]:
    """The latest accepted / declined / purchased event at or after ``since`` of each
    ``(client_id, item_code)`` pair that has one (one query for a page of rows)."""
    wanted = {(int(c), str(i)) for c, i in pairs}
    if not wanted:
        return {}
    query = (
        select(
            RecommendationEvent.client_id,
            RecommendationEvent.item_code,
            RecommendationEvent.event,
            RecommendationEvent.occurred_at,
            RecommendationEvent.actor,
            RecommendationEvent.reason,
        )
        .where(
            RecommendationEvent.client_id.in_(sorted({c for c, _ in wanted})),
            RecommendationEvent.event.in_(_OUTCOME_TYPES),
            RecommendationEvent.occurred_at >= since,
        )
        .order_by(RecommendationEvent.occurred_at, RecommendationEvent.id)
    )
    out: dict[tuple[int, str], LatestOutcome] = {}
    with db.engine.connect() as conn:
        for cid, item, event_type, at, actor, reason in conn.execute(query):
            key = (int(cid), str(item))
            if key in wanted:  # later rows replace earlier ones: the latest wins
                out[key] = LatestOutcome(
                    EventType(event_type), at, actor, None if reason is None else str(reason)
                )
    return out
