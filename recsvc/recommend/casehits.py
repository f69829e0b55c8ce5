"""Similar-case hits of trigger commissions, saved with a version and mapped by its workers.

An explanation's similar case comes from a hybrid search (dense and BM25) of the past
cases for the client's trigger commission: about 3 ms over 87k cases, two or three
times per live call at 100k clients, half of the call. The portal lists computed after
training run the same searches for every client's offers, so :class:`CaseHitRecorder`
keeps what they found and :class:`CaseHitTable` serves it to the live calls as a lookup.

The hits of a commission depend on the semantic index only (not on the client asking
nor on the surface: scopes filter the hits afterwards), so the table is keyed by the
commission and fingerprinted by :meth:`SemanticLayer.signature`; a table of another
index is ignored and the searches run live again.

Layout of ``serving/cases/``: ``triggers.npy`` (sorted commission ids), ``starts.npy``
(each trigger's first hit; one more entry than triggers), ``hit_cases.npy`` and
``hit_scores.npy`` (per hit: the case's row and fused score), ``cases.bin`` with
``case_spans.npy`` (per case, one JSON record ``[id, product, owner, summary_en,
summary_zh]``), and ``meta.json``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from recsvc.files import map_records, prefetch, replaced_folder, write_records

__all__ = ["CASE_DEPTH", "CaseHit", "CaseHitRecorder", "CaseHitTable", "case_hit"]

log = logging.getLogger(__name__)

#: Hits kept per trigger commission: an offer's similar case must be of the offered
#: product, so several products' cases are searched at once.
CASE_DEPTH = 30
_FORMAT = 1

#: One similar-case hit as explanations keep it: ``(id, score, product code, owner
#: client id, summary in English, summary in Chinese)``. A plain tuple of plain values,
#: which the cyclic GC stops tracking (a named tuple it would walk on every collection).
CaseHit = tuple[str, float, str | None, int | None, str, str]


def case_hit(hit: Any) -> CaseHit:
    """The compact form of a :class:`~recsvc.semantic.SearchHit` of a case."""
    meta = hit.meta or {}
    en = str(hit.summary or "")
    owner = meta.get("client_id")
    return (
        str(hit.id),
        float(hit.score),
        meta.get("product_code"),
        None if owner is None else int(owner),
        en,
        str(meta.get("summary_zh") or en),
    )


class CaseHitRecorder:
    """Collects the hits of every trigger searched (compactly: each case once)."""

    def __init__(self) -> None:
        self._cases: dict[str, int] = {}
        self._case_rows: list[bytes] = []
        self._hits: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._hits)

    def add(self, trigger: int, hits: tuple[CaseHit, ...]) -> None:
        rows = np.empty(len(hits), dtype=np.int32)
        for i, (case_id, _, product, owner, en, zh) in enumerate(hits):
            row = self._cases.get(case_id)
            if row is None:
                row = self._cases[case_id] = len(self._case_rows)
                record = [case_id, product, owner, en, zh]
                self._case_rows.append(json.dumps(record, ensure_ascii=False).encode())
            rows[i] = row
        scores = np.fromiter((h[1] for h in hits), dtype=np.float64, count=len(hits))
        self._hits[int(trigger)] = (rows, scores)

    def save(self, folder: Path, signature: str) -> Path:
        """Write the table to ``folder`` (replaced whole) for the index ``signature``."""
        triggers = np.array(sorted(self._hits), dtype=np.int64)
        lists = [self._hits[int(t)] for t in triggers]
        sizes = np.array([len(r) for r, _ in lists], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        with replaced_folder(folder) as tmp:
            spans = write_records(tmp / "cases.bin", self._case_rows)
            np.save(tmp / "case_spans.npy", np.array(spans, dtype=np.int64).reshape(-1, 2))
            np.save(tmp / "triggers.npy", triggers)
            np.save(tmp / "starts.npy", starts)
            empty_rows, empty_scores = np.zeros(0, np.int32), np.zeros(0, np.float64)
            np.save(tmp / "hit_cases.npy", np.concatenate([empty_rows, *(r for r, _ in lists)]))
            np.save(tmp / "hit_scores.npy", np.concatenate([empty_scores, *(s for _, s in lists)]))
            meta = {"format": _FORMAT, "signature": signature, "depth": CASE_DEPTH}
            (tmp / "meta.json").write_text(json.dumps(meta))
        log.info(
            "similar-case hits of %d trigger commissions (%d cases) written to %s",
            len(triggers),
            len(self._case_rows),
            folder,
        )
        return folder


class CaseHitTable:
    """The saved hits of a version's trigger commissions, mapped (see the module)."""

    def __init__(self, folder: Path) -> None:
        files = [folder / f"{n}.npy" for n in ("triggers", "starts", "hit_cases", "hit_scores")]
        prefetch(*files)
        self._triggers, self._starts, self._rows, self._scores = (
            np.load(f, mmap_mode="r") for f in files
        )
        self._spans = np.load(folder / "case_spans.npy")
        self._blob = map_records(folder / "cases.bin")

    @classmethod
    def open(cls, folder: Path, signature: str) -> CaseHitTable | None:
        """The table in ``folder`` when it was saved for the index ``signature``."""
        try:
            meta = json.loads((Path(folder) / "meta.json").read_text())
            if meta != {"format": _FORMAT, "signature": signature, "depth": CASE_DEPTH}:
                log.info("similar-case hits in %s are another index's; searching live", folder)
                return None
            table = cls(Path(folder))
        except (OSError, ValueError, KeyError) as exc:
            log.info("no similar-case hits loaded from %s: %s", folder, exc)
            return None
        log.info("similar-case hits of %d trigger commissions mapped", len(table))
        return table

    def __len__(self) -> int:
        return len(self._triggers)

    def get(self, trigger: int) -> tuple[CaseHit, ...] | None:
        """The hits saved for ``trigger`` (``None``: not searched when the table was made)."""
        i = int(np.searchsorted(self._triggers, trigger))
        if i >= len(self._triggers) or self._triggers[i] != trigger:
            return None
        a, b = self._starts[i : i + 2].tolist()
        out = []
        for row, score in zip(self._rows[a:b].tolist(), self._scores[a:b].tolist(), strict=True):
            offset, length = self._spans[row].tolist()
            case_id, product, owner, en, zh = json.loads(self._blob[offset : offset + length])
            out.append((case_id, score, product, owner, en, zh))
        return tuple(out)
