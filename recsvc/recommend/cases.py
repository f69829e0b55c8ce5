"""Similar-case hits of a trigger commission: from a version's kept table, else searched.

:class:`CaseFinder` answers "which past cases resemble this commission" for the
explainer. A version keeps the hits its portal lists searched
(:class:`~recsvc.recommend.kept.CaseHitTable`); a trigger it did not keep is searched in
the semantic layer and remembered (bounded). While recording (training, ``recsvc
serving build``) every search is kept for :meth:`CaseFinder.save`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cachetools import LRUCache

from recsvc.recommend.kept import (
    CASE_DEPTH,
    CaseHit,
    CaseHitRecorder,
    CaseHitTable,
    CaseParts,
    case_hit,
    compact_case,
)

__all__ = ["CASE_HITS_CACHED", "CaseFinder"]

#: Trigger commissions whose searched similar-case hits a finder keeps (least
#: recently used go first); those in the version's :class:`CaseHitTable` are read there.
CASE_HITS_CACHED = 20_000


class CaseFinder:
    """Similar-case hits for trigger commissions (thread-safe).

    Args:
        semantic: the semantic layer searched for hits, or ``None`` (no hits).
    """

    def __init__(self, semantic: Any | None) -> None:
        self.semantic = semantic
        #: the version's saved hits (:meth:`use_table`); searched live without
        self.table: CaseHitTable | None = None
        # trigger commission -> compact hits; bounded, and tuples of plain values so a
        # long-running server neither grows nor hands the GC objects to traverse
        self._hits: LRUCache[int, tuple[CaseHit, ...]] = LRUCache(CASE_HITS_CACHED)
        self._recorder: CaseHitRecorder | None = None
        self._lock = threading.Lock()

    def matching(self, trigger: int, code: str, client_id: int) -> Iterator[CaseHit]:
        """Hits of ``trigger`` that are other clients' cases of ``code``, best first."""
        table = self.table
        found = table.matching(trigger, code, client_id) if table is not None else None
        if found is not None:
            return found
        return (h for h in self.hits(trigger) if h[2] == code and h[3] != client_id)

    def hits(self, trigger: int) -> tuple[CaseHit, ...]:
        """The similar-case hits of one commission: remembered or searched."""
        with self._lock:
            hits = self._hits.get(trigger)
        if hits is not None:
            return hits
        if self.semantic is None:  # no index: no similar cases to search
            return ()
        found = self.semantic.similar_cases(trigger, CASE_DEPTH)
        hits = tuple(case_hit(h) for h in found)
        with self._lock:
            self._hits[trigger] = hits
            if self._recorder is not None:
                self._recorder.add(trigger, hits)
        return hits

    def prefetch(self, triggers: Iterable[int]) -> None:
        """Search the hits of every trigger not yet known in one batch (the portal
        precomputation explains every client: one search per trigger cost minutes)."""
        if self.semantic is None or not hasattr(self.semantic, "similar_case_keys_many"):
            return
        with self._lock:
            table, recorder = self.table, self._recorder
            todo = [
                int(t)
                for t in dict.fromkeys(triggers)
                if int(t) not in self._hits and (table is None or not table.has(int(t)))
            ]
        if not todo:
            return
        found = self.semantic.similar_case_keys_many(todo, CASE_DEPTH)
        # this batch's cases, each decoded once however many triggers hit it, and not
        # at all when an earlier batch recorded it: at 100,000 clients decoding the
        # documents of every batch's cases was a tenth of writing the portal lists
        distinct = list(dict.fromkeys(key for keys in found.values() for key, _ in keys))
        known: dict[Any, CaseParts] = {}
        if recorder is not None:
            known = {key: parts for key in distinct if (parts := recorder.case(str(key)))}
        unknown = [key for key in distinct if key not in known]
        docs = dict(zip(unknown, self.semantic.docs["cases"].many(unknown), strict=True))

        def hit_of(key: Any, score: float) -> CaseHit:
            parts = known.get(key)
            if parts is not None:
                case_id, product, owner, en, zh = parts
                return case_id, float(score), product, owner, en, zh
            doc = docs[key]
            return compact_case(key, score, doc.client_id, doc.summary, doc.meta)

        with self._lock:
            for trigger, keys in found.items():
                compact = tuple(hit_of(key, score) for key, score in keys)
                self._hits[trigger] = compact
                if recorder is not None:
                    recorder.add(trigger, compact)

    def record(self) -> None:
        """Keep the hits of every trigger searched from now on, for :meth:`save`."""
        with self._lock:
            self._recorder = CaseHitRecorder()
            self.table = None  # so that every trigger is searched and recorded
            self._hits.clear()

    @property
    def recorded(self) -> CaseHitRecorder | None:
        """The hits recorded since :meth:`record` (``None``: not recording)."""
        return self._recorder

    def save(self, folder: Path) -> None:
        """Write the searches recorded since :meth:`record` as a table."""
        if self._recorder is None or self.semantic is None:
            raise RuntimeError("record() first, with a semantic layer")
        self._recorder.save(Path(folder), self.semantic.signature())

    def use_table(self, folder: Path) -> None:
        """Read hits from a version's saved table when it is of this index."""
        if self.semantic is not None:
            self.table = CaseHitTable.open(Path(folder), self.semantic.signature())
