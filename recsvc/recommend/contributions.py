"""Model contributions of offered rows, kept with the version for the live calls.

Part of what explaining the portal lists computed (:mod:`recsvc.recommend.kept`):
LightGBM's TreeSHAP costs 0.34 ms per (client, product) row, about 2 ms per live call.
Contributions depend on the version's model and the row's features only, so each row
is kept with a digest of its features (:func:`row_digest`): a row whose features
changed since (a purchase, a decline, another day) is computed again, the others stay
valid.

Layout of ``kept/contributions/``: ``rows.npy`` (sorted ``client id * products +
product``), ``digests.npy`` (of the rows' features), ``features.npy`` and
``values.npy`` (per row, the top contributions' feature columns, ``-1`` padded, and
values), and ``config.json`` (:class:`~recsvc.artifact.ArtifactKind`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recsvc.artifact import ArtifactKind
from recsvc.recommend.kept import mapped_arrays, open_table, saved_fingerprint

if TYPE_CHECKING:
    from recsvc.recommend.scored import ScoredRanker

__all__ = [
    "CONTRIBUTION_FILES",
    "TOP_CONTRIBUTIONS",
    "ContributionFinder",
    "ContributionRecorder",
    "ContributionTable",
    "erase_contributions",
    "row_digest",
]

log = logging.getLogger(__name__)

#: Positive contributions kept per row (an explanation names at most two).
TOP_CONTRIBUTIONS = 4
#: The folder of the table (the number kept per row is part of its fingerprint).
CONTRIBUTION_FILES = ArtifactKind("contributions", format=1)
_FINGERPRINT = f"top {TOP_CONTRIBUTIONS}"


def row_digest(features: np.ndarray) -> int:
    """A 64-bit digest of one row of model features (its dtype and bytes)."""
    row = np.ascontiguousarray(features)
    digest = hashlib.blake2b(row.dtype.str.encode(), digest_size=8)
    digest.update(row.tobytes())
    return int.from_bytes(digest.digest(), "little")


class ContributionRecorder:
    """Collects the top contributions of every row explained, with its features' digest."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, list[tuple[int, float]]]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, row: int, digest: int, top: list[tuple[int, float]]) -> None:
        self._rows[int(row)] = (digest, top[:TOP_CONTRIBUTIONS])

    def merge(self, other: ContributionRecorder) -> None:
        """Add the rows ``other`` recorded (see :meth:`CaseHitRecorder.merge`)."""
        self._rows.update(other._rows)

    def save(self, folder: Path) -> Path:
        """Write the table to ``folder`` (replaced whole)."""
        rows = np.array(sorted(self._rows), dtype=np.int64)
        digests = np.zeros(len(rows), dtype=np.uint64)
        features = np.full((len(rows), TOP_CONTRIBUTIONS), -1, dtype=np.int32)
        values = np.zeros((len(rows), TOP_CONTRIBUTIONS), dtype=np.float64)
        for i, row in enumerate(rows.tolist()):
            digests[i], top = self._rows[row]
            for j, (feature, value) in enumerate(top):
                features[i, j], values[i, j] = feature, value
        with CONTRIBUTION_FILES.save(folder, fingerprint=_FINGERPRINT) as tmp:
            for name, array in (
                ("rows", rows),
                ("digests", digests),
                ("features", features),
                ("values", values),
            ):
                np.save(tmp / f"{name}.npy", array)
        log.info("contributions of %d rows written to %s", len(rows), folder)
        return folder


class ContributionTable:
    """The saved top contributions of a version's offered rows, mapped (see the module)."""

    def __init__(self, folder: Path) -> None:
        self._rows, self._digests, self._features, self._values = mapped_arrays(
            folder, "rows", "digests", "features", "values"
        )

    @classmethod
    def open(cls, folder: Path) -> ContributionTable | None:
        """The table in ``folder`` (``None`` when there is none)."""
        return open_table(cls, Path(folder), CONTRIBUTION_FILES, _FINGERPRINT)

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, row: int, digest: int) -> list[tuple[int, float]] | None:
        """``(feature column, value)`` pairs saved for ``row`` when its features are
        still those of ``digest`` (``None``: not saved, or computed on other features)."""
        i = int(np.searchsorted(self._rows, row))
        if i >= len(self._rows) or self._rows[i] != row or int(self._digests[i]) != digest:
            return None
        pairs = zip(self._features[i].tolist(), self._values[i].tolist(), strict=True)
        return [(f, v) for f, v in pairs if f >= 0]


