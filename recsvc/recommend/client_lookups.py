"""What explanations look up about one client: its projects, purchases and best cases.

:class:`ClientLookups` owns the snapshot's :class:`~recsvc.recommend.explain_state.
ExplainerState` (computed in batch by :meth:`~ClientLookups.prepare`, or mapped from
what training saved) and answers per-client questions from it: the client's latest
commissions, what it bought, each commission's similarity to a product, recency
weights, recent purposes, its best past case of a product, a commission id by public
id. A client added after the snapshot is read from the context's frames once and kept.
The :class:`~recsvc.recommend.evidence.EvidenceFinder` asks these questions and turns
the answers into evidence; neither it nor the explainer reads the state itself.

Safe from several threads: the state is immutable and replaced with one reference
assignment under a lock; the memos only ever gain entries.

Example:
    >>> lookups = ClientLookups(context, CaseBase.of(sources)).prepare()  # doctest: +SKIP
    >>> lookups.bought(client_id)                                         # doctest: +SKIP
    ['trend_analysis']
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
from cachetools import LRUCache

from recsvc.recommend.case_search import closest_cases
from recsvc.recommend.context import RecContext
from recsvc.recommend.explain_inputs import CaseBase
from recsvc.recommend.explain_state import (
    ExplainerState,
    Projects,
    best_cases,
    compute_state,
    load_state,
    new_sims,
    projects,
    rows_of,
    save_state,
    state_fingerprint,
)

__all__ = ["COMM_CACHED", "ClientLookups", "days_before"]

#: Clients whose latest commissions are kept sliced (a live call looks them up
#: several times). As arrays, not frames: a cached frame kept a hundred objects the
#: cyclic GC tracks, and at 4,096 frames every full collection took 120-200 ms.
COMM_CACHED = 4096


def days_before(cutoff: pd.Timestamp, when: np.ndarray) -> np.ndarray:
    """Whole days from each ``datetime64`` in ``when`` to ``cutoff`` (``nan`` for NaT).

    numpy, not ``Series.dt``: a live call asks this of one client's few rows, where
    pandas' per-operation overhead was most of the cost.
    """
    when = when.astype("datetime64[ns]")
    ns = pd.Timestamp(cutoff).as_unit("ns").value - when.astype(np.int64)
    days = np.floor_divide(ns, 86_400 * 10**9).astype(float)
    days[np.isnat(when)] = np.nan
    return days


class ClientLookups:
    """Per-client lookups in a snapshot's explainer state.

    Args:
        context: the serving context (replaced when the context gains clients).
        case_base: the content source's past cases (``None``: no case evidence).
    """

    def __init__(self, context: RecContext, case_base: CaseBase | None) -> None:
        self.context = context
        self.case_base = case_base
        self._lock = threading.RLock()
        self._state: ExplainerState | None = None
        # clients added after the snapshot: their latest commissions and purchases
        self._added: dict[int, tuple[pd.DataFrame, list[str]]] = {}
        self._comm_cache: LRUCache[int, Projects] = LRUCache(COMM_CACHED)
        self._recency: dict[int, np.ndarray] = {}
        self._purposes: dict[tuple[int, int], np.ndarray] = {}
        self._triggers: tuple[pd.DataFrame, dict[str, int]] | None = None
        self._citable: tuple[Collection[str], int, np.ndarray] | None = None

    # -- the precomputed state ----------------------------------------------------------
    @property
    def state(self) -> ExplainerState:
        """The per-client lookups of the snapshot (computed on first use)."""
        state = self._state
        if state is not None:
            return state
        with self._lock:
            if self._state is None:
                self._state = compute_state(self.context, self.case_base)
            return self._state

    def prepare(self, saved: str | Path | None = None) -> ClientLookups:
        """Precompute, for every client at once, what explanations look up.

        Each client's latest commissions (sorted), its purchases, and for every such
        commission its best text similarity to each product (the product's past cases
        and its description) in chunked matrix products. Called once when a
        recommender is built; later calls are lookups (safe from several threads).

        Args:
            saved: a folder of :meth:`save_state`. When it holds the arrays of this
                snapshot (same :meth:`fingerprint`) they are memory-mapped instead of
                computed, the dearest part of loading a model for a server worker;
                otherwise they are computed in memory (never written here).
        """
        if saved is not None:
            loaded = load_state(self.context, Path(saved), self.fingerprint())
            if loaded is not None:
                with self._lock:
                    self._state = loaded
                return self
        state = self.state
        if self.case_base is not None:
            ids = self.context.clients.index.to_numpy(dtype=np.int64)
            more = best_cases(state, self.context, self.case_base, ids, self.frames)
            with self._lock:
                self._state = self.state.with_best_cases(more)
        return self

    def fingerprint(self) -> str:
        """What the precomputed arrays depend on (:func:`state_fingerprint`)."""
        return state_fingerprint(self.context, self.case_base)

    def save_state(self, folder: str | Path) -> Path:
        """Write the arrays :meth:`prepare` computed, for this snapshot, into ``folder``
        (replaced whole): training and ``recsvc serving build`` do, servers never."""
        return save_state(self.state, folder, self.fingerprint())

    # -- per-client lookups -------------------------------------------------------------
    def frames(self, client_ids: np.ndarray) -> pd.DataFrame:
        """:meth:`frame` of several clients as one frame, client by client: the
        snapshot's rows taken at once (a frame per client and their concatenation were
        two thirds of :func:`best_cases` at 10,000 clients)."""
        state = self.state
        rows = [state.positions.get(int(c)) for c in client_ids]
        self._read_added([int(c) for c, at in zip(client_ids, rows, strict=True) if at is None])
        parts = [self.frame(int(c)) for c, at in zip(client_ids, rows, strict=True) if at is None]
        known = [at for at in rows if at is not None]
        if known:
            parts.insert(0, state.latest.iloc[np.concatenate(known)])
        return pd.concat(parts) if len(parts) > 1 else parts[0] if parts else state.latest.iloc[:0]

    def frame(self, client_id: int) -> pd.DataFrame:
        """The client's latest commissions as rows of the snapshot (sorted by date)."""
        cid = int(client_id)
        added = self._added.get(cid)
        if added is not None:
            return added[0]
        state = self.state
        rows = state.positions.get(cid)
        if rows is not None:
            return state.latest.iloc[rows]
        self._read_added([cid])  # a client added after the snapshot (or without commissions)
        return self._added[cid][0]

    def _read_added(self, client_ids: list[int]) -> None:
        """Keep the latest commissions and bought products of clients the state does not
        hold, read in one pass over the context's frames (a pass per client, for the
        clients without commissions, took 7.5 s of the explainer at 100k clients)."""
        todo = [c for c in dict.fromkeys(client_ids) if c not in self._added]
        if not todo:
            return
        ctx = self.context
        comm, orders = ctx.frames.commissions, ctx.orders
        comm = comm[comm["client_id"].isin(todo)]
        orders = orders[orders["client_id"].isin(todo)]
        comm_of = comm.groupby("client_id", sort=False).indices
        orders_of = orders.groupby("client_id", sort=False).indices
        codes = orders["product_code"].astype(str).to_numpy()
        for cid in todo:
            at = comm_of.get(cid, np.zeros(0, dtype=np.int64))
            frame = comm.take(at).sort_values("commissioned_on").tail(30)
            bought = codes[orders_of.get(cid, np.zeros(0, dtype=np.int64))]
            self._added[cid] = (frame, list(dict.fromkeys(bought.tolist())))

    def projects(self, client_id: int) -> Projects:
        """The client's latest commissions as arrays (lookups in the prepared state)."""
        cid = int(client_id)
        with self._lock:
            comm = self._comm_cache.get(cid)
        if comm is None:
            state = self.state
            rows = state.positions.get(cid)
            if rows is not None and cid not in self._added:
                comm = rows_of(state.columns, rows)
            else:
                comm = projects(self.frame(cid))
            with self._lock:
                self._comm_cache[cid] = comm
        return comm

    def bought(self, client_id: int) -> list[str]:
        """Products the client bought, first purchase first."""
        cid = int(client_id)
        state = self.state
        if cid in state.bought:
            return state.bought[cid]
        if cid not in state.positions:
            self.frame(cid)  # a client added after the snapshot: read its orders
        added = self._added.get(cid)
        return added[1] if added is not None else []

    def one_off(self, code: str) -> bool:
        """Whether ``code`` is bought once (no renewal)."""
        return self.state.one_off.get(code, False)

    def similarities(self, comm: Projects, code: str) -> np.ndarray | None:
        """Best similarity of each of ``comm``'s commissions to ``code`` (``None``: no text)."""
        ids = comm["commission_id"]
        if not len(ids):
            return None
        state = self.state
        rows = state.rows.rows(ids)
        if (rows < 0).any():
            with self._lock:
                self._state = new_sims(self.state, self.context, self.case_base, ids)
                state = self._state
            rows = state.rows.rows(ids)
        j = state.codes.get(code)
        if j is None:
            return None
        sim = state.sims[rows, j]
        return None if not len(sim) or np.isneginf(sim).all() else sim

    def recency(self, client_id: int, comm: Projects) -> np.ndarray:
        """``0.5 + 0.5 * 2^(-age / 730 days)`` per commission of ``comm`` (memoised per client)."""
        w = self._recency.get(int(client_id))
        if w is None or len(w) != len(comm["commission_id"]):
            age = days_before(self.context.cutoff, comm["commissioned_on"])
            w = 0.5 + 0.5 * np.power(0.5, np.maximum(age, 0.0) / 730.0)
            self._recency[int(client_id)] = w
        return w

    def recent_purposes(self, client_id: int, lookback_days: int) -> np.ndarray:
        """Distinct purposes of the client's commissions within ``lookback_days``."""
        key = (int(client_id), int(lookback_days))
        found = self._purposes.get(key)
        if found is None:
            comm = self.projects(client_id)
            since = np.datetime64(self.context.cutoff - pd.Timedelta(days=lookback_days), "ns")
            recent = comm["commissioned_on"].astype("datetime64[ns]") >= since  # NaT: not recent
            purposes = comm["purpose"][recent]
            found = np.array(
                list(dict.fromkeys("other" if pd.isna(p) else str(p) for p in purposes)),
                dtype=object,
            )
            self._purposes[key] = found
        return found

    def best_case(self, client_id: int, code: str) -> tuple[int, float] | None:
        """The client's most similar past case of ``code`` (not its own) as ``(row of
        the case base, similarity)``, or ``None``."""
        cid = int(client_id)
        cases = self.case_base
        if cases is None:
            return None
        if cid not in self.state.best:
            more = best_cases(self.state, self.context, cases, np.array([cid]), self.frames)
            with self._lock:
                self._state = self.state.with_best_cases(more)
        state = self.state
        j = state.codes.get(code)
        row = state.best.get(cid)
        if row is None or j is None or row[j, 0] < 0:
            return None
        return int(row[j, 0]), float(row[j, 1])

    def closest_cases(
        self, commission_ids: np.ndarray, owners: np.ndarray, documents: Collection[str]
    ) -> list[list[tuple[str, float]]]:
        """The past cases most like each of ``owners``' commissions ``commission_ids``
        among those ``documents`` holds, the ones a sentence can quote
        (:func:`~recsvc.recommend.case_search.closest_cases`; none without cases)."""
        cases = self.case_base
        if cases is None:
            return [[] for _ in range(len(commission_ids))]
        # which cases the documents hold, found again for other documents or when they
        # gained or lost one (an edited document keeps its key)
        known = self._citable
        if known is None or known[0] is not documents or known[1] != len(documents):
            held = np.fromiter((c in documents for c in cases.case_ids), bool, len(cases.case_ids))
            known = self._citable = (documents, len(documents), held)
        return closest_cases(self.context.text, cases, commission_ids, owners, known[2])

    def commission_of(self, external_id: str) -> int | None:
        """The commission id of ``external_id`` in the history (rebuilt when it grows)."""
        hist = self.context.history.commissions
        found = self._triggers
        if found is None or found[0] is not hist:
            ext = hist[["external_id", "commission_id"]].dropna().drop_duplicates("external_id")
            table = {
                str(e): int(c)
                for e, c in zip(ext["external_id"], ext["commission_id"], strict=True)
            }
            found = self._triggers = (hist, table)
        return found[1].get(external_id)
