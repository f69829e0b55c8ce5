"""The point-in-time world a recommender is fitted on and serves from.

A :class:`RecContext` bundles the full history, the business "now" (``cutoff``), the
snapshot known before it, the shared :class:`~recsvc.recommend.text.TextSpace`, and
optional inputs from the other modules (client features, value probabilities,
segments). Training builds one per historical cutoff; serving builds one for today.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.features import client_features
from recsvc.features.phrasing import Population
from recsvc.features.today import business_today
from recsvc.recommend.rows import RowIndex
from recsvc.recommend.text import TextSpace
from recsvc.store.frames import Frames
from recsvc.value import ValueService, assign_segments

log = logging.getLogger(__name__)

#: Order statuses that count as a purchase.
BOUGHT_STATUSES = ("paid", "delivered")
#: Days after a commission within which a purchase counts as "following" it.
FOLLOW_DAYS = 365


def value_added_cases(commissions: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """Commissions followed within :data:`FOLLOW_DAYS` by a purchase of the same client.

    Returns:
        One row per (commission, product): ``commission_id, client_id, product_code,
        commissioned_on, ordered_on``.
    """
    cols = ["commission_id", "client_id", "commissioned_on"]
    m = commissions[cols].merge(orders[["client_id", "product_code", "ordered_on"]], on="client_id")
    gap = (m["ordered_on"] - m["commissioned_on"]).dt.days
    m = m[(gap >= 0) & (gap <= FOLLOW_DAYS)]
    return m.drop_duplicates(["commission_id", "product_code"]).reset_index(drop=True)


@dataclass
class RecContext:
    """Everything a candidate source or the ranker may look at.

    Attributes:
        history: all frames (training may look past ``cutoff`` only for labels).
        cutoff: the business "now"; ``frames`` holds only what was known before it.
        text: shared text vectors (fitted on all commission texts; vectors are
            per commission, so no future commission leaks into a client vector).
        semantic: the semantic layer, or ``None``.
        settings: :class:`recsvc.config.Settings`, or ``None`` for defaults.
        features: client features at ``cutoff`` (``recsvc.features``), or ``None``.
        value_proba: calibrated value-model probability per client, or ``None``.
        segments: value segment per client (``recsvc.value``), or ``None``.
        live: ``True`` when ``cutoff`` is today (serving: feedback and orders up to
            now count in its exclusions).
        features_key: what :attr:`features`, :attr:`value_proba` and :attr:`segments`
            were computed from, when the caller that computed them knows (the value
            scores' fingerprint, :func:`recsvc.serving.scores.scores_fingerprint`);
            ``None``: files computed from them are keyed by their contents.
    """

    history: Frames
    cutoff: pd.Timestamp
    text: TextSpace
    semantic: Any | None = None
    settings: Any | None = None
    features: pd.DataFrame | None = None
    value_proba: pd.Series | None = None
    segments: pd.Series | None = None
    live: bool = False
    features_key: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def frames(self) -> Frames:
        """The snapshot strictly before :attr:`cutoff`."""
        return self.history.as_of(self.cutoff)

    @cached_property
    def products(self) -> pd.DataFrame:
        """Active catalogue rows, in a stable order (``product_id``)."""
        p = self.history.products
        if "active" in p:
            p = p[p["active"].fillna(True).astype(bool)]
        return p.sort_values("product_id").reset_index(drop=True)

    @cached_property
    def codes(self) -> np.ndarray:
        """Product codes in :attr:`products` order."""
        return self.products["code"].astype(str).to_numpy()

    @cached_property
    def orders(self) -> pd.DataFrame:
        """Purchases (paid or delivered) known before the cutoff."""
        o = self.frames.orders
        if "status" in o:
            o = o[o["status"].astype(str).isin(BOUGHT_STATUSES)]
        return o

    @cached_property
    def value_added(self) -> pd.DataFrame:
        """The snapshot's :func:`value_added_cases` (the content and purpose sources
        both learn from them: 0.5 s each at 100,000 clients)."""
        return value_added_cases(self.frames.commissions, self.orders)

    @cached_property
    def purchase_dates(self) -> dict[tuple[int, str], pd.Timestamp]:
        """The latest purchase of each (client, product code) before the cutoff."""
        o = self.orders
        if o.empty:
            return {}
        last = o.groupby(["client_id", "product_code"])["ordered_on"].max()
        return {(int(c), str(p)): pd.Timestamp(t) for (c, p), t in last.items()}

    @cached_property
    def declines(self) -> dict[tuple[int, str], pd.Timestamp]:
        """The latest decline of each (client, item code) before the cutoff."""
        e = self.frames.events
        if e is None or e.empty or "item_code" not in e:
            return {}
        e = e[e["event"].astype(str) == "declined"]
        last = pd.to_datetime(e["occurred_at"]).groupby([e["client_id"], e["item_code"]]).max()
        return {(int(c), str(p)): pd.Timestamp(t) for (c, p), t in last.items()}

    @cached_property
    def clients(self) -> pd.DataFrame:
        """Clients known before the cutoff, indexed by ``client_id``."""
        return self.frames.clients.set_index("client_id", drop=False)

    @cached_property
    def _populations(self) -> dict[str, Population]:
        return {}

    @cached_property
    def _feature_rows(self) -> RowIndex:
        """The row of each client in :attr:`features`."""
        ids = self.features.index if self.features is not None else pd.Index([])
        return RowIndex(ids.to_numpy(dtype=np.int64))

    @cached_property
    def _feature_columns(self) -> dict[str, np.ndarray]:
        return {}

    def feature(self, feature: str, client_id: int) -> Any:
        """One client's value of a client feature (as stored: NaN when missing);
        ``None`` without features, the column or the client. Each column is an array
        taken once: a frame lookup per call (column, then client) was 6-8 % of writing
        the portal lists."""
        feats = self.features
        if feats is None or feature not in feats:
            return None
        row = self._feature_rows.get(int(client_id))
        if row is None:
            return None
        column = self._feature_columns.get(feature)
        if column is None:
            column = self._feature_columns[feature] = feats[feature].to_numpy()
        return column[row]

    def population(self, feature: str) -> Population | None:
        """Every client's value of a client feature (or of ``value_proba``), sorted on
        first use in this context: where one client stands among all is then two binary
        searches (:class:`~recsvc.features.phrasing.Population`). ``None`` without it."""
        found = self._populations.get(feature)
        if found is None:
            if feature == "value_proba":
                column = self.value_proba
            else:
                column = None if self.features is None else self.features.get(feature)
            if column is None:
                return None
            found = self._populations[feature] = Population(column.to_numpy())
        return found

    def at(self, cutoff: pd.Timestamp, **changes: Any) -> RecContext:
        """The same world at another cutoff (features and segments are dropped)."""
        values: dict[str, Any] = {
            "features": None,
            "value_proba": None,
            "segments": None,
            "live": False,
            "extras": {},
        }
        values.update(changes)
        return replace(self, cutoff=pd.Timestamp(cutoff), **values)


_TEXT_CACHE: list[tuple[int, int, int, TextSpace]] = []


def shared_text_space(history: Frames, semantic: Any | None) -> TextSpace:
    """One fitted :class:`TextSpace` per (commissions frame, semantic layer) in a process.

    Training, evaluation and portal precomputation of one run share the same frames;
    the text space (TF-IDF + LSA + dense vectors) is fitted once for all of them.
    """
    key = (id(history.commissions), len(history.commissions), id(semantic))
    for k0, k1, k2, space in _TEXT_CACHE:
        if (k0, k1, k2) == key:
            return space
    space = TextSpace(semantic).fit(history.commissions, history.products)
    _TEXT_CACHE.append((*key, space))
    del _TEXT_CACHE[:-2]
    return space


def build_context(
    history: Frames,
    cutoff: pd.Timestamp | None = None,
    *,
    semantic: Any | None = None,
    settings: Settings | None = None,
    text: TextSpace | None = None,
    value: ValueService | None = None,
    with_features: bool = True,
    live: bool = False,
    features: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    features_key: str | None = None,
) -> RecContext:
    """A context at ``cutoff`` with features, value probabilities and segments when available.

    Args:
        history: the full frames.
        cutoff: the business "now"; default
            :func:`~recsvc.features.today.business_today`.
        semantic: the semantic layer (dense text channel, similar cases).
        settings: settings (business rules, horizons, segments).
        text: a fitted text space to share between cutoffs; fitted here if ``None``.
        value: the version's loaded value model, to score clients and segment them
            with its stored thresholds.
        with_features: compute ``recsvc.features.client_features``.
        live: the context serves today's requests.
        features: ``client_features`` at ``cutoff`` when the caller has them already
            (serving computes them for the value scores); computed here otherwise.
        scores: ``value.score(features)`` when the caller has it (a serving bundle
            does): its probabilities and segments are used, not computed again.
        features_key: what ``features`` and ``scores`` were computed from
            (:attr:`RecContext.features_key`).
    """
    cutoff = pd.Timestamp(cutoff) if cutoff is not None else business_today(history, settings)
    if text is None:
        text = shared_text_space(history, semantic)
    ctx = RecContext(
        history=history, cutoff=cutoff, text=text, semantic=semantic, settings=settings, live=live
    )
    if with_features:
        enrich(ctx, value=value, features=features, scores=scores, features_key=features_key)
    return ctx


def enrich(
    ctx: RecContext,
    *,
    value: ValueService | None = None,
    features: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    features_key: str | None = None,
) -> RecContext:
    """Attach client features (``features``, or computed at ``ctx.cutoff``), and the
    value probability (with ``value``) and segments of each client (``scores``' columns
    ``probability`` and ``segment`` when the caller scored them already, computed
    under ``features_key`` when it says so: :attr:`RecContext.features_key`)."""
    settings = ctx.settings or Settings()
    try:
        feats = (
            features
            if features is not None
            else client_features(
                ctx.history, ctx.cutoff, ctx.semantic, dormant_months=settings.dormant_months
            )
        )
    except Exception:
        log.warning("client_features failed at %s; basic features only", ctx.cutoff)
        log.debug("client_features failure", exc_info=True)
        return ctx
    ctx.features = feats.select_dtypes("number")
    if scores is not None and {"probability", "segment"} <= set(scores.columns):
        ctx.value_proba = scores["probability"].rename("probability")
        ctx.segments = scores["segment"]
        ctx.features_key = features_key if features is not None else None
        return ctx
    if value is not None:
        try:
            ctx.value_proba = value.probabilities(feats)
        except Exception:
            log.info("value model of %s unusable", value.version, exc_info=True)
    try:
        ctx.segments = (
            value.segments(feats) if value is not None else assign_segments(feats, settings)
        )
    except Exception:
        log.info("segments unavailable", exc_info=True)
    return ctx
