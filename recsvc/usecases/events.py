"""Recommendation events: impressions shown and their outcomes (accepted, declined with
a reason, purchased), from librarians, the portal, the worklist and the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recsvc.errors import Conflict, InvalidInput, NotFound, Problem
from recsvc.recommend import feedback
from recsvc.recommend.feedback import Shown
from recsvc.recommend.worklist import WorklistRow
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import DeclineReason, EventType, Surface

__all__ = [
    "Event",
    "PortalEvent",
    "record_item_outcome",
    "record_outcome",
    "record_portal_events",
    "record_worklist",
]


@dataclass(frozen=True)
class Event:
    """A recorded recommendation event."""

    id: int
    event: EventType
    item_code: str
    impression_id: int | None
    surface: Surface
    model_version: str | None


@dataclass(frozen=True)
class PortalEvent:
    """What the portal reports: an impression (``item_code``) or an outcome of one
    (``impression_id``)."""

    event: str
    item_code: str | None = None
    impression_id: int | None = None
    rank: int | None = None
    reason: DeclineReason | str | None = None


def record_outcome(
    rt: Runtime,
    *,
    impression_id: int,
    outcome: str,
    reason: DeclineReason | str | None = None,
    actor: str | None = None,
    client_id: int | None = None,
) -> Event:
    """Record accepted / declined (with a reason) / purchased for an impression.

    Args:
        client_id: when given (portal, console), the impression must belong to this
            client; another client's impression is reported as not found.

    Raises:
        NotFound: no such impression (or not this client's).
        Conflict: the impression already has this outcome.
        InvalidInput: a reason on anything but a decline.
    """
    imp = queries.impression(rt.db, impression_id=impression_id)
    if (
        imp is None
        or imp.event != EventType.IMPRESSION
        or (client_id is not None and imp.client_id != client_id)
    ):
        raise NotFound(f"no impression {impression_id}")
    if queries.outcome_of(rt.db, impression_id=impression_id, outcome=outcome) is not None:
        raise Conflict(f"impression {impression_id} already has outcome {outcome!r}")
    event_id = feedback.record_outcome(
        rt.db, outcome, impression_id=impression_id, reason=reason, actor=actor
    )
    return _event(rt, event_id)


def record_item_outcome(
    rt: Runtime,
    *,
    client_id: int,
    item_code: str,
    outcome: str,
    reason: DeclineReason | str | None = None,
    actor: str | None = None,
) -> Event:
    """Record an outcome for the client's latest impression of ``item_code``.

    Raises:
        InvalidInput: not accepted, declined or purchased; or a reason on anything
            but a decline.
        NotFound: the client was never shown that item.
    """
    if outcome not in (EventType.ACCEPTED, EventType.DECLINED, EventType.PURCHASED):
        raise InvalidInput("outcome must be accepted, declined or purchased")
    event_id = feedback.record_outcome(
        rt.db, outcome, client_id=client_id, item_code=item_code, reason=reason, actor=actor
    )
    return _event(rt, event_id)


def record_portal_events(
    rt: Runtime, *, client_id: int, events: Sequence[PortalEvent]
) -> list[Event]:
    """Impressions (need ``item_code``) and outcomes (need ``impression_id``) from the
    portal of ``client_id``; outcomes may only answer this client's impressions.

    Raises:
        InvalidInput: an unknown item code, or an outcome without ``impression_id``.
        NotFound, Conflict: as :func:`record_outcome`.
    """
    bundle = rt.bundle
    version = bundle.version if bundle is not None else None
    out: list[Event] = []
    codes = queries.product_codes(rt.db)
    for i, e in enumerate(events):
        if e.event == EventType.IMPRESSION:
            code = e.item_code
            if not code or (code not in codes and not code.startswith("action:")):
                raise InvalidInput(
                    f"events[{i}]: unknown item_code {code!r}",
                    problems=[Problem("unknown item code", field=f"events.{i}.item_code")],
                )
            (eid,) = feedback.record_impressions(
                rt.db,
                client_id,
                [Shown(item_code=code, rank=int(e.rank or 1), score=None)],
                surface=Surface.PORTAL,
                model_version=version,
                actor="portal",
            )
            out.append(Event(eid, EventType.IMPRESSION, code, None, Surface.PORTAL, version))
        else:
            if e.impression_id is None:
                raise InvalidInput(
                    f"events[{i}]: an outcome needs impression_id",
                    problems=[
                        Problem("required for an outcome", field=f"events.{i}.impression_id")
                    ],
                )
            out.append(
                record_outcome(
                    rt,
                    impression_id=e.impression_id,
                    outcome=e.event,
                    reason=e.reason,
                    actor="portal",
                    client_id=client_id,
                )
            )
    return out


def record_worklist(
    rt: Runtime, *, rows: Sequence[WorklistRow], version: str, actor: str | None = None
) -> None:
    """Record each worklist row's offer as an impression on the worklist surface."""
    for r in rows:
        feedback.record_impressions(
            rt.db,
            r.client_id,
            [Shown(r.product_code, 1, r.score)],
            surface=Surface.WORKLIST,
            model_version=version,
            actor=actor,
        )


def _event(rt: Runtime, event_id: int) -> Event:
    event = queries.event(rt.db, event_id=event_id)
    assert event is not None
    return Event(
        id=event.id,
        event=EventType(event.event),
        item_code=event.item_code,
        impression_id=event.impression_id,
        surface=Surface(event.surface),
        model_version=event.model_version,
    )
