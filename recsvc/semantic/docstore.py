"""One kind's search documents, read from a memory-mapped file as they are needed.

A server's workers each held every :class:`Doc` as Python objects: about 1.8 KB per
commission, two gigabytes per worker at 100k clients (906k commissions), of which a
live call reads a handful. :class:`DocStore` keeps the saved documents as JSON records
in one file that every worker maps (one copy in the page cache) and decodes a record
when it is asked for; documents added, replaced or removed since live in memory.

``docs.json`` stays the saved, canonical form; the mapped files beside it
(``docs.map/``) are derived from it and rebuilt when it changes. Beside the records they
keep each document's commission as a column (:meth:`DocStore.commissions`), so that
finding a commission's past cases needs no decoding.

Example:
    >>> store = DocStore.open(folder / "commissions")        # doctest: +SKIP
    >>> store[103].title                                    # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import logging
import mmap
from collections.abc import Hashable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from recsvc.files import map_records, replaced_folder, write_records
from recsvc.semantic.documents import Doc

__all__ = ["DocStore"]

log = logging.getLogger(__name__)

DOCS = "docs.json"
MAPPED = "docs.map"
_FORMAT = 2  # 2: the commission column
#: Decoded saved documents kept per store: search hits repeat (popular past cases),
#: and decoding one costs about 7 µs against a dict lookup's 0.3. Not more: each is
#: two objects the cyclic GC walks on every full collection.
DECODED_CACHED = 1024


def _source(folder: Path) -> dict[str, Any]:
    """Which ``docs.json`` the mapped files were built from (size, change time)."""
    st = (folder / DOCS).stat()
    return {"format": _FORMAT, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


class DocStore(MutableMapping[Hashable, Doc]):
    """Documents by key, in insertion order, like the ``dict`` they replace.

    Args:
        docs: documents held in memory (a fresh build).

    Saved documents come from :meth:`open`; a changed document is kept in memory and
    written back by :meth:`save`. Saved documents are decoded on access (the last
    :data:`DECODED_CACHED` are kept), so treat them as read-only: change one by assigning a new one
    (``store[key] = replace(doc, meta=...)``).
    """

    def __init__(self, docs: Iterable[Doc] = ()) -> None:
        self._keys: np.ndarray = np.empty(0, dtype=np.int64)  # saved keys, file order
        self._sorted = np.empty(0, dtype=np.int64)  # positions of _keys in key order
        self._ordered = self._keys  # _keys in key order (a lookup is one binary search)
        self._spans = np.empty((0, 2), dtype=np.int64)  # (offset, length) per position
        self._commissions = np.empty(0, dtype=np.int64)  # meta commission_id per position
        self._blob: mmap.mmap | bytes = b""
        self._removed: set[Hashable] = set()  # saved keys deleted since
        self._changed: dict[Hashable, Doc] = {d.key: d for d in docs}  # added or replaced
        self._decoded = functools.lru_cache(maxsize=DECODED_CACHED)(self._decode)

    # -- files ------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: str | Path) -> DocStore:
        """The documents saved in ``folder/docs.json``, mapped from ``folder/docs.map/``.

        The mapped files are built first when missing or older than ``docs.json`` (one
        process at a time, under a file lock); a folder that cannot be written to is
        read into memory instead.
        """
        folder = Path(folder)
        target = folder / MAPPED
        try:
            with FileLock(str(folder / ".docs.lock")):
                if not cls._current(folder):
                    cls._write(folder, cls._read_json(folder))
        except OSError as exc:
            log.warning("documents in %s not mapped (%s); reading them into memory", folder, exc)
            return cls(cls._read_json(folder))
        store = cls()
        keys = np.load(target / "keys.npy")
        store._keys = keys
        if bool(np.all(keys[1:] >= keys[:-1])):  # saved in key order (ids): no sort
            store._sorted, store._ordered = np.arange(len(keys)), keys
        else:
            store._sorted = np.argsort(keys, kind="stable")
            store._ordered = keys[store._sorted]
        store._spans = np.load(target / "spans.npy")
        store._commissions = np.load(target / "commissions.npy", mmap_mode="r")
        store._blob = map_records(target / "docs.bin")
        return store

    @staticmethod
    def _read_json(folder: Path) -> list[Doc]:
        return [Doc(**r) for r in json.loads((folder / DOCS).read_text())]

    @staticmethod
    def _current(folder: Path) -> bool:
        try:
            meta = json.loads((folder / MAPPED / "meta.json").read_text())
        except (OSError, ValueError):
            return False
        return bool(meta == _source(folder))

    @staticmethod
    def _write(folder: Path, docs: Iterable[Doc]) -> None:
        keys: list[Hashable] = []
        commissions: list[int] = []

        def records() -> Iterator[bytes]:
            for doc in docs:
                keys.append(doc.key)
                commissions.append(_commission(doc))
                yield json.dumps(asdict(doc), ensure_ascii=False).encode()

        with replaced_folder(folder / MAPPED) as tmp:
            spans = write_records(tmp / "docs.bin", records())
            ints = all(isinstance(k, int) for k in keys)
            np.save(tmp / "keys.npy", np.asarray(keys, dtype=np.int64 if ints else str))
            np.save(tmp / "spans.npy", np.asarray(spans, dtype=np.int64).reshape(-1, 2))
            np.save(tmp / "commissions.npy", np.asarray(commissions, dtype=np.int64))
            (tmp / "meta.json").write_text(json.dumps(_source(folder)))
        log.info("%d documents of %s mapped", len(keys), folder.name)

    def save(self, folder: str | Path) -> None:
        """Write ``folder/docs.json`` and its mapped form (``folder`` is new or private)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        docs = list(self.values())
        (folder / DOCS).write_text(json.dumps([asdict(d) for d in docs], ensure_ascii=False))
        self._write(folder, docs)

    # -- the mapping ------------------------------------------------------------------
    def _saved(self, key: Hashable) -> int:
        """Position of a saved key, or -1."""
        ordered = self._ordered
        if not len(ordered) or isinstance(key, str) != (ordered.dtype.kind == "U"):
            return -1
        if not isinstance(key, int | str | np.integer | np.str_):
            return -1
        i = int(ordered.searchsorted(key))
        return int(self._sorted[i]) if i < len(ordered) and ordered[i] == key else -1

    def _decode(self, pos: int) -> Doc:
        offset, length = self._spans[pos].tolist()
        return Doc(**json.loads(self._blob[offset : offset + length]))

    def __getitem__(self, key: Hashable) -> Doc:
        doc = self._changed.get(key)
        if doc is not None:
            return doc
        if key not in self._removed:
            pos = self._saved(key)
            if pos >= 0:
                return self._decoded(pos)
        raise KeyError(key)

    def many(self, keys: Sequence[Hashable]) -> list[Doc]:
        """``[self[key] for key in keys]``, the saved ones found by one vectorised binary
        search: the portal precomputation decodes every similar case its searches hit,
        and one search per key was 5 % of it at 100,000 clients.

        Raises:
            KeyError: a key that is not here.
        """
        keys = list(keys)
        ordered = self._ordered
        todo = [i for i, k in enumerate(keys) if k not in self._changed and k not in self._removed]
        positions: dict[int, int] = {}
        if todo and len(ordered):
            asked = np.asarray([keys[i] for i in todo])
            if asked.dtype.kind == ordered.dtype.kind:  # else each key alone, below
                at = np.minimum(ordered.searchsorted(asked), len(ordered) - 1)
                found = ordered[at] == asked
                positions = {
                    i: int(p)
                    for i, p, ok in zip(
                        todo, self._sorted[at].tolist(), found.tolist(), strict=True
                    )
                    if ok
                }
        out = []
        for i, key in enumerate(keys):
            pos = positions.get(i)
            out.append(self._decoded(pos) if pos is not None else self[key])
        return out

    def __contains__(self, key: object) -> bool:
        if key in self._changed:
            return True
        return key not in self._removed and self._saved(key) >= 0

    def __setitem__(self, key: Hashable, doc: Doc) -> None:
        self._changed[key] = doc
        self._removed.discard(key)

    def __delitem__(self, key: Hashable) -> None:
        if key not in self:
            raise KeyError(key)
        self._changed.pop(key, None)
        if self._saved(key) >= 0:
            self._removed.add(key)

    def commissions(self) -> tuple[np.ndarray, np.ndarray]:
        """Every document's key and the commission it came from (its meta's
        ``commission_id``, -1 for none), as two aligned arrays: saved documents' read
        from the mapped column, not decoded (decoding 100,000 past cases to find each
        commission's took 1.7 s at a server's start)."""
        keys, commissions = self._keys, np.asarray(self._commissions)
        if self._removed or self._changed:  # rare at a start: Python lists will do
            hidden = self._removed | set(self._changed)
            live = np.fromiter((k not in hidden for k in keys.tolist()), bool, len(keys))
            changed = list(self._changed.values())
            keys = np.asarray([*keys[live].tolist(), *(d.key for d in changed)])
            commissions = np.asarray(
                [*commissions[live].tolist(), *map(_commission, changed)], dtype=np.int64
            )
        return keys, commissions

    def _saved_keys(self) -> list[Hashable]:
        return [k for k in self._keys.tolist() if k not in self._removed]

    def __iter__(self) -> Iterator[Hashable]:
        saved = self._saved_keys()
        yield from saved  # a replaced document keeps its place, as in a dict
        known = set(saved)
        yield from (k for k in self._changed if k not in known)

    def __len__(self) -> int:
        saved = len(self._keys) - len(self._removed)
        return saved + sum(1 for k in self._changed if self._saved(k) < 0)


def _commission(doc: Doc) -> int:
    """The commission ``doc`` came from (-1: none)."""
    value = doc.meta.get("commission_id") if doc.meta else None
    return int(value) if value is not None else -1
