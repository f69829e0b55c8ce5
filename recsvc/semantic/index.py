"""FAISS vector indexes keyed by domain ids. FAISS row numbers never leave this module.

A :class:`VectorIndex` maps caller keys (client ids, commission ids, product codes,
case ids) to private int64 FAISS labels (a :class:`~recsvc.semantic.keymap.KeyMap`
keeps them). Three kinds:

- ``exact``: ``IndexIDMap2(IndexFlatIP)``; supports ``remove_ids``, so updates are
  remove + add.
- ``hnsw``: ``IndexIDMap2(IndexHNSWFlat)``; HNSW cannot remove, so a removed or
  replaced key leaves a *tombstone* (its label is filtered out of results and
  searches over-fetch by the tombstone count); once tombstones exceed
  :attr:`VectorIndex.max_tombstone_fraction` of the index it is rebuilt from its live
  vectors (:meth:`VectorIndex.compact`).
- ``ivf``: ``IndexIVFFlat`` with a hash-table direct map; removes natively.

Vectors are L2-normalised, so scores are cosine similarities.

Example:
    >>> import numpy as np
    >>> idx = VectorIndex.build(["a", "b"], np.eye(2, dtype="float32"))
    >>> idx.search(np.array([[1, 0]], dtype="float32"), k=1)
    ([['a']], [[1.0]])
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from recsvc.errors import InvalidInput, NotReady
from recsvc.files import prefetch
from recsvc.semantic.hits import RowHits, split_rows
from recsvc.semantic.keymap import KeyMap

IndexKind = Literal["exact", "hnsw", "ivf"]
#: 2: keys and labels saved as arrays (1: ``ids.json``, still read)
FORMAT = 2

_search_threads = 0
_applied = threading.local()


def set_search_threads(n: int) -> None:
    """OpenMP threads for every later :meth:`VectorIndex.search` in this process
    (0: FAISS's default, one per core).

    OpenMP keeps its thread count per calling thread: ``faiss.omp_set_num_threads`` in
    the main thread does not reach a server's request threads. So the count is kept
    here and each searching thread applies it before its first search.
    """
    global _search_threads
    _search_threads = max(0, int(n))


def _apply_search_threads() -> None:
    n = _search_threads
    if n and getattr(_applied, "n", 0) != n:
        faiss.omp_set_num_threads(n)
        _applied.n = n


def choose_kind(n: int, kind: str = "auto", exact_max: int = 50_000) -> IndexKind:
    """``auto`` → exact up to ``exact_max`` vectors, HNSW above; otherwise ``kind``."""
    if kind == "auto":
        return "exact" if n <= exact_max else "hnsw"
    if kind not in ("exact", "hnsw", "ivf"):
        raise InvalidInput(f"unknown index kind {kind!r}")
    return kind  # type: ignore[return-value]


class VectorIndex:
    """An updatable inner-product index over unit vectors, keyed by domain ids.

    Args:
        dim: vector width.
        kind: ``exact``, ``hnsw`` or ``ivf``.
        hnsw_m: HNSW graph degree.
        ef_construction / ef_search: HNSW build and search breadth.
        nlist / nprobe: IVF cells and cells visited (``nlist`` defaults to 4·√n at build).
    """

    max_tombstone_fraction = 0.2

    def __init__(
        self,
        dim: int,
        kind: IndexKind = "exact",
        *,
        hnsw_m: int = 32,
        ef_construction: int = 128,
        ef_search: int = 192,
        nlist: int | None = None,
        nprobe: int = 16,
    ) -> None:
        self.dim = dim
        self.kind = kind
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self.nlist = nlist
        self.nprobe = nprobe
        self.key_type = "int"
        self._keys = KeyMap()
        self._tombstones: set[int] = set()
        self._next_label = 0
        self._faiss: Any = None
        self.mapped = False
        """Whether the vectors are memory-mapped from the saved file (:meth:`load`)."""

    # -- construction ---------------------------------------------------------------
    @classmethod
    def build(
        cls,
        keys: Sequence[Hashable],
        vectors: np.ndarray,
        *,
        kind: str = "auto",
        exact_max: int = 50_000,
        **params: Any,
    ) -> VectorIndex:
        """A new index over ``vectors`` (one row per key); ``kind`` as in :func:`choose_kind`."""
        vectors = _as_matrix(vectors)
        idx = cls(vectors.shape[1], choose_kind(len(keys), kind, exact_max), **params)
        idx._init_faiss(vectors)
        idx.add(keys, vectors)
        return idx

    def _init_faiss(self, train: np.ndarray | None = None) -> None:
        ip = faiss.METRIC_INNER_PRODUCT
        if self.kind == "exact":
            self._faiss = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        elif self.kind == "hnsw":
            hnsw = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, ip)
            hnsw.hnsw.efConstruction = self.ef_construction
            hnsw.hnsw.efSearch = self.ef_search
            self._faiss = faiss.IndexIDMap2(hnsw)
        else:
            n = 0 if train is None else len(train)
            self.nlist = self.nlist or max(1, min(int(4 * math.sqrt(max(n, 1))), max(n // 39, 1)))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, self.nlist, ip)
            if train is None or len(train) < self.nlist:
                raise InvalidInput(f"an IVF index needs at least {self.nlist} training vectors")
            sample = train[np.random.default_rng(0).permutation(len(train))[: self.nlist * 256]]
            ivf.train(np.ascontiguousarray(sample))
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
            ivf.nprobe = self.nprobe
            self._faiss = ivf

    # -- introspection --------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def ids(self) -> list[Hashable]:
        """Live keys in insertion order."""
        return self._keys.keys()

    @property
    def tombstones(self) -> int:
        return len(self._tombstones)

    @property
    def raw(self) -> Any:
        """The FAISS object, for benchmarks comparing against raw FAISS only."""
        return self._faiss

    # -- updates --------------------------------------------------------------------
    def add(self, keys: Sequence[Hashable], vectors: np.ndarray) -> None:
        """Insert or replace vectors by key (an existing key's old vector is dropped)."""
        vectors = _as_matrix(vectors, self.dim)
        if len(keys) != len(vectors):
            raise InvalidInput(f"{len(keys)} keys for {len(vectors)} vectors")
        if len(set(keys)) != len(keys):
            raise InvalidInput("duplicate keys in one add")
        if not len(keys):
            return
        if self._faiss is None:
            self._init_faiss(vectors)
        self.remove([k for k in keys if k in self._keys])
        labels = np.arange(self._next_label, self._next_label + len(keys), dtype=np.int64)
        self._next_label += len(keys)
        self._own()
        self._faiss.add_with_ids(vectors, labels)
        self._keys.put(keys, labels.tolist())
        self.key_type = "str" if isinstance(keys[0], str) else "int"
        self._maybe_compact()

    def remove(self, keys: Iterable[Hashable]) -> int:
        """Drop keys (unknown keys are ignored). Returns how many were present."""
        labels = self._keys.pop(keys)
        if not labels:
            return 0
        if self.kind == "hnsw":
            self._tombstones.update(labels)
            self._maybe_compact()
        else:
            self._own()
            self._faiss.remove_ids(np.asarray(labels, dtype=np.int64))
        return len(labels)

    def erase(self, keys: Iterable[Hashable]) -> int:
        """Drop keys and their vectors from the FAISS structure itself (an erasure).

        :meth:`remove` leaves an HNSW vector in place as a tombstone until compaction;
        here every tombstone is compacted away at once, so no removed vector stays in
        memory nor in the next :meth:`save`. Returns how many keys were present.
        """
        n = self.remove(keys)
        if self._tombstones:
            self.compact()
        return n

    def _own(self) -> None:
        """Copy a memory-mapped index into memory before changing it (FAISS aborts the
        process on a write to mapped vectors)."""
        if self.mapped:  # (clone_index would keep the mapped view)
            self._faiss = faiss.deserialize_index(faiss.serialize_index(self._faiss))
            if self.kind == "hnsw":
                faiss.downcast_index(self._faiss.index).hnsw.efSearch = self.ef_search  # type: ignore[attr-defined]
            self.mapped = False

    def _maybe_compact(self) -> None:
        total = len(self._tombstones) + len(self._keys)
        if self._tombstones and len(self._tombstones) > self.max_tombstone_fraction * total:
            self.compact()

    def compact(self) -> None:
        """Rebuild the FAISS structure from live vectors (drops HNSW tombstones)."""
        keys = self.ids()
        vectors = self.vectors(keys)
        self._keys.clear()
        self._tombstones.clear()
        self._next_label = 0
        self._faiss = None
        if keys:
            self._init_faiss(vectors)
            self.add(keys, vectors)

    # -- queries --------------------------------------------------------------------
    def vectors(self, keys: Sequence[Hashable]) -> np.ndarray:
        """Stored vectors for ``keys``; an unknown key gets a zero row.

        One batched reconstruction in FAISS, not one call per key: 20,000 keys of a
        60,000-vector index took 0.045-0.051 s one by one and 0.002-0.005 s batched (the
        text space asks for every commission's, 911,000 at 100,000 clients).
        """
        out = np.zeros((len(keys), self.dim), dtype=np.float32)
        labels = [self._keys.label(key) for key in keys]
        rows = [i for i, label in enumerate(labels) if label is not None]
        if rows:
            found = np.asarray([labels[i] for i in rows], dtype=np.int64)
            out[rows] = self._faiss.reconstruct_batch(found)
        return out

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        exclude: Iterable[Hashable] = (),
    ) -> tuple[list[list[Hashable]], list[list[float]]]:
        """Top ``k`` keys and cosine scores per query row, best first.

        Args:
            queries: ``(n, dim)`` unit vectors.
            k: results per query (fewer when the index is smaller).
            exclude: keys never returned (e.g. the query's own record).
        """
        queries = _as_matrix(queries, self.dim)
        found = split_rows(self.search_rows(queries, k, exclude=exclude), len(queries))
        return [keys for keys, _ in found], [scores for _, scores in found]

    def search_rows(
        self, queries: np.ndarray, k: int, *, exclude: Iterable[Hashable] = ()
    ) -> RowHits:
        """:meth:`search` as flat arrays (:data:`~recsvc.semantic.hits.RowHits`): a
        batch of queries without a Python list per row and hit."""
        queries = _as_matrix(queries, self.dim)
        excluded = set(self._keys.labels_of(exclude))
        if not len(self) or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
        fetch = min(k + len(excluded) + len(self._tombstones), self._faiss.ntotal)
        _apply_search_threads()
        scores, labels = self._faiss.search(queries, fetch)
        keep = labels >= 0  # FAISS pads a short result with -1
        drop = excluded | self._tombstones
        if drop:
            keep &= ~np.isin(labels, np.fromiter(drop, dtype=np.int64, count=len(drop)))
            keep &= np.cumsum(keep, axis=1) <= k
        rows = np.nonzero(keep)[0]
        return rows, self._keys.key_array(labels[keep]), scores[keep]

    # -- persistence ----------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``config.json``, ``index.faiss`` and the keys by label into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "format": FORMAT,
            "dim": self.dim,
            "kind": self.kind,
            "count": len(self),
            "key_type": self.key_type,
            "params": {
                "hnsw_m": self.hnsw_m,
                "ef_construction": self.ef_construction,
                "ef_search": self.ef_search,
                "nlist": self.nlist,
                "nprobe": self.nprobe,
            },
            "next_label": self._next_label,
        }
        labels, keys = self._keys.arrays()
        for name, values, dtype in (
            ("labels", labels, np.int64),
            ("keys", keys, np.int64 if self.key_type == "int" else np.str_),
            ("tombstones", sorted(self._tombstones), np.int64),
        ):
            np.save(folder / f"{name}.npy", np.asarray(values, dtype=dtype), allow_pickle=False)
        (folder / "ids.json").unlink(missing_ok=True)  # format 1's keys
        if self._faiss is not None:  # a new file: a process may have the old one mapped
            tmp = folder / f".index.faiss.{os.getpid()}.tmp"
            faiss.write_index(self._faiss, str(tmp))
            os.replace(tmp, folder / "index.faiss")
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = False) -> VectorIndex:
        """The inverse of :meth:`save`.

        Args:
            folder: what :meth:`save` wrote.
            mmap: map the stored vectors of an ``exact`` or ``hnsw`` index from the file
                instead of reading them into memory: server processes then share one
                copy through the page cache. The first change copies them in. Saves
                replace files (never rewrite them in place), so a mapped file stays
                valid for as long as a process maps it.
        """
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise NotReady(f"no vector index in {folder}; run `recsvc index build`")
        config = json.loads((folder / "config.json").read_text())
        if config.get("format") not in (1, FORMAT):
            raise NotReady(f"vector index {folder} has format {config.get('format')}; rebuild")
        idx = cls(config["dim"], config["kind"], **config["params"])
        idx.key_type = config["key_type"]
        idx._next_label = config["next_label"]
        if config["format"] == 1:
            ids = json.loads((folder / "ids.json").read_text())
            # save() wrote the keys as they are (JSON keeps ints and strings apart)
            labels = np.asarray(ids["labels"], dtype=np.int64)
            keys = np.asarray(ids["keys"], dtype=object)
            tombstones = ids["tombstones"]
        else:
            labels = np.load(folder / "labels.npy", allow_pickle=False)
            keys = np.load(folder / "keys.npy", allow_pickle=False)
            tombstones = np.load(folder / "tombstones.npy").tolist()
        idx._keys = KeyMap.from_arrays(labels, keys)
        idx._tombstones = set(tombstones)
        if (folder / "index.faiss").exists():
            mapped = mmap and idx.kind in ("exact", "hnsw")
            if mapped:
                prefetch(folder / "index.faiss")
            flags = faiss.IO_FLAG_MMAP_IFC if mapped else 0
            idx._faiss = faiss.read_index(str(folder / "index.faiss"), flags)
            idx.mapped = mapped
            if idx.kind == "hnsw":
                faiss.downcast_index(idx._faiss.index).hnsw.efSearch = idx.ef_search  # type: ignore[attr-defined]
            elif idx.kind == "ivf":
                idx._faiss.nprobe = idx.nprobe
        return idx


def _as_matrix(x: np.ndarray, dim: int | None = None) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if dim is not None and x.shape[1] != dim:
        raise InvalidInput(f"vectors of width {x.shape[1]} for an index of width {dim}")
    return x
