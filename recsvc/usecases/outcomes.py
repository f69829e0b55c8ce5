"""What the work surface shows of recorded outcomes: for each offer on a page, the
latest accepted / declined / purchased (when, by which staff key, why), so a reload shows
the outcome instead of fresh buttons; and calls logged from it.

An outcome stays current for the decline cool-down (``decline_cooldown_days``): after
that the product may be offered again, and its buttons come back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from recsvc.recommend import feedback
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import EventType

__all__ = ["CallLogged", "OutcomeState", "log_call", "outcome_states"]


@dataclass(frozen=True)
class OutcomeState:
    """The outcome an offer already has: ``accepted`` on ``on`` by the key ``by``."""

    event: EventType
    on: dt.date
    by: str | None
    reason: str | None = None


@dataclass(frozen=True)
class CallLogged:
    """A call logged with a client (an interaction of kind ``call``)."""

    id: int
    on: dt.date
    by: str | None


def outcome_states(
    rt: Runtime, *, pairs: Iterable[tuple[int, str]], now: dt.datetime | None = None
) -> dict[tuple[int, str], OutcomeState]:
    """The current outcome of each ``(client_id, item_code)`` that has one (one query).

    Actors are staff key names (or ``portal`` / ``cli``), never client personal data.
    """
    now = now or dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=rt.settings.decline_cooldown_days)
    found = queries.latest_outcomes(rt.db, pairs=pairs, since=since)
    return {
        key: OutcomeState(o.event, o.occurred_at.date(), o.actor, o.reason)
        for key, o in found.items()
    }


def log_call(rt: Runtime, *, client_id: int, actor: str | None) -> CallLogged:
    """Log a call with the client today, by the staff key ``actor`` (no free text)."""
    today = dt.datetime.now(dt.UTC).date()
    interaction_id = feedback.record_call(rt.db, client_id, staff=actor, on=today)
    return CallLogged(interaction_id, today, actor)