class ContributionFinder:
    """The top positive model contributions of offered (client, product) rows: from
    the version's kept table when it holds the row with these features, else computed
    (TreeSHAP); while recording (:meth:`record`), every row is computed and kept for
    :attr:`recorder`'s table (thread-safe).

    Args:
        table: the contributions the version kept, or ``None``.
    """

    def __init__(self, table: ContributionTable | None) -> None:
        self.table = table
        #: what was computed since :meth:`record` (``None``: not recording)
        self.recorder: ContributionRecorder | None = None
        self._lock = threading.Lock()

    def record(self) -> None:
        """Compute and keep every row from now on (the table is no longer read)."""
        with self._lock:
            self.table, self.recorder = None, ContributionRecorder()

    def top(
        self, ranker: ScoredRanker, ids: np.ndarray, codes: np.ndarray
    ) -> dict[tuple[int, str], list[tuple[str, float]]]:
        """Each offered row's top contributions by feature name: ``codes[i]`` are
        client ``ids[i]``'s offered products (``""`` pads). While recording TreeSHAP
        runs on every core (training, ``recsvc serving build``: a third of writing the
        portal lists); in a server on one, whose few rows would only spin threads
        against the other workers."""
        all_codes = {c: j for j, c in enumerate(ranker.codes_)}
        m = len(all_codes)
        names = ranker.feature_names_
        X = ranker.feature_matrix(ids)
        kept, recorder = self.table, self.recorder
        out: dict[tuple[int, str], list[tuple[str, float]]] = {}
        todo: list[tuple[tuple[int, str], int, int, int]] = []  # key, X row, table row, digest
        for i, cid in enumerate(ids):
            for c in codes[i]:
                if not c:
                    continue
                key, at, row = (int(cid), str(c)), i * m + all_codes[c], int(cid) * m + all_codes[c]
                digest = row_digest(X[at]) if kept is not None or recorder is not None else 0
                top = kept.get(row, digest) if kept is not None else None
                if top is None:
                    todo.append((key, at, row, digest))
                else:
                    out[key] = [(names[f], v) for f, v in top]
        if not todo:
            return out
        with self._lock:  # one booster call at a time (LightGBM predict is not reentrant)
            contrib = ranker.model_.predict(
                X[[at for _, at, _, _ in todo]],
                pred_contrib=True,
                num_threads=0 if recorder is not None else 1,
            )
        for (key, _, row, digest), values in zip(todo, contrib[:, :-1], strict=True):
            top = [
                (int(f), float(values[f]))
                for f in np.argsort(-values)[:TOP_CONTRIBUTIONS]
                if values[f] > 0
            ]
            if recorder is not None:
                with self._lock:
                    recorder.add(row, digest, top)
            out[key] = [(names[f], v) for f, v in top]
        return out


def erase_contributions(folder: Path, *, client_id: int, n_products: int | None) -> int:
    """Rewrite the contribution table in ``folder`` without one client's rows (an
    erasure); without ``n_products`` (the ranker's product count, which row keys are
    made of) the table is removed whole (live calls compute what it held).

    Returns:
        The number of rows removed.
    """
    folder = Path(folder)
    if not (folder / "config.json").exists():
        return 0
    arrays = {n: np.load(folder / f"{n}.npy") for n in ("rows", "digests", "features", "values")}
    if not n_products:
        shutil.rmtree(folder)
        return len(arrays["rows"])
    keep = arrays["rows"] // n_products != int(client_id)
    fingerprint = saved_fingerprint(folder)
    with CONTRIBUTION_FILES.save(folder, fingerprint=fingerprint) as tmp:
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array[keep])
    return int((~keep).sum())
