"""Recommendation events: impressions shown and their outcomes (accepted, declined with
a reason, purchased), from librarians, the portal, the worklist and the CLI.

An item code is a catalogue product code or a known relationship action
(:data:`ACTION_CODES`, ``action:fixed_contact`` …); anything else is refused. A portal
batch is all or nothing: every event is checked before one transaction writes them.

A librarian's decline needs a reason the librarian picked (none is assumed). A
``purchased`` product is also its order, once per impression (see
:mod:`recsvc.recommend.feedback`), so the next recommendation leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recsvc.errors import Conflict, InvalidInput, NotFound, Problem
from recsvc.recommend import feedback
from recsvc.recommend.feedback import Answer, Shown
from recsvc.recommend.worklist import WorklistRow
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.enums import DeclineReason, EventType, Surface
from recsvc.value import STRATEGIES

__all__ = [
    "ACTION_CODES",
    "Event",
    "PortalEvent",
    "record_item_outcome",
    "record_outcome",
    "record_portal_events",
    "record_worklist",
]


#: Item codes of the relationship actions events may name (``action:fixed_contact`` …).
ACTION_CODES: frozenset[str] = frozenset(
    action.item_code for actions in STRATEGIES.values() for action in actions
)
_OUTCOMES = (EventType.ACCEPTED, EventType.DECLINED, EventType.PURCHASED)


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
    amount: float | None = None,
) -> Event:
    """Record accepted / declined (with a reason) / purchased for an impression.

    Args:
        client_id: when given (portal, console), the impression must belong to this
            client; another client's impression is reported as not found.
        amount: the order's amount when ``purchased`` (default: the catalogue price).

    Raises:
        NotFound: no such impression (or not this client's).
        Conflict: the impression already has this outcome.
        InvalidInput: a decline without a reason, or a reason on anything but a decline.
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
    _require_reason(outcome, reason)
    event_id = feedback.record_outcome(
        rt.db, outcome, impression_id=impression_id, reason=reason, actor=actor, amount=amount
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
    shown_on: Surface | None = None,
    amount: float | None = None,
) -> Event:
    """Record an outcome for the client's latest impression of ``item_code``.

    Args:
        shown_on: the surface the item was seen on (the worklist); when the client has
            no impression of it yet, one is recorded there first, so the outcome (and a
            purchase's order) belongs to an impression.
        amount: the order's amount when ``purchased`` (default: the catalogue price).

    Raises:
        InvalidInput: not accepted, declined or purchased; a decline without a reason
            or a reason on anything but a decline; or an item code that is neither a
            product nor a known action.
        Conflict: the latest impression already has this outcome.
    """
    if outcome not in _OUTCOMES:
        raise InvalidInput("outcome must be accepted, declined or purchased")
    _require_reason(outcome, reason)
    _check_item_code(item_code, queries.product_codes(rt.db), field="item_code", where="")
    with rt.db.session() as s:
        latest = queries.latest_impression(s, client_id=client_id, item_code=item_code)
        impression_id = None if latest is None else latest.id
    if impression_id is None and shown_on is not None:
        bundle = rt.bundle
        (impression_id,) = feedback.record_impressions(
            rt.db,
            client_id,
            [Shown(item_code, 1, None)],
            surface=shown_on,
            model_version=bundle.version if bundle is not None else None,
            actor=actor,
        )
    if impression_id is None:
        event_id = feedback.record_outcome(
            rt.db,
            outcome,
            client_id=client_id,
            item_code=item_code,
            reason=reason,
            actor=actor,
            amount=amount,
        )
        return _event(rt, event_id)
    return record_outcome(
        rt,
        impression_id=impression_id,
        outcome=outcome,
        reason=reason,
        actor=actor,
        client_id=client_id,
        amount=amount,
    )


def _require_reason(outcome: str, reason: DeclineReason | str | None) -> None:
    """A decline names the reason the librarian picked; none is assumed."""
    if outcome == EventType.DECLINED and not reason:
        raise InvalidInput(
            "a decline needs the reason the client gave",
            problems=[Problem("required with 'declined'", field="reason")],
        )


def record_portal_events(
    rt: Runtime, *, client_id: int, events: Sequence[PortalEvent]
) -> list[Event]:
    """Impressions (need ``item_code``) and outcomes (need ``impression_id``) from the
    portal of ``client_id``; outcomes may only answer this client's impressions.

    All or nothing: every event is checked first, then the batch is written in one
    transaction, so a rejected batch stores none of its events. A problem names the
    event's index (``events.1.item_code``).

    Raises:
        InvalidInput: an item code that is neither a product nor a known action, an
            outcome without ``impression_id``, or a reason on anything but a decline.
        NotFound: an outcome answers no impression of this client.
        Conflict: the impression already has that outcome (stored, or earlier in the batch).
    """
    bundle = rt.bundle
    version = bundle.version if bundle is not None else None
    items = _checked_batch(rt, client_id, events)
    ids = feedback.record_batch(
        rt.db, client_id, items, surface=Surface.PORTAL, model_version=version, actor="portal"
    )
    return [_event(rt, event_id) for event_id in ids]


def _checked_batch(
    rt: Runtime, client_id: int, events: Sequence[PortalEvent]
) -> list[Shown | Answer]:
    """The batch as items to record, or the first event's problem raised."""
    codes = queries.product_codes(rt.db)
    answered: set[tuple[int, EventType]] = set()
    items: list[Shown | Answer] = []
    for i, e in enumerate(events):
        where = f"events[{i}]: "
        if e.event == EventType.IMPRESSION:
            code = _check_item_code(e.item_code, codes, field=f"events.{i}.item_code", where=where)
            items.append(Shown(item_code=code, rank=int(e.rank or 1), score=None))
            continue
        if e.event not in _OUTCOMES:
            raise InvalidInput(
                f"{where}unknown event {e.event!r}",
                problems=[Problem("not an event the portal records", field=f"events.{i}.event")],
            )
        outcome = EventType(e.event)
        if e.impression_id is None:
            raise InvalidInput(
                f"{where}an outcome needs impression_id",
                problems=[Problem("required for an outcome", field=f"events.{i}.impression_id")],
            )
        reason = _reason(e.reason, outcome, field=f"events.{i}.reason", where=where)
        imp = queries.impression(rt.db, impression_id=e.impression_id)
        if imp is None or imp.event != EventType.IMPRESSION or imp.client_id != client_id:
            raise NotFound(f"{where}no impression {e.impression_id}")
        key = (e.impression_id, outcome)
        stored = queries.outcome_of(rt.db, impression_id=e.impression_id, outcome=outcome)
        if key in answered or stored is not None:
            raise Conflict(f"{where}impression {e.impression_id} already has outcome {outcome!r}")
        answered.add(key)
        items.append(Answer(impression_id=e.impression_id, outcome=outcome, reason=reason))
    return items


def _check_item_code(code: str | None, products: set[str], *, field: str, where: str) -> str:
    """``code`` when it is a product code or a known action's code.

    Raises:
        InvalidInput: anything else (problem on ``field``).
    """
    if code and (code in products or code in ACTION_CODES):
        return code
    if code and code.startswith("action:"):
        reason = f"unknown action; known actions are {', '.join(sorted(ACTION_CODES))}"
    else:
        reason = "unknown item code (neither a product code nor an action:… code)"
    raise InvalidInput(
        f"{where}unknown item_code {code!r}", problems=[Problem(reason, field=field)]
    )


def _reason(
    reason: DeclineReason | str | None, outcome: EventType, *, field: str, where: str
) -> DeclineReason | None:
    if reason is None:
        return None
    if outcome is not EventType.DECLINED:
        raise InvalidInput(
            f"{where}a reason is only recorded with 'declined'",
            problems=[Problem("only with 'declined'", field=field)],
        )
    try:
        return DeclineReason(reason)
    except ValueError:
        raise InvalidInput(
            f"{where}unknown decline reason {reason!r}",
            problems=[Problem("unknown decline reason", field=field)],
        ) from None


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
