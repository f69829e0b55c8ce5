"""The store's snapshot a serving process reads once and every version it opens shares.

Opening a model version used to read the whole store first (5 of its 10 s at 10,000
clients), and each of the versions a runtime keeps open for instant rollback held its
own copy of the same frames. :class:`SnapshotHolder` reads the store once and hands
the same :class:`~recsvc.store.frames.Frames` to every version opened while the store
is unchanged; :func:`~recsvc.store.frames.data_stamp` (a count, largest id and latest
edit per table: milliseconds) tells when it changed; a snapshot read within seconds of
an edit has no stamp (:func:`~recsvc.store.frames.read_stamp`) and is read again.
Frames are never modified in place (a live call that meets a new client builds new
frames), so sharing is safe.

The serving files of a snapshot are keyed by its digest, which hashes every cell
(6.4 s at 100,000 clients). Whoever writes them records the stamp and digest of the
read they came from (:func:`record_digest`); a server whose read has the same stamp
takes that digest (:func:`recall_digest`) instead of hashing.

Example:
    >>> holder = SnapshotHolder(db)                            # doctest: +SKIP
    >>> holder.current() is holder.current()                   # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from recsvc.serving.layout import SNAPSHOT
from recsvc.store.db import Database
from recsvc.store.frames import Frames, data_stamp, load_frames, remember_digest, snapshot_digest

__all__ = ["SnapshotHolder", "recall_digest", "record_digest"]

log = logging.getLogger(__name__)


class SnapshotHolder:
    """The latest snapshot of one store, re-read only when the store changed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._frames: Frames | None = None

    def current(self) -> Frames:
        """The store's snapshot now: the one read before when nothing changed since.

        The snapshot's stamp was taken before reading, so a change made during the read
        is seen by the next call (it re-reads), never missed.
        """
        with self._lock:
            held = self._frames
            if held is None or held.stamp is None or data_stamp(self.db) != held.stamp:
                held = self._frames = load_frames(self.db)
                log.info("store snapshot read: %d clients", len(held.clients))
            return held

    def forget(self) -> None:
        """Drop the snapshot (the next :meth:`current` reads the store)."""
        with self._lock:
            self._frames = None


def record_digest(folder: Path, frames: Frames) -> None:
    """Write the stamp and digest of ``frames`` beside the serving files computed from
    them in ``folder`` (none when ``frames`` have no stamp)."""
    path = Path(folder) / SNAPSHOT
    path.unlink(missing_ok=True)
    if frames.stamp is not None:
        record = {"stamp": frames.stamp, "digest": snapshot_digest(frames)}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))


def recall_digest(folder: Path, frames: Frames) -> bool:
    """Take the digest :func:`record_digest` wrote in ``folder`` as that of ``frames``
    when they were read at the same stamp; whether it was."""
    if frames.stamp is None:
        return False
    try:
        record = json.loads((Path(folder) / SNAPSHOT).read_text())
        stamp, digest = str(record["stamp"]), str(record["digest"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if stamp != frames.stamp:
        return False
    remember_digest(stamp, digest)
    return True
