"""What explaining the portal lists computed, kept with the version for the live calls.

After training, the portal lists explain every client's offers; a live librarian call
explains the same offers again. Two parts of that are dear and depend on neither the
caller nor the surface, so the lists' computation records them and a loaded version
looks them up (anything not recorded is computed live, as before):

* **Similar-case hits of trigger commissions** (:class:`CaseHitTable`). An
  explanation's similar case is one of the offered product's past cases most like the
  client's trigger commission in the text space (:mod:`recsvc.recommend.case_search`),
  quoted from the semantic index's anonymised case documents. The table is keyed by
  commission and carries :meth:`SemanticLayer.signature` (the documents quoted).
* **Model contributions of offered rows**
  (:class:`~recsvc.recommend.contributions.ContributionTable`): TreeSHAP of each
  offered row, kept with a digest of its features.

A case table of another index is ignored. Layout of ``kept/cases/``:
``triggers.npy`` (sorted commission ids), ``starts.npy`` (each trigger's first hit;
one more entry than triggers), ``hit_cases.npy`` and ``hit_scores.npy`` (per hit: the
case's row and fused score), ``cases.bin`` with ``case_spans.npy`` (per case, one JSON
record ``[id, product, owner, summary_en, summary_zh]``), and ``case_products.npy``,
``case_owners.npy`` (per case, its product code, ``""`` for none, and owner, ``-1``
for none: what a lookup filters on, without decoding 87k records at every load), and
``config.json`` (:class:`~recsvc.artifact.ArtifactKind`). The helpers that map a
kept table's arrays (:func:`mapped_arrays`, :func:`open_table`) serve both tables.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from recsvc.artifact import ArtifactKind
from recsvc.files import map_records, prefetch, write_records
from recsvc.recommend.case_search import CASES_PER_PRODUCT

if TYPE_CHECKING:  # the contributions module imports this one
    from recsvc.recommend.contributions import ContributionRecorder

__all__ = [
    "CASE_FILES",
    "CaseHit",
    "CaseHitRecorder",
    "CaseHitTable",
    "CaseParts",
    "Recorded",
    "compact_case",
    "erase_case_hits",
    "mapped_arrays",
    "open_table",
    "saved_fingerprint",
]

log = logging.getLogger(__name__)

#: The folder of the case table (how its hits were found is part of its fingerprint).
CASE_FILES = ArtifactKind("cases", format=3)
_Table = TypeVar("_Table", bound=Sized)


def mapped_arrays(folder: Path, *names: str) -> list[np.ndarray]:
    """The arrays ``names`` saved in ``folder``, memory-mapped (read ahead first)."""
    files = [folder / f"{n}.npy" for n in names]
    prefetch(*files)
    return [np.load(f, mmap_mode="r") for f in files]


def open_table(
    make: Callable[[Path], _Table], folder: Path, kind: ArtifactKind, fingerprint: str
) -> _Table | None:
    """``make(folder)`` when ``folder`` holds a table of ``kind`` saved for ``fingerprint``."""
    if kind.open(folder, fingerprint=fingerprint) is None:
        return None
    try:
        table = make(folder)
    except (OSError, ValueError) as exc:
        log.warning("the %s saved in %s are unreadable: %s", kind.kind, folder, exc)
        return None
    log.info("%s of %d entries mapped from %s", kind.kind, len(table), folder)
    return table


def _cases_fingerprint(signature: str) -> str:
    return f"{signature}|text space, {CASES_PER_PRODUCT} per product"


#: One similar-case hit as explanations keep it: ``(id, score, product code, owner
#: client id, summary in English, summary in Chinese)``. A plain tuple of plain values,
#: which the cyclic GC stops tracking (a named tuple it would walk on every collection).
CaseHit = tuple[str, float, str | None, int | None, str, str]


def compact_case(key: Any, score: float, owner: Any, summary: Any, meta: Any) -> CaseHit:
    """The compact form of a case hit from a case document's parts (``doc.client_id``,
    ``doc.summary``, ``doc.meta``)."""
    meta = meta or {}
    en = str(summary or "")
    return (
        str(key),
        float(score),
        meta.get("product_code"),
        None if owner is None else int(owner),
        en,
        str(meta.get("summary_zh") or en),
    )


#: A case as a table keeps it: ``(id, product code, owner, summary in English, summary
#: in Chinese)``, a :data:`CaseHit` without the score.
CaseParts = tuple[str, str | None, int | None, str, str]


class CaseHitRecorder:
    """Collects the hits of every trigger found (compactly: each case once)."""

    def __init__(self) -> None:
        self._cases: dict[str, int] = {}
        self._parts: list[CaseParts] = []
        self._hits: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._hits)

    def case(self, case_id: str) -> CaseParts | None:
        """A case recorded already (``None``: not yet), so that another trigger citing it
        need not decode its document again (a portal list's cases are cited by
        thousands of triggers)."""
        row = self._cases.get(case_id)
        return None if row is None else self._parts[row]

    def add(self, trigger: int, hits: tuple[CaseHit, ...]) -> None:
        rows = np.empty(len(hits), dtype=np.int32)
        for i, (case_id, _, product, owner, en, zh) in enumerate(hits):
            row = self._cases.get(case_id)
            if row is None:
                row = self._cases[case_id] = len(self._parts)
                self._parts.append((case_id, product, owner, en, zh))
            rows[i] = row
        scores = np.fromiter((h[1] for h in hits), dtype=np.float64, count=len(hits))
        self._hits[int(trigger)] = (rows, scores)

    def merge(self, other: CaseHitRecorder) -> None:
        """Add the triggers ``other`` recorded (another part of the same clients: the
        portal lists written over client partitions), each case still kept once."""
        rows = np.empty(len(other._parts), dtype=np.int32)
        for i, parts in enumerate(other._parts):
            row = self._cases.get(parts[0])
            if row is None:
                row = self._cases[parts[0]] = len(self._parts)
                self._parts.append(parts)
            rows[i] = row
        for trigger, (theirs, scores) in other._hits.items():
            self._hits[trigger] = (rows[theirs], scores)

    def save(self, folder: Path, signature: str) -> Path:
        """Write the table to ``folder`` (replaced whole) for the index ``signature``."""
        return self._save(folder, _cases_fingerprint(signature))

    def _save(self, folder: Path, fingerprint: str | None) -> Path:
        triggers = np.array(sorted(self._hits), dtype=np.int64)
        lists = [self._hits[int(t)] for t in triggers]
        sizes = np.array([len(r) for r, _ in lists], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        with CASE_FILES.save(folder, fingerprint=fingerprint) as tmp:
            records = [json.dumps(list(p), ensure_ascii=False).encode() for p in self._parts]
            spans = write_records(tmp / "cases.bin", records)
            np.save(tmp / "case_spans.npy", np.array(spans, dtype=np.int64).reshape(-1, 2))
            products = ["" if p[1] is None else str(p[1]) for p in self._parts]
            np.save(tmp / "case_products.npy", np.array(products, dtype=np.str_))
            owners = [-1 if p[2] is None else int(p[2]) for p in self._parts]
            np.save(tmp / "case_owners.npy", np.array(owners, dtype=np.int64))
            np.save(tmp / "triggers.npy", triggers)
            np.save(tmp / "starts.npy", starts)
            empty_rows, empty_scores = np.zeros(0, np.int32), np.zeros(0, np.float64)
            np.save(tmp / "hit_cases.npy", np.concatenate([empty_rows, *(r for r, _ in lists)]))
            np.save(tmp / "hit_scores.npy", np.concatenate([empty_scores, *(s for _, s in lists)]))
        log.info(
            "similar-case hits of %d trigger commissions (%d cases) written to %s",
            len(triggers),
            len(self._parts),
            folder,
        )
        return folder


class CaseHitTable:
    """The saved hits of a version's trigger commissions, mapped (see the module)."""

    def __init__(self, folder: Path) -> None:
        self._triggers, self._starts, self._rows, self._scores = mapped_arrays(
            folder, "triggers", "starts", "hit_cases", "hit_scores"
        )
        self._spans = np.load(folder / "case_spans.npy")
        self._blob = map_records(folder / "cases.bin")
        # each case's product and owner as arrays, so that a lookup decodes only the
        # hits it keeps (the first of the offered product, mostly)
        products, codes = np.unique(np.load(folder / "case_products.npy"), return_inverse=True)
        self._product_of = {str(p): j for j, p in enumerate(products.tolist()) if p != ""}
        self._products = np.where(products[codes] == "", -1, codes).astype(np.int32)
        self._owners = np.load(folder / "case_owners.npy", mmap_mode="r")

    @classmethod
    def open(cls, folder: Path, signature: str) -> CaseHitTable | None:
        """The table in ``folder`` when it was saved for the index ``signature``."""
        return open_table(cls, Path(folder), CASE_FILES, _cases_fingerprint(signature))

    def __len__(self) -> int:
        return len(self._triggers)

    def has(self, trigger: int) -> bool:
        """Whether ``trigger``'s hits were found when the table was made."""
        i = int(np.searchsorted(self._triggers, trigger))
        return i < len(self._triggers) and int(self._triggers[i]) == int(trigger)

    def _record(self, row: int) -> list[Any]:
        offset, length = self._spans[row].tolist()
        return json.loads(self._blob[offset : offset + length])

    def matching(self, trigger: int, product: str, owner: int) -> Iterator[CaseHit] | None:
        """The hits saved for ``trigger`` that are cases of ``product`` bought by another
        client than ``owner``, best first, decoded as they are taken (``None``: the
        trigger's hits were not found when the table was made)."""
        i = int(np.searchsorted(self._triggers, trigger))
        if i >= len(self._triggers) or self._triggers[i] != trigger:
            return None
        a, b = self._starts[i : i + 2].tolist()
        rows = np.asarray(self._rows[a:b])
        keep = (self._products[rows] == self._product_of.get(product, -2)) & (
            self._owners[rows] != owner
        )
        scores = np.asarray(self._scores[a:b])[keep].tolist()
        return (
            (case_id, score, found, case_owner, en, zh)
            for row, score in zip(rows[keep].tolist(), scores, strict=True)
            for case_id, found, case_owner, en, zh in (self._record(row),)
        )


