"""Row positions of integer ids, looked up by sorting once rather than by a dict entry
per id.

A snapshot's per-row arrays (commission vectors and text hashes, the explainer's
similarity rows) are addressed by id. A Python dict of 911,431 commission ids took
0.26 s to build at every version opened at 100,000 clients, and a lookup of every id
through it 0.52 s; :class:`RowIndex` sorts the ids once (numpy) and answers a batch
with one ``searchsorted``.

Example:
    >>> index = RowIndex(np.array([30, 10, 20]))
    >>> index.rows(np.array([10, 99, 30])).tolist()
    [1, -1, 0]
    >>> index.appended(np.array([5]))[5]
    3
    >>> RowSpans(np.array([7, 7, 9]))[7].tolist()
    [0, 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

__all__ = ["RowIndex", "RowSpans"]


class RowIndex(Mapping[int, int]):
    """``ids[i] -> i`` (the first row of an id given twice), read-only.

    Args:
        ids: the id of each row, in row order.
    """

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        if bool(np.all(self.ids[1:] >= self.ids[:-1])):
            # ids in row order are mostly in order already: sorting them anyway took
            # 0.07 s of a start at 100,000 clients
            self._order = np.arange(len(self.ids), dtype=np.int64)
            self._sorted = self.ids
        else:
            self._order = np.argsort(self.ids, kind="stable")
            self._sorted = self.ids[self._order]

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The row of each of ``ids`` (``-1``: not indexed)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(self._sorted):
            return np.full(len(ids), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, ids), len(self._sorted) - 1)
        return np.where(self._sorted[at] == ids, self._order[at], -1).astype(np.int64)

    def appended(self, ids: np.ndarray) -> RowIndex:
        """An index of these rows followed by rows of ``ids``: the few ids a live call
        adds are inserted into the sorted ones (a copy, no sort of them all)."""
        more = np.asarray(ids, dtype=np.int64)
        order = np.argsort(more, kind="stable")
        at = np.searchsorted(self._sorted, more[order], side="right")  # after equal ids
        out = RowIndex.__new__(RowIndex)
        out.ids = np.concatenate([self.ids, more])
        out._sorted = np.insert(self._sorted, at, more[order])
        out._order = np.insert(self._order, at, len(self.ids) + order)
        return out

    def __getitem__(self, key: int) -> int:
        row = int(self.rows(np.array([key]))[0]) if isinstance(key, int | np.integer) else -1
        if row < 0:
            raise KeyError(key)
        return row

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int | np.integer) and int(self.rows(np.array([key]))[0]) >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(self.ids.tolist())

    def __len__(self) -> int:
        return len(self.ids)


class RowSpans(Mapping[int, np.ndarray]):
    """``id -> its rows`` in rows sorted by id (each id's rows side by side), read-only:
    a dict of an array per id (100,000 clients' latest commissions) took 0.2 s at every
    version opened at 100,000 clients; this keeps each id's first row and looks it up
    in a :class:`RowIndex`.

    Args:
        ids: the id of each row, sorted.
    """

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        starts = np.flatnonzero(np.r_[len(ids) > 0, ids[1:] != ids[:-1]])
        self._firsts = RowIndex(ids[starts])
        self._bounds = np.r_[starts, len(ids)].astype(np.int64)

    def __getitem__(self, key: int) -> np.ndarray:
        i = self._firsts[key]
        return np.arange(self._bounds[i], self._bounds[i + 1])

    def __contains__(self, key: object) -> bool:
        return key in self._firsts

    def __iter__(self) -> Iterator[int]:
        return iter(self._firsts)

    def __len__(self) -> int:
        return len(self._firsts)
