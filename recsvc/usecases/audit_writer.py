"""The audit writer: events queued by the request hot paths, written in batches.

:func:`record_soon` costs the caller a list append; one :class:`AuditWriter` per
runtime writes the queue from a daemon thread as one multi-row INSERT every
:data:`FLUSH_SECONDS` and at exit. Rows are built by
:func:`recsvc.usecases.audit.event_row` (codes and counts only).
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert

from recsvc.runtime import Runtime
from recsvc.store.models import AuditEvent

__all__ = ["FLUSH_SECONDS", "MAX_PENDING", "AuditWriter", "flush", "record_soon"]

log = logging.getLogger(__name__)


def record_soon(rt: Runtime, make_row: Callable[[], dict[str, Any]]) -> None:
    """Queue an event for this process's audit writer (see :class:`AuditWriter`).

    ``make_row`` runs on the writer's thread (it may query the store, e.g. to find a
    client's internal id) and returns an :func:`event_row`; stamp ``occurred_at``
    before queueing. Costs a list append: for the request hot paths.
    """
    writer = _writers.get(rt)
    if writer is None:
        with _writers_lock:
            writer = _writers.get(rt) or _writers.setdefault(rt, AuditWriter(rt))
    writer.submit(make_row)


def flush(rt: Runtime) -> int:
    """Write the events queued by :func:`record_soon` now; returns how many."""
    writer = _writers.get(rt)
    return writer.flush() if writer is not None else 0


class AuditWriter:
    """Writes queued events in batches (one INSERT of many rows) from a daemon thread,
    every :data:`FLUSH_SECONDS` and at exit.

    Why: written one by one, an event cost a served recommendation a thread hop and
    a transaction (measured in docs/architecture.md), and a store write-locked by an
    import would have held a pool thread per request. The price: a process killed
    outright loses at most the last :data:`FLUSH_SECONDS` of events. A batch that
    cannot be written is kept and retried (up to :data:`MAX_PENDING` events).
    """

    def __init__(self, rt: Runtime) -> None:
        self._rt = weakref.ref(rt)
        self._pending: list[Callable[[], dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        threading.Thread(
            target=_run_writer, args=(weakref.ref(self),), name="audit-writer", daemon=True
        ).start()

    def submit(self, make_row: Callable[[], dict[str, Any]]) -> None:
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                log.error("audit queue full (store unwritable?): an event was dropped")
                return
            self._pending.append(make_row)

    def flush(self) -> int:
        with self._flushing:
            with self._lock:
                batch, self._pending = self._pending, []
            rt = self._rt()
            if not batch or rt is None:
                return 0
            rows = []
            for make_row in batch:
                try:
                    rows.append(make_row())
                except Exception:
                    log.exception("audit event dropped: it could not be built")
            if not rows:
                return 0
            try:
                with rt.db.engine.begin() as conn:
                    conn.execute(insert(AuditEvent), rows)
            except Exception:
                log.exception("%d audit events not written yet; retrying", len(rows))
                with self._lock:
                    kept: list[Callable[[], dict[str, Any]]] = [
                        functools.partial(dict, r) for r in rows
                    ]
                    self._pending = (kept + self._pending)[:MAX_PENDING]
                return 0
            return len(rows)


#: How often the writer writes what was queued (and so the most a crash loses).
FLUSH_SECONDS = 0.25
#: Events kept queued while the store cannot be written; past it new ones are dropped.
MAX_PENDING = 100_000

_writers: weakref.WeakKeyDictionary[Runtime, AuditWriter] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _run_writer(ref: weakref.ref[AuditWriter]) -> None:
    """The writer's loop; it ends once its runtime (and so the writer) is gone."""
    while (writer := ref()) is not None:
        wake = writer._wake
        del writer  # hold no reference while asleep
        wake.wait(FLUSH_SECONDS)
        if (writer := ref()) is None:
            return
        try:
            writer.flush()
        except Exception:  # keep the thread alive; flush() keeps what it could not write
            log.exception("audit writer")
        del writer


@atexit.register
def _flush_all() -> None:
    for writer in list(_writers.values()):
        try:
            writer.flush()
        except Exception:  # pragma: no cover - shutting down
            log.exception("audit events lost at exit")