def saved_fingerprint(folder: Path) -> str | None:
    """The fingerprint a table in ``folder`` was saved with (``None``: none)."""
    config = json.loads((folder / "config.json").read_text())
    return None if config.get("fingerprint") is None else str(config["fingerprint"])


def erase_case_hits(
    folder: Path,
    *,
    owner: int,
    case_ids: set[str],
    triggers: set[int],
    signature: tuple[str, str] | None = None,
) -> int:
    """Rewrite the case table in ``folder`` without one client (an erasure): without
    the hits of its commissions (``triggers``) and without its cases (by ``owner`` or
    id) among other commissions' hits.

    Args:
        signature: the semantic index's signature before and after the client left it;
            a table of the first is saved for the second (the other hits are still that
            index's), any other keeps its fingerprint.

    Returns:
        The number of hits removed (0 when there is no table).
    """
    folder = Path(folder)
    if not (folder / "config.json").exists():
        return 0
    if json.loads((folder / "config.json").read_text()).get("format") != CASE_FILES.format:
        shutil.rmtree(folder)  # an older layout, of no use to this code: live calls find hits
        return 0
    fingerprint = saved_fingerprint(folder)
    if signature is not None and fingerprint == _cases_fingerprint(signature[0]):
        fingerprint = _cases_fingerprint(signature[1])
    table = CaseHitTable(folder)
    recorder = CaseHitRecorder()
    removed = 0
    starts = np.asarray(table._starts).tolist()
    for i, trigger in enumerate(np.asarray(table._triggers).tolist()):
        a, b = starts[i], starts[i + 1]
        if trigger in triggers:
            removed += b - a
            continue
        kept: list[CaseHit] = []
        rows = np.asarray(table._rows[a:b]).tolist()
        scores = np.asarray(table._scores[a:b]).tolist()
        for row, score in zip(rows, scores, strict=True):
            case_id, product, case_owner, en, zh = table._record(row)
            if case_owner == owner or str(case_id) in case_ids:
                removed += 1
            else:
                kept.append((str(case_id), float(score), product, case_owner, en, zh))
        recorder.add(trigger, tuple(kept))
    del table
    recorder._save(folder, fingerprint)
    return removed


class Recorded(NamedTuple):
    """What explaining recorded (:meth:`~recsvc.recommend.service.Recommender.recorded`):
    the similar-case hits found and the contributions computed; ``None`` where
    nothing was recorded (no semantic layer, no ranker)."""

    case_hits: CaseHitRecorder | None
    contributions: ContributionRecorder | None
