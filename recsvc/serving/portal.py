"""A version's portal lists: every client's offers, stored as the bytes served.

Training computes each client's portal list once (:func:`portal_rows`, written by
:func:`~recsvc.serving.build.write_version_files`) and stores it as
:func:`~recsvc.recommend.offer.dump_offers` bytes; a server maps the file
(:class:`PortalLists`) and answers with those bytes as they are.

Example:
    >>> lists = PortalLists.open(version_dir / PORTAL)     # doctest: +SKIP
    >>> count, body = lists[client_id]                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from recsvc.artifact import ArtifactKind
from recsvc.files import map_records, write_records
from recsvc.recommend import reasons
from recsvc.recommend.offer import OFFERS, Offer, dump_offers
from recsvc.recommend.service import Recommender
from recsvc.store.enums import Surface

__all__ = [
    "PORTAL_FILES",
    "PortalLists",
    "erase_from_lists",
    "portal_clients",
    "portal_rows",
]

log = logging.getLogger(__name__)

#: The folder of :class:`PortalLists`.
PORTAL_FILES = ArtifactKind("portal", format=2)
#: Clients recommended for at once while writing the lists.
BATCH = 500


class PortalLists(Mapping[int, tuple[int, bytes]]):
    """A version's precomputed portal lists in their served form, memory-mapped.

    ``lists[client_id]`` is ``(number of offers, JSON array bytes)``. The arrays live in
    one file beside an index of ``(client id, offset, length, count)`` rows; every
    worker process maps the same file (one copy in the page cache) instead of holding
    a gigabyte of JSON each at 100k clients.
    """

    def __init__(self, index: np.ndarray, data: Any) -> None:
        self._ids = np.ascontiguousarray(index[:, 0])
        self._index = index
        self._map = data

    @classmethod
    def empty(cls) -> PortalLists:
        """No lists (a version trained without them)."""
        return cls(np.zeros((0, 4), dtype=np.int64), b"")

    @classmethod
    def open(cls, folder: Path) -> PortalLists:
        """The lists saved in ``folder`` (empty when there are none of this format)."""
        folder = Path(folder)
        if PORTAL_FILES.open(folder) is None:
            return cls.empty()
        return cls(np.load(folder / "index.npy"), map_records(folder / "lists.bin"))

    @staticmethod
    def write(folder: Path, lists: Iterable[tuple[int, int, bytes]]) -> int:
        """Save ``(client id, number of offers, JSON array)`` rows into ``folder``.

        Returns:
            The number of clients written.
        """
        heads: list[tuple[int, int]] = []

        def blobs() -> Iterator[bytes]:
            for cid, count, blob in lists:
                heads.append((cid, count))
                yield blob

        with PORTAL_FILES.save(folder) as tmp:
            spans = write_records(tmp / "lists.bin", blobs())
            rows = [(c, o, n, k) for (c, k), (o, n) in zip(heads, spans, strict=True)]
            index = np.array(sorted(rows), dtype=np.int64).reshape(-1, 4)
            np.save(tmp / "index.npy", index)
        return len(rows)

    def _at(self, client_id: int) -> int:
        i = int(np.searchsorted(self._ids, client_id))
        return i if i < len(self._ids) and self._ids[i] == client_id else -1

    def __getitem__(self, client_id: int) -> tuple[int, bytes]:
        i = self._at(int(client_id))
        if i < 0:
            raise KeyError(client_id)
        _, offset, length, count = self._index[i].tolist()
        return count, bytes(self._map[offset : offset + length])

    def __contains__(self, client_id: object) -> bool:
        return isinstance(client_id, int | np.integer) and self._at(int(client_id)) >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)


def portal_clients(recommender: Recommender) -> np.ndarray:
    """The clients that get a portal list: every client with a commission, sorted."""
    ctx = recommender.context
    ids = ctx.clients.index.to_numpy(dtype=np.int64)
    return np.sort(ids[np.isin(ids, ctx.frames.commissions["client_id"].unique())])


def portal_rows(
    recommender: Recommender, client_ids: np.ndarray, k: int
) -> Iterator[tuple[int, int, bytes]]:
    """``(client id, number of offers, JSON array)`` of each client's portal list, as
    :meth:`PortalLists.write` takes them, computed :data:`BATCH` clients at a time."""
    for start in range(0, len(client_ids), BATCH):
        batch = recommender.recommend_many(
            client_ids[start : start + BATCH], Surface.PORTAL, k, live=False
        )
        for cid, offers in batch.items():
            yield int(cid), len(offers), dump_offers(offers)


def _without_cases(offers: list[Offer], quoted: set[str], case_ids: set[str]) -> int:
    """Take out of ``offers`` (in place) the similar-case evidence that quotes one of
    ``quoted`` or cites one of ``case_ids``, and its reason lines; how many went."""
    removed = 0
    for i, offer in enumerate(offers):
        gone = [
            e
            for e in offer.evidence
            if e.kind == "similar_case"
            and (e.text_en in quoted or e.text_zh in quoted or (e.ref or "") in case_ids)
        ]
        if not gone:
            continue
        removed += len(gone)
        drop_zh, drop_en = {e.text_zh for e in gone}, {e.text_en for e in gone}
        offers[i] = offer.model_copy(
            update={
                "evidence": [e for e in offer.evidence if e not in gone],
                "reasons_zh": [r for r in offer.reasons_zh if r not in drop_zh],
                "reasons_en": [r for r in offer.reasons_en if r not in drop_en],
            }
        )
    return removed


def erase_from_lists(
    folder: Path,
    client_id: int,
    *,
    case_summaries: Iterable[tuple[str, str]] = (),
    case_ids: Iterable[str] = (),
) -> tuple[int, int]:
    """Rewrite the portal lists in ``folder`` without one client (an erasure): its own
    list goes, and every other list loses the similar-case evidence that quotes one of
    its cases (``case_summaries``: their English and Chinese summaries) or cites one
    (``case_ids``). The lists left untouched keep their bytes.

    Returns:
        ``(lists removed, evidence items removed from other lists)``.
    """
    lists = PortalLists.open(folder)
    if not len(lists):
        return 0, 0
    quoted: set[str] = set()
    for en, zh in case_summaries:
        case = reasons.similar_case(zh, en, None, 0.0)
        quoted.update((case.text_en, case.text_zh))
    ids = {str(c) for c in case_ids}
    cid = int(client_id)
    dropped = int(cid in lists)
    patched = 0

    def rows() -> Iterator[tuple[int, int, bytes]]:
        nonlocal patched
        for other in lists:
            if other == cid:
                continue
            count, blob = lists[other]
            if quoted or ids:
                offers = OFFERS.validate_json(blob)
                n = _without_cases(offers, quoted, ids)
                if n:
                    patched += n
                    blob = dump_offers(offers)
            yield other, count, blob

    if dropped or quoted or ids:
        PortalLists.write(folder, rows())
    return dropped, patched
