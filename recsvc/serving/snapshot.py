"""The store's snapshot a serving process reads once and every version it opens shares.

Opening a model version used to read the whole store first (5 of its 10 s at 10,000
clients), and each of the versions a runtime keeps open for instant rollback held its
own copy of the same frames. :class:`SnapshotHolder` reads the store once and hands
the same :class:`~recsvc.store.frames.Frames` to every version opened while the store
is unchanged; :func:`~recsvc.store.stamp.data_stamp` (a count, largest id and latest
edit per table: milliseconds) tells when it changed; a snapshot read within seconds of
an edit has no stamp (:func:`~recsvc.store.stamp.read_stamp`) and is read again.
Frames are never modified in place (a live call that meets a new client builds new
frames), so sharing is safe.

The serving files of a snapshot are keyed by its digest, which hashes every cell
(6.4 s at 100,000 clients). Whoever writes them records the stamp and digest of the
read they came from (:func:`record_snapshot`); a server whose read has the same stamp
takes that digest (:func:`recall_digest`) instead of hashing.

Reading the store itself is most of a server's start at scale (a minute at 100,000
clients: pandas builds a frame from 3 million rows through SQLAlchemy). The writer
therefore also saves the frames it read (``snapshot.pkl``, pickled: the frames carry
no personal data, :mod:`recsvc.store.frames`), and a holder whose store has the
recorded stamp loads them instead of reading the tables (:func:`saved_frames`). Only
the newest such copy is kept (there is one store); a copy written by other pandas or
numpy versions, or of other :class:`~recsvc.store.frames.Frames` fields, is ignored;
an erasure deletes every copy (:mod:`recsvc.serving.erase`). The copy is unpickled
from ``serving_dir``, which only recsvc writes (as it writes the models).

Example:
    >>> holder = SnapshotHolder(db)                            # doctest: +SKIP
    >>> holder.current() is holder.current()                   # doctest: +SKIP
    True
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.serving.layout import SNAPSHOT, SNAPSHOT_FRAMES
from recsvc.store.db import Database
from recsvc.store.frames import Frames, load_frames
from recsvc.store.stamp import data_stamp, read_stamp, remember_digest, snapshot_digest

__all__ = ["SnapshotHolder", "recall_digest", "record_snapshot", "saved_frames"]

log = logging.getLogger(__name__)


class SnapshotHolder:
    """The latest snapshot of one store, re-read only when the store changed.

    Args:
        db: the store.
        saved: ``settings.serving_dir``, where a writer may have saved the frames of
            the store's current stamp (:func:`saved_frames`); ``None`` always reads.
    """

    def __init__(self, db: Database, saved: Path | None = None) -> None:
        self.db = db
        self.saved = Path(saved) if saved is not None else None
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
                held = self._frames = self._read()
            return held

    def _read(self) -> Frames:
        """The frames a writer saved at the store's stamp, else the store read whole."""
        if self.saved is not None:
            frames = saved_frames(self.saved, read_stamp(self.db))
            if frames is not None:
                log.info(
                    "store snapshot loaded from its saved copy: %d clients", len(frames.clients)
                )
                return frames
        frames = load_frames(self.db)
        log.info("store snapshot read: %d clients", len(frames.clients))
        return frames

    def forget(self) -> None:
        """Drop the snapshot (the next :meth:`current` reads the store)."""
        with self._lock:
            self._frames = None


def _frames_format() -> dict[str, Any]:
    """What a saved copy of the frames must have been pickled with to be read here."""
    return {
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "fields": [f.name for f in dataclasses.fields(Frames)],
    }


def record_snapshot(folder: Path, frames: Frames) -> None:
    """Write the stamp and digest of ``frames``, and the frames themselves, beside the
    serving files computed from them in ``folder`` (nothing when ``frames`` have no
    stamp). The copies of older stamps in the sibling folders (``serving_dir/*/``) go:
    a holder only ever wants the store's current one."""
    folder = Path(folder)
    path, pickled = folder / SNAPSHOT, folder / SNAPSHOT_FRAMES
    path.unlink(missing_ok=True)
    pickled.unlink(missing_ok=True)
    if frames.stamp is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = pickled.with_name(f".{pickled.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        pickle.dump(frames, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, pickled)
    record = {"stamp": frames.stamp, "digest": snapshot_digest(frames), "frames": _frames_format()}
    path.write_text(json.dumps(record))
    for other in folder.parent.glob(f"*/{SNAPSHOT_FRAMES}"):
        if other.parent != folder:
            other.unlink(missing_ok=True)


def saved_frames(root: Path, stamp: str | None) -> Frames | None:
    """The frames :func:`record_snapshot` saved in a folder of ``root`` (the serving
    folder) at ``stamp``, or ``None``: no stamp (the store is being edited), no copy of
    it, or one this process cannot read as it was written."""
    if stamp is None:
        return None
    for path in sorted(Path(root).glob(f"*/{SNAPSHOT}")):
        try:
            record = json.loads(path.read_text())
            if record["stamp"] != stamp or record.get("frames") != _frames_format():
                continue
            with (path.parent / SNAPSHOT_FRAMES).open("rb") as f:
                frames = pickle.load(f)
        except (OSError, ValueError, KeyError, TypeError, pickle.UnpicklingError, EOFError):
            continue
        # the frames carry the stamp they were read at: a copy replaced between reading
        # its record and opening it is not taken for the record's
        if isinstance(frames, Frames) and frames.stamp == stamp:
            remember_digest(stamp, str(record["digest"]))
            return frames
    return None


def recall_digest(folder: Path, frames: Frames) -> bool:
    """Take the digest :func:`record_snapshot` wrote in ``folder`` as that of ``frames``
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
