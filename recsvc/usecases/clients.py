"""Clients: translate public ids, list and search, one client's record and history."""

from __future__ import annotations

from dataclasses import dataclass

from recsvc.errors import NotFound
from recsvc.runtime import Runtime
from recsvc.store import queries
from recsvc.store.models import Client
from recsvc.store.queries import ClientHistory

__all__ = [
    "ClientFilters",
    "ClientHistory",
    "client_id",
    "external_ids",
    "history",
    "list_clients",
    "nth_external_id",
    "record",
]


@dataclass(frozen=True)
class ClientFilters:
    """Filters for listing clients (all optional, combined with AND)."""

    q: str | None = None
    kind: str | None = None
    industry: str | None = None
    account_manager: str | None = None
    region: str | None = None


def client_id(rt: Runtime, *, external_id: str) -> int:
    """The internal id of a public client id.

    Raises:
        NotFound: no such client.
    """
    cid = queries.client_id(rt.db, external_id=external_id)
    if cid is None:
        raise NotFound(f"no client {external_id!r}")
    return cid


def external_ids(rt: Runtime, *, client_ids: list[int]) -> dict[int, str]:
    """Public ids for internal ids (unknown ids are left out)."""
    return queries.client_external_ids(rt.db, client_ids=client_ids)


def nth_external_id(rt: Runtime, *, n: int) -> str | None:
    """The public id of the ``n``-th client by internal id (from 0), or ``None``."""
    return queries.nth_client_external_id(rt.db, n=n)


def list_clients(
    rt: Runtime, *, filters: ClientFilters, offset: int = 0, limit: int = 50
) -> tuple[list[Client], int]:
    """A page of clients matching ``filters`` and the total count."""
    return queries.clients(
        rt.db,
        q=filters.q,
        kind=filters.kind,
        industry=filters.industry,
        account_manager=filters.account_manager,
        region=filters.region,
        offset=offset,
        limit=limit,
    )


def record(rt: Runtime, *, client_id: int) -> Client:
    """The client row (no relationships loaded).

    Raises:
        NotFound: no such client.
    """
    found = queries.client(rt.db, client_id=client_id)
    if found is None:
        raise NotFound(f"no client {client_id}")
    return found


def history(rt: Runtime, *, client_id: int, include_contacts: bool) -> ClientHistory:
    """Commissions, orders, feedback, complaints, interactions (and contacts if allowed).

    Contacts (personal data) are read only when ``include_contacts``.
    """
    return queries.client_history(rt.db, client_id=client_id, include_contacts=include_contacts)
