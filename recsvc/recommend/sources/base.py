"""What every candidate source shares: the base class, the top-k selection with an
exclude-set, the purchase matrices, and the saved vectors a source's fit may map.
(The value-added cases several sources learn from are the context's:
:attr:`RecContext.value_added`.)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from recsvc.recommend.context import FOLLOW_DAYS, RecContext, value_added_cases
from recsvc.recommend.vectors import Vectors

__all__ = [
    "FOLLOW_DAYS",
    "RECENT_DAYS",
    "CandidateSource",
    "Exclude",
    "keyed_vectors",
    "purchase_matrix",
    "save_columns",
    "save_keyed_vectors",
    "saved_columns",
    "top_k",
    "value_added_cases",
]

log = logging.getLogger(__name__)

Exclude = Mapping[int, set[str] | frozenset[str]] | None

#: Purchases older than this many days do not make a client a recent buyer.
RECENT_DAYS = 3 * 365


def top_k(
    codes: np.ndarray, scores: np.ndarray, k: int, client_ids: np.ndarray, exclude: Exclude = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` codes per row of a score matrix; ``nan`` and excluded items are dropped.

    Returns:
        ``(codes, scores)`` arrays of shape ``(n, k)``, padded with ``""`` and ``-inf``.
    """
    n = scores.shape[0]
    s = np.where(np.isnan(scores), -np.inf, scores).astype(float)
    if exclude:
        col = {c: j for j, c in enumerate(codes)}
        for i, cid in enumerate(client_ids):
            for code in exclude.get(int(cid), ()):
                if code in col:
                    s[i, col[code]] = -np.inf
    out_codes = np.full((n, k), "", dtype=object)
    out_scores = np.full((n, k), -np.inf)
    if n == 0 or k == 0:
        return out_codes, out_scores
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(s, order, axis=1)
    width = order.shape[1]
    ok = np.isfinite(picked)
    out_codes[:, :width] = np.where(ok, np.asarray(codes, dtype=object)[order], "")
    out_scores[:, :width] = np.where(ok, picked, -np.inf)
    return out_codes, out_scores


class CandidateSource:
    """Base class: subclasses implement :meth:`fit` and :meth:`scores`."""

    name: str = "source"

    def fit(self, context: RecContext) -> CandidateSource:
        """Learn from the context's point-in-time snapshot."""
        self.context_ = context
        self.codes_ = context.codes
        return self

    def fit_from(self, context: RecContext, saved: Path | None) -> CandidateSource:
        """:meth:`fit`, taking what ``saved`` holds (written by :meth:`save_fitted` for
        this very snapshot: the caller checked) instead of computing it."""
        return self.fit(context)

    def save_fitted(self, folder: Path) -> None:
        """Write into ``folder`` what :meth:`fit_from` can take instead of computing it
        (nothing, unless a source's fit has something dear to compute)."""

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        """Score matrix ``(n, n_products)`` in :attr:`codes_` order; ``nan`` = no evidence."""
        raise AttributeError(f"{type(self).__name__} must implement scores()")

    def recommend(
        self, client_ids: np.ndarray, k: int, exclude: Exclude = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` product codes and scores per client."""
        client_ids = np.asarray(client_ids, dtype=np.int64)
        return top_k(self.codes_, self.scores(client_ids), k, client_ids, exclude)

    def _code_index(self) -> dict[str, int]:
        return {c: j for j, c in enumerate(self.codes_)}


def purchase_matrix(orders: pd.DataFrame, client_ids: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """0/1 matrix: did the client buy the product (any time in ``orders``)."""
    m = np.zeros((len(client_ids), len(codes)))
    if orders.empty:
        return m
    row = pd.Series(np.arange(len(client_ids)), index=pd.Index(client_ids))
    col = pd.Series(np.arange(len(codes)), index=pd.Index(codes))
    o = orders[orders["client_id"].isin(row.index) & orders["product_code"].isin(col.index)]
    m[row.loc[o["client_id"]].to_numpy(), col.loc[o["product_code"]].to_numpy()] = 1.0
    return m


def keyed_vectors(
    saved: Path | None, name: str, ids: np.ndarray, compute: Callable[[], Vectors]
) -> Vectors:
    """The vectors of the rows ``ids``: mapped from ``saved`` when they were saved there
    for exactly these ids (:func:`save_keyed_vectors`), else ``compute()``."""
    if saved is not None:
        try:
            if np.array_equal(np.load(saved / f"{name}.ids.npy"), ids):
                return Vectors.open(saved, name)
        except (OSError, ValueError) as exc:
            log.info("no saved %s vectors in %s: %s", name, saved, exc)
    return compute()


def save_keyed_vectors(folder: Path, name: str, ids: np.ndarray, vectors: Vectors) -> None:
    """Write ``vectors`` (one row per id of ``ids``) for :func:`keyed_vectors`."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{name}.ids.npy", np.asarray(ids))
    vectors.save(folder, name)


def save_columns(folder: Path, name: str, frame: pd.DataFrame) -> None:
    """Write ``frame``'s columns (numbers, dates, text; its index is not kept) for
    :func:`saved_columns`.

    Raises:
        ValueError: a text column with a missing value (it would come back as "nan").
    """
    folder.mkdir(parents=True, exist_ok=True)
    columns = [str(c) for c in frame.columns]
    for i, col in enumerate(frame.columns):
        values = frame[col]
        text = isinstance(values.dtype, pd.StringDtype) or values.dtype == object
        if text and values.isna().any():
            raise ValueError(f"text column {col!r} of {name} has missing values")
        np.save(folder / f"{name}.{i}.npy", values.to_numpy(str) if text else values.to_numpy())
    (folder / f"{name}.json").write_text(json.dumps(columns))


def saved_columns(folder: Path | None, name: str) -> pd.DataFrame | None:
    """The frame :func:`save_columns` wrote (text columns as ``str``), or ``None``."""
    if folder is None:
        return None
    try:
        columns = json.loads((folder / f"{name}.json").read_text())
        arrays = {c: np.load(folder / f"{name}.{i}.npy") for i, c in enumerate(columns)}
    except (OSError, ValueError) as exc:
        log.info("no saved %s in %s: %s", name, folder, exc)
        return None
    return pd.DataFrame(arrays)
