"""The one write among the queries: erasing a client's rows, and the record of it.

Every row that belongs to the client goes in one transaction: recommendation events,
feedback, complaints, interactions, orders, commissions, contacts, the portal tokens
bound to it (``api_keys``) and the client row. Other clients' rows that pointed at one
of its commissions keep their row and lose the link. An :class:`Erasure` record is
written in the same transaction: who, when, why and how many; the client only by its
former internal id.

On SQLite the deletion runs with ``secure_delete`` (deleted content is overwritten
with zeros, not left in free pages) and the write-ahead log is checkpointed and
truncated afterwards, so the client's texts are gone from the files too. On
PostgreSQL deleted tuples stay in the data files until vacuum reuses their space
(``VACUUM FULL`` rewrites the tables at once).

Example:
    >>> erase_client_rows(db, client_id=7, reason="request of 2026-12-01",
    ...                   actor_key_id=1, actor_role="admin", counts={})  # doctest: +SKIP
    (1, {'contacts': 2, 'commissions': 14, ...})
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select, update

from recsvc.store.db import Database
from recsvc.store.models import (
    ApiKey,
    Base,
    Client,
    Commission,
    Complaint,
    Contact,
    Erasure,
    Feedback,
    Interaction,
    Order,
    RecommendationEvent,
)

__all__ = ["ERASED_TABLES", "erase_client_rows", "erasures", "latest_erasure"]

#: What an erasure deletes, children first.
ERASED_TABLES: tuple[tuple[str, type[Base]], ...] = (
    ("recommendation_events", RecommendationEvent),
    ("feedback", Feedback),
    ("complaints", Complaint),
    ("interactions", Interaction),
    ("orders", Order),
    ("commissions", Commission),
    ("contacts", Contact),
    ("api_keys", ApiKey),
    ("clients", Client),
)
#: Tables whose rows may point at another client's commission.
_LINKED = (Order, Feedback, Complaint)


def erase_client_rows(
    db: Database,
    *,
    client_id: int,
    reason: str,
    actor_key_id: int | None,
    actor_role: str | None,
    counts: dict[str, int],
) -> tuple[int, dict[str, int]]:
    """Delete every row of ``client_id`` and record the erasure.

    Args:
        counts: what was removed elsewhere (indexes, serving files, caches), recorded
            with the rows deleted here.

    Returns:
        ``(erasure record id, rows deleted per table)``.
    """
    sqlite = db.engine.dialect.name == "sqlite"
    deleted: dict[str, int] = {}
    with db.session() as s:
        if sqlite:
            s.connection().exec_driver_sql("PRAGMA secure_delete = ON")
        commissions = list(
            s.scalars(select(Commission.id).where(Commission.client_id == client_id))
        )
        for linked in _LINKED:
            s.execute(
                update(linked)
                .where(linked.commission_id.in_(commissions), linked.client_id != client_id)
                .values(commission_id=None)
            )
        for name, model in ERASED_TABLES:
            table: Any = model
            key = table.id if model is Client else table.client_id
            result: Any = s.execute(delete(model).where(key == client_id))
            deleted[name] = int(result.rowcount or 0)
        record = Erasure(
            client_id=client_id,
            actor_key_id=actor_key_id,
            actor_role=actor_role,
            reason=reason,
            counts={**{f"rows.{k}": v for k, v in deleted.items()}, **counts},
        )
        s.add(record)
        s.flush()
        record_id = record.id
        if sqlite:
            s.connection().exec_driver_sql("PRAGMA secure_delete = OFF")
    if sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return record_id, deleted


def erasures(db: Database) -> list[Erasure]:
    """Every erasure record, oldest first."""
    with db.session() as s:
        return list(s.scalars(select(Erasure).order_by(Erasure.id)))


def latest_erasure(db: Database) -> int:
    """The id of the latest erasure record (0 when there is none): a server compares
    it to tell that another process erased a client."""
    with db.session() as s:
        return int(s.scalar(select(func.max(Erasure.id))) or 0)
