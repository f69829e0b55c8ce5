"""The recommender: one object the API, web console, CLI and training share.

:class:`Recommender` serves from what it is given: a built context (the snapshot), the
fitted model (a bound :class:`~recsvc.recommend.ranker.Ranker` or a
:class:`~recsvc.recommend.sources.SourceChain`), a prepared explainer and the kept
contributions. It loads nothing itself: :func:`recsvc.serving.open_recommender` opens
a model version's files into those pieces. It ranks, applies the business rules,
explains each offer (:class:`~recsvc.recommend.offer.Offer`) and lists relationship
actions in their own slots.

Example:
    >>> rec = Recommender(settings, context)                              # doctest: +SKIP
    >>> [o.code for o in rec.recommend(client_id, "librarian", k=5)]     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.errors import NotFound
from recsvc.recommend.coldstart import client_rows, with_client
from recsvc.recommend.context import RecContext
from recsvc.recommend.contributions import ContributionFinder, ContributionTable
from recsvc.recommend.explain import Explainer
from recsvc.recommend.kept import Recorded
from recsvc.recommend.offer import Evidence, Offer, expected_value, list_prices
from recsvc.recommend.rules import EXCLUSION_COLUMNS, BusinessRules
from recsvc.recommend.scored import ScoredRanker
from recsvc.recommend.sources import CandidateSource, SourceChain, top_k
from recsvc.store import queries
from recsvc.store.db import Database
from recsvc.store.enums import Surface
from recsvc.store.memo import column_arrays, memo_per_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionItem:
    """A relationship action beside the products (never instead of them)."""

    code: str
    name_zh: str
    name_en: str
    segment: str

    @property
    def item_code(self) -> str:
        """The code used in recommendation events (``action:…``)."""
        return f"action:{self.code}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "item_code": self.item_code, "kind": "action"}


@dataclass
class NextBest:
    """Products and relationship actions in separate, fixed slots."""

    products: list[Offer]
    actions: list[ActionItem]


def _product_info(products: pd.DataFrame) -> dict[str, tuple[str, str, str]]:
    """``code -> (name_zh, name_en, category)`` (a dict lookup per offer)."""
    return {
        str(c): (str(r["name_zh"]), str(r["name_en"]), str(r["category"]))
        for c, r in products.iterrows()
    }


@memo_per_frame
def _client_rows(df: pd.DataFrame) -> dict[Any, np.ndarray]:
    """Row positions of each client in ``df``."""
    return df.groupby("client_id", sort=False).indices


def _rows_of(
    df: pd.DataFrame, client_ids: Sequence[int] | np.ndarray, columns: Sequence[str]
) -> dict[str, np.ndarray]:
    """``columns`` of the rows of ``df`` whose ``client_id`` is in ``client_ids``, as
    arrays: a frame of a live call's few rows cost more to build than the rules using it.
    """
    positions = _client_rows(df)
    parts = [positions[c] for c in (int(c) for c in client_ids) if c in positions]
    pos = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    arrays = column_arrays(df)
    return {c: arrays[c][pos] for c in columns}


class Recommender:
    """Next best services for one client or a batch.

    Args:
        settings: :class:`recsvc.config.Settings`.
        context: the snapshot to serve from (its semantic layer explains with).
        model: a ranker bound to ``context``, or a fitted source chain (default: the
            source chain, fitted on ``context``).
        explainer: an explainer over ``model``'s sources (default: one prepared on
            first use).
        contributions: model contributions a version kept for its offered rows
            (:attr:`contributions` looks them up, and computes the others).
        db: the store, read for live cool-downs and clients added since the snapshot.
        rules: business rules (default :meth:`BusinessRules.load`).
    """

    def __init__(
        self,
        settings: Settings,
        context: RecContext,
        *,
        model: ScoredRanker | SourceChain | None = None,
        explainer: Explainer | None = None,
        contributions: ContributionTable | None = None,
        db: Database | None = None,
        rules: BusinessRules | None = None,
    ) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self.db = db
        self.semantic = context.semantic
        self.rules = rules or BusinessRules.load(settings=settings)
        self.context = context
        model = model if model is not None else SourceChain().fit(context)
        self.model: CandidateSource = model
        self.ranker: ScoredRanker | None = model if isinstance(model, ScoredRanker) else None
        self.sources: list[CandidateSource] = (
            model.sources_ if isinstance(model, ScoredRanker) else model.sources
        )
        self.explainer = explainer or Explainer(context, self.sources, context.semantic)
        self.contributions = ContributionFinder(contributions if self.ranker is not None else None)
        self.products = context.products.set_index("code")
        self._product_info = _product_info(self.products)
        self.prices = list_prices(self.products)

    # -- clients not in the snapshot (cold start) ---------------------------------
    def ensure_client(self, client_id: int) -> None:
        """Load a client added after the snapshot (and its commissions) from the store."""
        if client_id in self.context.clients.index:
            return
        with self._lock:  # growing the context is the one write a live call may do
            if client_id not in self.context.clients.index:
                self._load_client(client_id)

    def _load_client(self, client_id: int) -> None:
        if self.db is None:
            raise NotFound(f"no client {client_id}")
        rows = client_rows(self.db, client_id, self.context.cutoff)
        self.context.text.add_commissions(rows.commissions)
        ctx = replace(self.context, history=with_client(self.context.history, rows))
        ctx.features = self.context.features
        self._rebind(ctx)

    def _rebind(self, ctx: RecContext) -> None:
        """Point fitted sources at a context that only gained clients (no refit)."""
        for s in self.sources:
            s.context_ = ctx
        if self.ranker is not None:
            self.ranker.context_ = ctx
        self.context = ctx
        self.explainer.context = ctx

    # -- ranking ------------------------------------------------------------------
    def exclusions(
        self, client_ids: Sequence[int] | np.ndarray, *, live: bool = True
    ) -> dict[int, set[str]]:
        """Business-rule exclusions; ``live`` reads the latest events and orders from the
        store (a product bought a minute ago, a decline just recorded)."""
        ctx = self.context
        events = ctx.history.events
        clients, orders = ctx.history.clients, ctx.orders
        if len(client_ids) <= 50:  # a few clients: their rows by index, not full scans
            clients = _rows_of(clients, client_ids, EXCLUSION_COLUMNS["clients"])
            orders = _rows_of(orders, client_ids, EXCLUSION_COLUMNS["orders"])
            if live and self.db is not None:
                ids = [int(c) for c in client_ids]
                cooling = self.rules.cooldown_events
                events = queries.client_events(self.db, client_ids=ids, events=cooling)
                orders = queries.bought_orders(self.db, client_ids=ids)
        now = max(ctx.cutoff, pd.Timestamp.now()) if ctx.live else ctx.cutoff
        return self.rules.exclusions(
            client_ids,
            as_of=ctx.cutoff,
            events_as_of=now,
            orders_as_of=now + pd.Timedelta(days=1) if ctx.live else ctx.cutoff,
            clients=clients,
            products=ctx.products,
            orders=orders,
            events=events,
        )

    def rank(
        self, client_ids: Sequence[int] | np.ndarray, k: int | None = None, *, live: bool = True
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray] | None]:
        """Rule-filtered, diversified ``(codes, scores)`` ``(n, k)``, and the ranker's
        probabilities and source scores of every (client, product) pair (``None``
        without a ranker)."""
        k = k or self.settings.recommend_k
        ids = np.asarray(client_ids, dtype=np.int64)
        for cid in ids:
            self.ensure_client(int(cid))
        exclude = self.exclusions(ids, live=live)
        width = len(self.context.codes)
        pairs = None
        if self.ranker is not None:
            columns = ["proba", *(f"src_{s.name}" for s in self.sources)]
            pairs = self.ranker.predicted(ids, columns)
            scores = pairs["proba"].reshape(len(ids), -1)
            codes, sc = top_k(self.ranker.codes_, scores, width, ids, exclude)
        else:
            codes, sc = self.model.recommend(ids, width, exclude)
        cats = {c: info[2] for c, info in self._product_info.items()}
        codes, sc = self.rules.diversify(codes, sc, cats, k)
        return codes, sc, pairs

    def recommend(
        self, client_id: int, surface: Surface | str = Surface.LIBRARIAN, k: int | None = None
    ) -> list[Offer]:
        """The next best products for one client, explained for ``surface``."""
        return self.recommend_many([client_id], surface, k)[int(client_id)]

    def recommend_many(
        self,
        client_ids: Sequence[int] | np.ndarray,
        surface: Surface | str = Surface.LIBRARIAN,
        k: int | None = None,
        *,
        explain: bool = True,
        live: bool = True,
    ) -> dict[int, list[Offer]]:
        """Batch form of :meth:`recommend` (one code path for one or many clients).

        Offers are built with ``model_construct``: every field comes from the ranked
        arrays and the explainer, already of its type, so a live call does not pay for
        validating them again.
        """
        surface = Surface(surface)
        ids = np.asarray(client_ids, dtype=np.int64)
        codes, scores, pairs = self.rank(ids, k, live=live)
        src = self._source_scores(ids, pairs, codes)
        contrib = {}
        if explain and self.ranker is not None:
            contrib = self.contributions.top(self.ranker, ids, codes)
        offered = [
            (i, j, int(cid), str(code))
            for i, cid in enumerate(ids.tolist())
            for j, code in enumerate(codes[i])
            if code
        ]
        explanations = (
            self.explainer.explain_many(
                [(cid, code) for _, _, cid, code in offered],
                surface=surface,
                source_scores=[src[i][code] for i, _, _, code in offered],
                contributions=[contrib.get((cid, code), ()) for _, _, cid, code in offered],
            )
            if explain
            else None
        )
        lists: list[list[Offer]] = [[] for _ in range(len(ids))]
        for n, (i, j, _, code) in enumerate(offered):
            name_zh, name_en, _ = self._product_info[code]
            score = float(scores[i][j])
            evidence: list[Evidence] = explanations[n].evidence if explanations else []
            lists[i].append(
                Offer.model_construct(
                    code=code,
                    kind="product",
                    name_zh=name_zh,
                    name_en=name_en,
                    rank=j + 1,
                    score=score,
                    expected_value=(
                        None
                        if surface is Surface.PORTAL
                        else expected_value(score, self.prices.get(code))
                    ),
                    sources=src[i][code],
                    reasons_zh=[e.text_zh for e in evidence],
                    reasons_en=[e.text_en for e in evidence],
                    evidence=evidence,
                    impression_id=None,
                )
            )
        return {int(cid): lists[i] for i, cid in enumerate(ids)}

    def _source_scores(
        self, ids: np.ndarray, pairs: dict[str, np.ndarray] | None, codes: np.ndarray
    ) -> list[dict[str, dict[str, float]]]:
        """Each source's score of each offered product, per client (row lookups); a
        source without a score of an item (not finite) is left out."""
        ranker = self.ranker
        all_codes = list(self.context.codes if pairs is None or ranker is None else ranker.codes_)
        m = len(all_codes)
        if pairs is not None:
            mats = {s.name: pairs[f"src_{s.name}"].reshape(len(ids), m) for s in self.sources}
        else:
            mats = {s.name: s.scores(ids) for s in self.sources}
        col = {c: j for j, c in enumerate(all_codes)}
        return [
            {
                str(c): {
                    n: v for n, mat in mats.items() if math.isfinite(v := float(mat[i, col[c]]))
                }
                for c in codes[i]
                if c and c in col
            }
            for i in range(len(ids))
        ]

    # -- what the portal lists compute, kept for live calls --------------------------
    def record_explanations(self) -> None:
        """Keep what explaining computes from now on (similar-case hits, contributions)
        for :meth:`save_explanations`."""
        self.contributions.record()
        if self.semantic is not None:
            self.explainer.record_case_hits()

    def recorded(self) -> Recorded:
        """What was recorded since :meth:`record_explanations`."""
        return Recorded(self.explainer.cases.recorded, self.contributions.recorder)

    def merge_recorded(self, other: Recorded) -> None:
        """Add what another recommender of the same version and snapshot recorded (for
        other clients: the portal lists written over client partitions) to what this
        one records, so that :meth:`save_explanations` writes both."""
        mine = self.recorded()
        if mine.case_hits is not None and other.case_hits is not None:
            mine.case_hits.merge(other.case_hits)
        if mine.contributions is not None and other.contributions is not None:
            mine.contributions.merge(other.contributions)

    def save_explanations(self, cases: Path, contributions: Path) -> None:
        """Write what was recorded since :meth:`record_explanations`: the similar-case
        hits into ``cases`` (with a semantic layer) and the contributions into
        ``contributions`` (with a ranker); see :mod:`recsvc.recommend.kept` and
        :mod:`recsvc.recommend.contributions`."""
        recorder = self.contributions.recorder
        if recorder is not None and self.ranker is not None:
            recorder.save(Path(contributions))
        if self.semantic is not None:
            self.explainer.save_case_hits(Path(cases))

    # -- relationship actions -------------------------------------------------------
    def segment_of(self, client_id: int) -> str | None:
        seg = self.context.segments
        if seg is None or client_id not in seg.index:
            return None
        return str(seg.loc[client_id])

    def actions(self, client_id: int) -> list[ActionItem]:
        """Relationship actions from the client's segment strategy (fixed slots)."""
        seg = self.segment_of(int(client_id))
        return [
            ActionItem(a.code, a.name_zh, a.name_en, seg or "") for a in self.rules.actions_for(seg)
        ]

    def next_best(
        self, client_id: int, surface: Surface | str = Surface.LIBRARIAN, k: int | None = None
    ) -> NextBest:
        """Products (``k`` slots) and actions (``rules.action_slots``), kept apart."""
        return NextBest(self.recommend(client_id, surface, k), self.actions(client_id))
