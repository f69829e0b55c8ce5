"""Similar-case hits of a trigger commission: from a version's kept table, else found.

:class:`CaseFinder` answers "which past cases resemble this commission" for the
explainer. A version keeps the hits its portal lists found
(:class:`~recsvc.recommend.kept.CaseHitTable`); a trigger it did not keep is compared
with the case base (:mod:`recsvc.recommend.case_search`), its hits decoded from the
semantic layer's case documents and remembered (bounded). While recording (training,
``recsvc serving build``) every trigger's hits are kept for :meth:`CaseFinder.save`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from recsvc.recommend.kept import (
    CaseHit,
    CaseHitRecorder,
    CaseHitTable,
    CaseParts,
    compact_case,
)

__all__ = ["CASE_HITS_CACHED", "CaseFinder", "CaseSearch"]

#: The case ids most similar to each trigger commission, given the triggers, their
#: owners and the case documents (only cases they hold are cited): ``(case id,
#: similarity)`` best first, one list per trigger.
CaseSearch = Callable[[np.ndarray, np.ndarray, Collection[str]], list[list[tuple[str, float]]]]

#: Trigger commissions whose similar-case hits a finder keeps (least
#: recently used go first); those in the version's :class:`CaseHitTable` are read there.
CASE_HITS_CACHED = 20_000


class CaseFinder:
    """Similar-case hits for trigger commissions (thread-safe).

    Args:
        semantic: the semantic layer whose case documents the hits quote (their
            anonymised summaries), or ``None`` (no hits).
        search: the case ids most similar to each trigger (:data:`CaseSearch`:
            :meth:`~recsvc.recommend.client_lookups.ClientLookups.closest_cases`, over
            the explainer's text space and case base), or ``None`` (no hits).
    """

    def __init__(self, semantic: Any | None, search: CaseSearch | None) -> None:
        self.semantic = semantic
        self.search = search
        #: the version's saved hits (:meth:`use_table`); computed live without
        self.table: CaseHitTable | None = None
        # trigger commission -> compact hits; bounded, and tuples of plain values so a
        # long-running server neither grows nor hands the GC objects to traverse
        self._hits: LRUCache[int, tuple[CaseHit, ...]] = LRUCache(CASE_HITS_CACHED)
        self._recorder: CaseHitRecorder | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether there are cases to cite (documents to quote and a way to find them)."""
        return self.semantic is not None and self.search is not None

    def matching(self, trigger: int, code: str, client_id: int) -> Iterator[CaseHit]:
        """Hits of ``trigger`` (a commission of ``client_id``) that are other clients'
        cases of ``code``, best first."""
        table = self.table
        found = table.matching(trigger, code, client_id) if table is not None else None
        if found is not None:
            return found
        return (h for h in self.hits(trigger, client_id) if h[2] == code and h[3] != client_id)

    def hits(self, trigger: int, owner: int) -> tuple[CaseHit, ...]:
        """The similar-case hits of ``owner``'s commission ``trigger``: remembered or found."""
        with self._lock:
            hits = self._hits.get(trigger)
        if hits is not None:
            return hits
        self.prefetch([(trigger, owner)])
        with self._lock:
            return self._hits.get(trigger, ())

    def prefetch(self, triggers: Iterable[tuple[int, int]]) -> None:
        """Find the hits of every ``(trigger, owner)`` not yet known, in one batch (the
        portal precomputation explains every client)."""
        if self.semantic is None or self.search is None:
            return
        with self._lock:
            table, recorder = self.table, self._recorder
            todo = {
                int(t): int(o)
                for t, o in triggers
                if int(t) not in self._hits and (table is None or not table.has(int(t)))
            }
        if not todo:
            return
        ids = np.fromiter(todo, dtype=np.int64, count=len(todo))
        owners = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
        store = self.semantic.docs["cases"]
        found = self.search(ids, owners, store)
        # each case decoded once however many triggers cite it, and not at all when an
        # earlier batch recorded it: at 100,000 clients decoding the documents of every
        # batch's cases was a tenth of writing the portal lists
        distinct = list(dict.fromkeys(key for keys in found for key, _ in keys))
        known: dict[str, CaseParts] = {}
        if recorder is not None:
            known = {key: parts for key in distinct if (parts := recorder.case(key))}
        unknown = [key for key in distinct if key not in known]
        docs = dict(zip(unknown, store.many(unknown), strict=True))

        def hit_of(key: str, score: float) -> CaseHit:
            parts = known.get(key)
            if parts is not None:
                case_id, product, owner, en, zh = parts
                return case_id, float(score), product, owner, en, zh
            doc = docs[key]
            return compact_case(key, score, doc.client_id, doc.summary, doc.meta)

        with self._lock:
            for trigger, keys in zip(ids.tolist(), found, strict=True):
                compact = tuple(hit_of(key, score) for key, score in keys)
                self._hits[trigger] = compact
                if recorder is not None:
                    recorder.add(trigger, compact)

    def record(self) -> None:
        """Keep the hits of every trigger found from now on, for :meth:`save`."""
        with self._lock:
            self._recorder = CaseHitRecorder()
            self.table = None  # so that every trigger is found and recorded
            self._hits.clear()

    @property
    def recorded(self) -> CaseHitRecorder | None:
        """The hits recorded since :meth:`record` (``None``: not recording)."""
        return self._recorder

    def save(self, folder: Path) -> None:
        """Write the hits recorded since :meth:`record` as a table."""
        if self._recorder is None or self.semantic is None:
            raise RuntimeError("record() first, with a semantic layer")
        self._recorder.save(Path(folder), self.semantic.signature())

    def use_table(self, folder: Path) -> None:
        """Read hits from a version's saved table when it is of this index."""
        if self.semantic is not None:
            self.table = CaseHitTable.open(Path(folder), self.semantic.signature())
