"""Every read of the store outside the bulk frame reader (:mod:`recsvc.store.frames`).

Each query is a keyword-only function of the :class:`~recsvc.store.db.Database`; none
writes but the erasure of a client (:mod:`.erasure`). The use cases
(:mod:`recsvc.usecases`) call these; the API, the console and the CLI never query the
store themselves.

Example:
    >>> from recsvc.store import Database
    >>> db = Database.from_url("sqlite://"); db.upgrade()
    >>> client_id(db, external_id="C-1") is None
    True
"""

from __future__ import annotations

from recsvc.store.queries.api_keys import key_by_id, key_named, keys, keys_with_prefix
from recsvc.store.queries.choices import filter_options, product_codes
from recsvc.store.queries.client_records import (
    ClientHistory,
    ClientRows,
    OrderRow,
    client,
    client_external_ids,
    client_history,
    client_id,
    client_rows,
    clients,
    clients_by_id,
    commission_id,
    nth_client_external_id,
    primary_contacts,
)
from recsvc.store.queries.erasure import erase_client_rows, erasures, latest_erasure
from recsvc.store.queries.events import (
    LatestOutcome,
    client_events,
    event,
    impression,
    latest_impression,
    latest_outcomes,
    outcome_of,
    rate_events,
)
from recsvc.store.queries.ops import ping, training_job
from recsvc.store.queries.orders import bought_orders, order_named, product_named

__all__ = [
    "ClientHistory",
    "ClientRows",
    "LatestOutcome",
    "OrderRow",
    "bought_orders",
    "client",
    "client_events",
    "client_external_ids",
    "client_history",
    "client_id",
    "client_rows",
    "clients",
    "clients_by_id",
    "commission_id",
    "erase_client_rows",
    "erasures",
    "event",
    "filter_options",
    "impression",
    "key_by_id",
    "key_named",
    "keys",
    "keys_with_prefix",
    "latest_erasure",
    "latest_impression",
    "latest_outcomes",
    "nth_client_external_id",
    "order_named",
    "outcome_of",
    "ping",
    "primary_contacts",
    "product_codes",
    "product_named",
    "rate_events",
    "training_job",
]
