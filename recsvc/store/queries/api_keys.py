"""Reads of API keys: every key, the candidates for a presented secret, a key by name
and a key by id (console sessions)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from recsvc.store.db import Database
from recsvc.store.models import ApiKey, Client

__all__ = ["key_by_id", "key_named", "keys", "keys_with_prefix"]


def _keys_with_clients() -> Select[ApiKey, str | None]:
    """API keys with their bound client's external id (``None`` for staff keys)."""
    return select(ApiKey, Client.external_id).outerjoin(Client, Client.id == ApiKey.client_id)


def keys(db: Database) -> list[tuple[ApiKey, str | None]]:
    """Every API key, active and revoked, oldest first, with its client's external id."""
    with db.session() as s:
        return [(k, ext) for k, ext in s.execute(_keys_with_clients().order_by(ApiKey.id))]


def key_by_id(db: Database, *, key_id: int) -> tuple[ApiKey, str | None] | None:
    """The API key with id ``key_id`` (revoked or not) and its client's external id."""
    with db.session() as s:
        row = s.execute(_keys_with_clients().where(ApiKey.id == key_id)).first()
    return None if row is None else (row[0], row[1])


def keys_with_prefix(db: Database, *, prefix: str) -> list[tuple[ApiKey, str | None]]:
    """The keys whose public prefix is ``prefix`` (candidates for a presented secret)."""
    with db.session() as s:
        rows = s.execute(_keys_with_clients().where(ApiKey.prefix == prefix))
        return [(k, ext) for k, ext in rows]


def key_named(session: Session, *, name: str) -> tuple[ApiKey, str | None] | None:
    """The key called ``name`` and its client's external id, inside the caller's session
    (revoking and rotating change the row in the same transaction)."""
    row = session.execute(_keys_with_clients().where(ApiKey.name == name)).first()
    return None if row is None else (row[0], row[1])
