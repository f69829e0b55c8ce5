"""Explanations grounded in evidence, as short sentences in Chinese and English.

Three kinds of evidence back each offer:

1. the client's **own projects** that triggered it (its commissions most similar to
   the product's past cases and description);
2. **similar past cases**, anonymised ("an agricultural enterprise … bought field trend
   analysis"), from the semantic layer's case summaries or, without one, from the
   kind and field of the buyer only;
3. the **top model factors** (LightGBM contributions, or the strongest sources).

The :class:`Explainer` looks evidence up in an :class:`~recsvc.recommend.explain_state.
ExplainerState` (computed in batch, or mapped from what training saved), asks a
:class:`~recsvc.recommend.cases.CaseFinder` for similar cases, and words it with
:mod:`recsvc.recommend.reasons`. The portal variant never names another client nor
quotes another client's commission text: :class:`~recsvc.recommend.guard.LeakGuard`
checks every sentence against other clients' names and titles and drops a sentence that
would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from cachetools import LRUCache

from recsvc.recommend import reasons
from recsvc.recommend.cases import CASE_HITS_CACHED, CaseFinder
from recsvc.recommend.context import RecContext
from recsvc.recommend.explain_inputs import CaseBase, LadderSteps, PurposeLifts
from recsvc.recommend.explain_state import (
    PROJECT_FIELDS,
    ExplainerState,
    Projects,
    best_cases,
    compute_state,
    load_state,
    new_sims,
    projects,
    save_state,
    state_fingerprint,
)
from recsvc.recommend.guard import LeakGuard
from recsvc.recommend.kept import CaseHitTable
from recsvc.recommend.offer import Evidence
from recsvc.recommend.sources import CandidateSource
from recsvc.store.enums import Surface
from recsvc.store.frames import column_arrays
from recsvc.store.labels import KIND_PHRASES, PURPOSE_PHRASES

__all__ = [
    "CASE_HITS_CACHED",
    "COMM_CACHED",
    "KIND_LABELS",
    "MIN_TRIGGER_SIM",
    "PURPOSE_LABELS",
    "Explainer",
    "Explanation",
    "days_before",
]

log = logging.getLogger(__name__)

#: A buyer's kind and a commission's purpose inside an explanation sentence.
KIND_LABELS = KIND_PHRASES
PURPOSE_LABELS = PURPOSE_PHRASES
#: Clients whose latest commissions an explainer keeps sliced (a live call looks them up
#: several times). As arrays, not frames: a cached frame kept a hundred objects the
#: cyclic GC tracks, and at 4,096 frames every full collection took 120-200 ms.
COMM_CACHED = 4096
#: Minimum text similarity for an own commission to count as a trigger.
MIN_TRIGGER_SIM = 0.05


@dataclass
class Explanation:
    """Evidence and the reasons (sentences) built from it."""

    evidence: list[Evidence] = field(default_factory=list)

    @property
    def reasons_zh(self) -> list[str]:
        return [e.text_zh for e in self.evidence]

    @property
    def reasons_en(self) -> list[str]:
        return [e.text_en for e in self.evidence]


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


class Explainer:
    """Builds :class:`Explanation` objects from fitted sources and a context.

    Args:
        context: the serving context.
        sources: the fitted candidate sources (by name).
        semantic: the semantic layer for anonymised case summaries (optional).
    """

    def __init__(
        self, context: RecContext, sources: Sequence[CandidateSource], semantic: Any | None = None
    ) -> None:
        self.context = context
        self.sources = {s.name: s for s in sources}
        self.semantic = semantic
        self.cases = CaseFinder(semantic)
        self._lock = threading.RLock()
        self._state: ExplainerState | None = None
        # clients added after the snapshot: their latest commissions and purchases
        self._added: dict[int, tuple[pd.DataFrame, list[str]]] = {}
        self._comm_cache: LRUCache[int, Projects] = LRUCache(COMM_CACHED)
        self._recency: dict[int, np.ndarray] = {}
        self._purposes: dict[tuple[int, int], np.ndarray] = {}
        self._triggers: tuple[pd.DataFrame, dict[str, int]] | None = None
        products = context.products.set_index("code")
        self.names = {c: (str(r["name_zh"]), str(r["name_en"])) for c, r in products.iterrows()}

    # -- what the explainer reads of its sources --------------------------------------
    @cached_property
    def case_base(self) -> CaseBase | None:
        """The content source's past cases (``None``: no content source, or no cases)."""
        return CaseBase.of(self.sources.values())

    @cached_property
    def ladder(self) -> LadderSteps | None:
        return LadderSteps.of(self.sources.values())

    @cached_property
    def purpose_lifts(self) -> PurposeLifts | None:
        return PurposeLifts.of(self.sources.values())

    @cached_property
    def guard(self) -> LeakGuard:
        """Every client's name, external id and commission titles (built once)."""
        return LeakGuard.from_frames(self.context.history)

    def leaks_for(self, client_id: int, text: str) -> bool:
        """Whether ``text`` contains a string of any *other* client."""
        return bool(self.guard.owners(text) - {client_id})

    # -- the precomputed state ----------------------------------------------------------
    @property
    def case_table(self) -> CaseHitTable | None:
        """The version's kept similar-case hits (``None``: searched live)."""
        return self.cases.table

    @case_table.setter
    def case_table(self, table: CaseHitTable | None) -> None:
        self.cases.table = table

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

    def prepare(self, saved: str | Path | None = None) -> Explainer:
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
            more = best_cases(state, self.context, self.case_base, ids, self._frame)
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
    def _frame(self, client_id: int) -> pd.DataFrame:
        """The client's latest commissions as rows of the snapshot (sorted by date)."""
        cid = int(client_id)
        added = self._added.get(cid)
        if added is not None:
            return added[0]
        state = self.state
        rows = state.positions.get(cid)
        if rows is not None:
            return state.latest.iloc[rows]
        # a client added after the snapshot (or without commissions)
        ctx = self.context
        all_comm = ctx.frames.commissions
        frame = all_comm[all_comm["client_id"] == cid].sort_values("commissioned_on").tail(30)
        o = ctx.orders[ctx.orders["client_id"] == cid]
        self._added[cid] = (frame, list(dict.fromkeys(o["product_code"].astype(str))))
        return frame

    def _comm(self, client_id: int) -> Projects:
        """The client's latest commissions as arrays (lookups in the prepared state)."""
        cid = int(client_id)
        with self._lock:
            comm = self._comm_cache.get(cid)
        if comm is None:
            state = self.state
            rows = state.positions.get(cid)
            if rows is not None and cid not in self._added:
                comm = {c: a[rows] for c, a in state.columns.items()}
            else:
                comm = projects(self._frame(cid))
            with self._lock:
                self._comm_cache[cid] = comm
        return comm

    def _bought(self, client_id: int) -> list[str]:
        """Products the client bought, first purchase first."""
        cid = int(client_id)
        state = self.state
        if cid in state.bought:
            return state.bought[cid]
        if cid not in state.positions:
            self._frame(cid)  # a client added after the snapshot: read its orders
        added = self._added.get(cid)
        return added[1] if added is not None else []

    def _comm_sims(self, comm: Projects, code: str) -> np.ndarray | None:
        """Best similarity of each of ``comm``'s commissions to ``code`` (``None``: no text)."""
        ids = comm["commission_id"]
        if not len(ids):
            return None
        state = self.state
        if any(int(c) not in state.rows for c in ids):
            with self._lock:
                self._state = new_sims(self.state, self.context, self.case_base, ids)
                state = self._state
        j = state.codes.get(code)
        if j is None:
            return None
        rows = state.rows
        sim = state.sims[[rows[int(c)] for c in ids], j]
        return None if not len(sim) or np.isneginf(sim).all() else sim

    def _recency_of(self, client_id: int, comm: Projects) -> np.ndarray:
        """``0.5 + 0.5 * 2^(-age / 730 days)`` per commission of ``comm`` (memoised per client)."""
        w = self._recency.get(int(client_id))
        if w is None or len(w) != len(comm["commission_id"]):
            age = days_before(self.context.cutoff, comm["commissioned_on"])
            w = 0.5 + 0.5 * np.power(0.5, np.maximum(age, 0.0) / 730.0)
            self._recency[int(client_id)] = w
        return w

    def _recent_purposes(self, client_id: int, lookback_days: int) -> np.ndarray:
        """Distinct purposes of the client's commissions within ``lookback_days``."""
        key = (int(client_id), int(lookback_days))
        found = self._purposes.get(key)
        if found is None:
            comm = self._comm(client_id)
            since = np.datetime64(self.context.cutoff - pd.Timedelta(days=lookback_days), "ns")
            recent = comm["commissioned_on"].astype("datetime64[ns]") >= since  # NaT: not recent
            purposes = comm["purpose"][recent]
            found = np.array(
                list(dict.fromkeys("other" if pd.isna(p) else str(p) for p in purposes)),
                dtype=object,
            )
            self._purposes[key] = found
        return found

    def _best_case(self, client_id: int, code: str) -> tuple[int, float] | None:
        cid = int(client_id)
        cases = self.case_base
        if cases is None:
            return None
        if cid not in self.state.best:
            more = best_cases(self.state, self.context, cases, np.array([cid]), self._frame)
            with self._lock:
                self._state = self.state.with_best_cases(more)
        state = self.state
        j = state.codes.get(code)
        row = state.best.get(cid)
        if row is None or j is None or row[j, 0] < 0:
            return None
        return int(row[j, 0]), float(row[j, 1])

    def _trigger_of(self, external_id: str) -> int | None:
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

    # -- evidence -----------------------------------------------------------------------
    def own_projects(self, client_id: int, code: str, k: int = 2) -> list[Evidence]:
        """The client's own commissions most similar to the product's cases/description."""
        comm = self._comm(client_id)
        sim = self._comm_sims(comm, code)
        if sim is None:
            return []
        sim = sim * self._recency_of(client_id, comm)  # prefer recent projects
        out = []
        for i in np.argsort(-sim)[:k]:
            if sim[i] < MIN_TRIGGER_SIM:
                continue
            row = {c: comm[c][i] for c in PROJECT_FIELDS if c in comm}
            out.append(reasons.own_project(row, float(sim[i])))
        return out

    def similar_cases(
        self, client_id: int, code: str, surface: Surface, trigger: int | None, k: int = 1
    ) -> list[Evidence]:
        """Anonymised past cases of the same product resembling the client's projects.

        ``trigger`` is one of the client's own commissions (:meth:`own_projects` chose
        it), so its hits may be searched in librarian scope and shared by surfaces: the
        portal drops a case whose sentence would quote another client, and neither
        surface cites one of the client's own cases.
        """
        portal = surface == Surface.PORTAL
        out: list[Evidence] = []
        if self.semantic is not None and trigger is not None:
            try:
                hits = self.cases.matching(trigger, code, client_id)
            except Exception:
                log.info("semantic similar_cases unavailable for %s", client_id, exc_info=True)
                hits = iter(())
            for hit_id, score, _, _, en, zh in hits:
                if not en or (
                    portal and (self.leaks_for(client_id, en) or self.leaks_for(client_id, zh))
                ):
                    continue
                out.append(reasons.similar_case(zh, en, None if portal else hit_id, score))
                if len(out) >= k:
                    return out
        return out or self._own_case(client_id, code, k)

    def record_case_hits(self) -> None:
        """Keep the hits of every trigger searched from now on, for :meth:`save_case_hits`."""
        self.cases.record()

    def save_case_hits(self, folder: Path) -> None:
        """Write the searches recorded since :meth:`record_case_hits` as a table."""
        self.cases.save(folder)

    def use_case_table(self, folder: Path) -> None:
        """Read similar-case hits from a version's saved table when it is of this index."""
        self.cases.use_table(folder)

    def _own_case(self, client_id: int, code: str, k: int) -> list[Evidence]:
        """Fallback case sentence from the buyer's kind and field only (no text quoted)."""
        cases = self.case_base
        found = self._best_case(client_id, code) if cases is not None else None
        if cases is None or found is None:
            return []
        best, best_sim = found
        clients = self.context.clients
        at = clients.index.get_loc(int(cases.clients[best]))
        buyer = column_arrays(clients)
        value = buyer["industry_field"][at] if "industry_field" in buyer else None
        where = str(value) if isinstance(value, str) and value else ""
        name = self.names.get(code, (code, code))
        return [reasons.own_case(str(buyer["kind"][at]), where, name, best_sim)][:k]

    def factors(
        self,
        client_id: int,
        code: str,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
        k: int = 2,
    ) -> list[Evidence]:
        """Top model factors as sentences (sources first, then other features)."""
        out: list[Evidence] = []
        for name in reasons.factor_names(contributions, source_scores, self.sources):
            ev = self._factor_sentence(client_id, code, name, source_scores.get(name))
            if ev is not None:
                out.append(ev)
            if len(out) >= k:
                break
        return out

    def _factor_sentence(
        self, client_id: int, code: str, name: str, value: float | None
    ) -> Evidence | None:
        product = self.names.get(code, (code, code))
        score = float(value) if value is not None and np.isfinite(value) else 0.0
        if name == "look-alike" and score > 0:
            return reasons.look_alike(product, score)
        if name == "ladder":
            ladder = self.ladder
            prev = ladder.previous(self._bought(client_id), code) if ladder else None
            if prev is None:
                return None
            return reasons.ladder_step(self.names.get(prev, (prev, prev)), product)
        if name == "purpose":
            lifts = self.purpose_lifts
            if lifts is None:
                return None
            found = lifts.best(self._recent_purposes(client_id, lifts.lookback_days), code)
            return None if found is None else reasons.purpose_lift(*found, product)
        if name == "content" and score > 0:
            return reasons.content_match(product, score)
        if name == "popular-in-segment":
            return reasons.popular_in_segment()
        if name in ("owned", "days_since_owned") and code in self._bought(client_id):
            return reasons.owned(product, self.state.one_off.get(code, False))
        if name == "value_proba" or name.startswith(("cf_", "basic_")):
            return reasons.feature_sentence(name)
        return None

    # -- the whole explanation ------------------------------------------------------------
    def explain(
        self,
        client_id: int,
        code: str,
        *,
        surface: Surface,
        source_scores: Mapping[str, float],
        contributions: Sequence[tuple[str, float]] = (),
    ) -> Explanation:
        """Own projects, one similar case and up to two factors, in that order."""
        own = self.own_projects(client_id, code, k=1)
        trigger = self._trigger_of(own[0].ref) if own and own[0].ref else None
        cases = self.similar_cases(client_id, code, surface, trigger, k=1)
        facts = self.factors(client_id, code, source_scores, contributions, k=2)
        evidence = [*own, *cases, *facts]
        if surface == Surface.PORTAL:
            # own projects are the client's own text and factors are our templates; case
            # sentences carry text from other clients' records and must not leak
            evidence = [
                e
                for e in evidence
                if e.kind != "similar_case"
                or not (
                    self.leaks_for(client_id, e.text_zh) or self.leaks_for(client_id, e.text_en)
                )
            ]
        if not evidence:  # always say something true: the segment-popularity factor
            evidence = [reasons.popular_in_segment()]
        return Explanation(evidence)
