"""A fitted ranker serving one snapshot: every client's scores, computed once or mapped.

:class:`ScoredRanker` wraps a fitted :class:`~recsvc.recommend.ranker.Ranker` (the
estimator) the way a search index wraps a model: :meth:`ScoredRanker.bind` fits the
candidate sources on the serving snapshot and keeps the ranker's rows of every client
scored so far, so that a live call is a row lookup. With ``precompute`` every client
is scored at once, or the rows are mapped from a folder that :meth:`ScoredRanker.save`
wrote for the same snapshot (:data:`RANKER_FILES`, checked by
:meth:`ScoredRanker.fingerprint`), and so are the candidate sources' dear parts
(``sources/<name>/``, :meth:`~recsvc.recommend.sources.CandidateSource.save_fitted`:
the buyers' and the past cases' vectors). Training and ``recsvc serving build`` write
that folder (:mod:`recsvc.serving.build`); a server only opens it.

Example:
    >>> scored = ScoredRanker(Ranker.load(folder)).bind(ctx, precompute=True)  # doctest: +SKIP
    >>> scored.recommend(np.array([1, 2]), 5)                                   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.artifact import ArtifactKind
from recsvc.files import prefetch
from recsvc.recommend.context import RecContext
from recsvc.recommend.ranker import PairRows, Ranker
from recsvc.recommend.sources import CandidateSource, Exclude, top_k
from recsvc.store.memo import column_arrays
from recsvc.store.stamp import digest_tables, snapshot_digest

__all__ = ["RANKER_FILES", "ScoredRanker"]

log = logging.getLogger(__name__)

#: The folder of the scores :meth:`ScoredRanker.save` writes.
RANKER_FILES = ArtifactKind("ranker", format=2)
#: In a folder of :data:`RANKER_FILES`: what the candidate sources saved, one folder each.
SOURCES = "sources"


#: Clients scored at once: a batch's pair features are built whole, so the batch size
#: bounds that scratch memory, whatever the number of clients.
CHUNK = 10_000


class ScoredRanker(CandidateSource):
    """A fitted ranker bound to a serving snapshot, with every scored client's rows kept.

    A candidate source like the others (``codes_``, :meth:`scores`,
    :meth:`recommend`), so the recommender and the contract tests use it alike.

    Args:
        ranker: the estimator; fitted, or fitted by :meth:`fit`.
    """

    name = "ranker"
    context_: RecContext
    sources_: list[CandidateSource]

    def __init__(self, ranker: Ranker) -> None:
        self.ranker = ranker

    def fit(self, context: RecContext) -> ScoredRanker:
        """Fit the wrapped ranker on ``context``, then :meth:`bind` it to the same."""
        self.ranker.fit(context)
        return self.bind(context)

    def bind(
        self, context: RecContext, *, precompute: bool = False, saved: Path | None = None
    ) -> ScoredRanker:
        """Fit the candidate sources on ``context`` (the serving snapshot).

        Args:
            context: the serving snapshot.
            precompute: score every client of ``context`` now, in one batch, so that a
                live call is a row lookup; otherwise clients are scored on demand and
                kept.
            saved: with ``precompute``, a folder of :meth:`save`: when it holds this
                snapshot's scores (:meth:`fingerprint`) they and the sources' saved
                parts are mapped from there, otherwise they are computed in memory
                (never written here).
        """
        self.context_ = context
        self.codes_ = self.ranker.codes_
        self._lock = threading.Lock()
        self._index: dict[int, int] = {}
        self._scores: pd.DataFrame | None = None
        self._features: np.ndarray | None = None
        meta = None  # the config of a folder of this snapshot's scores, if there is one
        if precompute and saved is not None:
            meta = RANKER_FILES.open(saved, fingerprint=self.fingerprint())
        mapped = Path(saved) if meta is not None and saved is not None else None
        self.sources_ = self.ranker.fit_sources(
            context, mapped / SOURCES if mapped is not None else None
        )
        if precompute:
            ids = context.clients.index.to_numpy(dtype=np.int64)
            if len(ids) and (mapped is None or meta is None or not self._open(mapped, meta, ids)):
                self._rows(ids)
        return self

    # -- what the recommender reads of the ranker -------------------------------------
    @property
    def feature_names_(self) -> list[str]:
        """The ranker's input columns, in :meth:`feature_matrix` order."""
        return self.ranker.feature_names_

    @property
    def model_(self) -> Any:
        """The ranker's booster (explanations compute contributions with it)."""
        return self.ranker.model_

    @property
    def mapped(self) -> bool:
        """Whether the rows are mapped from a folder of :meth:`save` (not computed)."""
        return isinstance(self._features, np.memmap)

    # -- the snapshot's scores as files ---------------------------------------------
    def fingerprint(self) -> str:
        """What the scores and feature rows depend on: the model's products and
        features, the cutoff, every frame of the snapshot (feedback events too), the
        client features and value probabilities (what they were computed from, when
        the context knows: :attr:`~recsvc.recommend.context.RecContext.features_key`),
        and the semantic index."""
        context = self.context_
        h = hashlib.sha256(
            json.dumps(
                [str(context.cutoff), list(self.codes_), self.ranker.feature_names_]
            ).encode()
        )
        h.update(snapshot_digest(context.history).encode())  # once per snapshot
        if context.features_key is not None:  # hashing them: 0.1-0.3 s of a start at 100k
            h.update(context.features_key.encode())
        else:
            digest_tables(h, (context.features, context.value_proba))
        semantic = context.semantic
        if semantic is not None:
            h.update(semantic.signature().encode())
        return h.hexdigest()[:20]

    def save(self, folder: Path) -> Path:
        """Write the scores and feature rows of every client of the bound snapshot, in
        its order, into ``folder``, replaced whole: training and ``recsvc serving
        build`` do, servers never."""
        ids = self.context_.clients.index.to_numpy(dtype=np.int64)
        rows = self._row_index(ids)  # scores the clients not kept yet
        assert self._scores is not None and self._features is not None
        frame, X = self._scores.iloc[rows], self._features[rows]
        columns = [c for c in frame.columns if c not in ("client_id", "code")]  # rebuilt
        with RANKER_FILES.save(folder, fingerprint=self.fingerprint(), columns=columns) as tmp:
            np.save(tmp / "clients.npy", ids)
            np.save(tmp / "features.npy", X)
            for col in columns:
                np.save(tmp / f"{col}.npy", frame[col].to_numpy())
            for source in self.sources_:
                source.save_fitted(tmp / SOURCES / source.name)
        return Path(folder)

    def _open(self, folder: Path, meta: dict[str, Any], ids: np.ndarray) -> bool:
        """Map the scores saved in ``folder`` (``meta``: its config, of this snapshot)."""
        try:
            if not np.array_equal(np.load(folder / "clients.npy"), ids):
                return False
            names = meta["columns"]
            files = [folder / f"{c}.npy" for c in ("features", *names)]
            prefetch(*files)
            X = np.load(files[0], mmap_mode="r")
            columns = {c: np.load(f, mmap_mode="r") for c, f in zip(names, files[1:], strict=True)}
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ranker scores in %s unreadable: %s", folder, exc)
            return False
        m = len(self.codes_)
        frame = pd.DataFrame(
            {"client_id": np.repeat(ids, m), "code": np.tile(self.codes_, len(ids)), **columns},
            copy=False,  # the mapped arrays themselves: every worker shares one copy
        )
        self._scores, self._features = frame, X
        self._index = {int(c): i for i, c in enumerate(ids.tolist())}
        log.info("ranker scores of %d clients mapped from %s", len(ids), folder)
        return True

    # -- lookups ------------------------------------------------------------------
    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of ``ids``' blocks, scoring the clients not yet kept first."""
        index = self._index
        missing = [int(c) for c in dict.fromkeys(ids.tolist()) if int(c) not in index]
        if missing:
            with self._lock:
                missing = [c for c in missing if c not in self._index]
                if missing:
                    parts = self._predict(np.asarray(missing, dtype=np.int64))
                    start = 0 if self._scores is None else len(self._scores) // len(self.codes_)
                    frames = [r.scores for r in parts]
                    rows = [r.features for r in parts]
                    if self._scores is not None and self._features is not None:
                        frames, rows = [self._scores, *frames], [self._features, *rows]
                    merged = pd.concat(frames, ignore_index=True)
                    merged_X = np.vstack(rows)
                    # publish the arrays before the ids that point into them
                    self._scores, self._features = merged, merged_X
                    for i, c in enumerate(missing):
                        self._index[c] = start + i
            index = self._index
        return np.asarray([index[int(c)] for c in ids], dtype=np.int64)

    def _predict(self, ids: np.ndarray) -> list[PairRows]:
        """The ranker's rows of ``ids``, :data:`CHUNK` clients at a time."""
        return [
            self.ranker.predict(self.context_, ids[at : at + CHUNK], self.sources_)
            for at in range(0, len(ids), CHUNK)
        ]

    def _row_index(self, client_ids: np.ndarray) -> np.ndarray:
        m = len(self.codes_)
        blocks = self._rows(np.asarray(client_ids, dtype=np.int64))
        return (blocks[:, None] * m + np.arange(m)[None, :]).ravel()

    def predict_frame(self, client_ids: np.ndarray) -> pd.DataFrame:
        """One row per (client, product) (:class:`~recsvc.recommend.ranker.PairRows`'s
        ``scores``), client-major; safe from several threads."""
        rows = self._row_index(client_ids)
        frame = self._scores
        assert frame is not None
        return frame.iloc[rows].reset_index(drop=True)

    def predicted(self, client_ids: np.ndarray, columns: Sequence[str]) -> dict[str, np.ndarray]:
        """``columns`` of :meth:`predict_frame` as arrays, client-major: the same rows
        without building a frame of them (most of a live call's ranking before)."""
        rows = self._row_index(client_ids)
        frame = self._scores
        assert frame is not None
        arrays = column_arrays(frame)
        return {c: arrays[c][rows] for c in columns}

    def feature_matrix(self, client_ids: np.ndarray) -> np.ndarray:
        """The model's input rows for ``client_ids``, client-major (``feature_names_`` order)."""
        rows = self._row_index(client_ids)
        X = self._features
        assert X is not None
        return X[rows]

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        """Calibrated purchase probabilities ``(n, n_products)``; ineligible = ``nan``."""
        proba = self.predicted(client_ids, ["proba"])["proba"]
        return proba.reshape(len(client_ids), len(self.codes_))

    def recommend(
        self, client_ids: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` product codes and calibrated probabilities per client."""
        ids = np.asarray(client_ids, dtype=np.int64)
        return top_k(self.codes_, self.scores(ids), k, ids, exclude)
