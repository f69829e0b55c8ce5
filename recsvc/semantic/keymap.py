"""A vector index's keys by FAISS label and its labels by key.

A saved index keeps its keys as arrays by label (``labels.npy``, ``keys.npy``); a
loaded :class:`KeyMap` answers searches from those arrays and builds the key → label
dict only when a lookup by key needs it (:meth:`~recsvc.semantic.index.VectorIndex.vectors`,
an update): at 100,000 clients the commissions' 911,000 keys took 0.3 s of a server's
start as JSON and dicts.

Example:
    >>> import numpy as np
    >>> km = KeyMap.from_arrays(np.array([1, 0]), np.array(["b", "a"]))
    >>> km.keys_of([0, 1]), km.unpacked
    (['a', 'b'], False)
    >>> km.label("b"), km.unpacked
    (1, True)
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable, Sequence

import numpy as np

__all__ = ["KeyMap"]


class KeyMap:
    """Live keys and their int64 labels, both ways, in label (= insertion) order.

    A new map keeps two dicts. One from :meth:`from_arrays` keeps the saved arrays
    instead, until the first lookup by key (:meth:`label`, :meth:`labels_of`, ``in``,
    :meth:`put`, :meth:`pop`) builds the dicts: once, under a lock, since a server's
    request threads share a loaded index.
    """

    def __init__(self) -> None:
        self._k2l: dict[Hashable, int] = {}
        self._l2k: dict[int, Hashable] = {}
        # (labels ascending, their keys) as loaded, until a lookup by key needs the dicts
        self._saved: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_arrays(cls, labels: np.ndarray, keys: np.ndarray) -> KeyMap:
        """A map over saved ``labels`` and their ``keys`` (aligned); sorted by label when
        they are not ascending."""
        if len(labels) > 1 and not bool(np.all(labels[1:] > labels[:-1])):
            order = np.argsort(labels, kind="stable")  # saved by insertion: ascending
            labels, keys = labels[order], keys[order]
        out = cls()
        out._saved = (labels, keys)
        return out

    @property
    def unpacked(self) -> bool:
        """Whether the dicts are built (always, unless loaded and never looked up by key)."""
        return self._saved is None

    def _dicts(self) -> tuple[dict[Hashable, int], dict[int, Hashable]]:
        """Key → label and label → key, built from the loaded arrays on the first call."""
        if self._saved is not None:
            with self._lock:
                if self._saved is not None:
                    labels, keys = (a.tolist() for a in self._saved)
                    self._l2k = dict(zip(labels, keys, strict=True))
                    self._k2l = dict(zip(keys, labels, strict=True))
                    self._saved = None  # last: a reader seeing None finds the dicts
        return self._k2l, self._l2k

    # -- without the dicts ------------------------------------------------------------
    def __len__(self) -> int:
        saved = self._saved
        return len(saved[0]) if saved is not None else len(self._k2l)

    def keys_of(self, labels: Sequence[int]) -> list[Hashable]:
        """The keys of live ``labels``: from the loaded arrays while there are no dicts."""
        return list(self.key_array(np.asarray(labels, dtype=np.int64)).tolist())

    def key_array(self, labels: np.ndarray) -> np.ndarray:
        """:meth:`keys_of` as an array (of the saved keys' dtype, else of objects)."""
        saved = self._saved
        if saved is None:
            l2k = self._l2k
            return np.fromiter((l2k[lb] for lb in labels.tolist()), dtype=object, count=len(labels))
        by_label, keys = saved
        return keys[np.searchsorted(by_label, labels)]

    def keys(self) -> list[Hashable]:
        """Live keys in label (= insertion) order."""
        saved = self._saved
        return list(saved[1].tolist()) if saved is not None else list(self._k2l)

    def arrays(self) -> tuple[np.ndarray, np.ndarray | list[Hashable]]:
        """The labels (int64) and their keys in label order, as :meth:`from_arrays`
        takes them: what a save writes."""
        saved = self._saved
        if saved is not None:
            return saved
        return np.asarray(list(self._l2k), dtype=np.int64), list(self._l2k.values())

    # -- by key ---------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return key in self._dicts()[0]

    def label(self, key: Hashable) -> int | None:
        """``key``'s label (None: unknown)."""
        return self._dicts()[0].get(key)

    def labels_of(self, keys: Iterable[Hashable]) -> list[int]:
        """The labels of the known ``keys`` (unknown ones are skipped)."""
        keys = list(keys)
        if not keys:  # no lookup: the dicts stay unbuilt
            return []
        k2l = self._dicts()[0]
        return [k2l[k] for k in keys if k in k2l]

    def put(self, keys: Sequence[Hashable], labels: Sequence[int]) -> None:
        """Map new ``keys`` to new ``labels`` (a replaced key is :meth:`pop`-ped first)."""
        k2l, l2k = self._dicts()
        for key, label in zip(keys, labels, strict=True):
            k2l[key] = label
            l2k[label] = key

    def pop(self, keys: Iterable[Hashable]) -> list[int]:
        """Forget ``keys``; returns the labels of those present (unknown ones are skipped)."""
        keys = list(keys)
        if not keys:
            return []
        k2l, l2k = self._dicts()
        labels = [k2l.pop(k) for k in keys if k in k2l]
        for label in labels:
            del l2k[label]
        return labels

    def clear(self) -> None:
        """Forget every key (a loaded map's arrays too)."""
        with self._lock:
            self._k2l, self._l2k = {}, {}
            self._saved = None
