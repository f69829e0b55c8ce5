"""The point-in-time world a recommender is fitted on and serves from.

A :class:`RecContext` bundles the full history, the business "now" (``cutoff``), the
snapshot known before it, the shared :class:`~recsvc.recommend.text.TextSpace`, and
optional inputs from the other modules (client features, value probabilities,
segments). Training builds one per historical cutoff; serving builds one for today.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.features import client_features
from recsvc.recommend.text import TextSpace
from recsvc.store.frames import Frames

log = logging.getLogger(__name__)

#: Order statuses that count as a purchase.
BOUGHT_STATUSES = ("paid", "delivered")


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
        live: ``True`` when ``cutoff`` is today (serving may use the live FAISS index).
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
    def clients(self) -> pd.DataFrame:
        """Clients known before the cutoff, indexed by ``client_id``."""
        return self.frames.clients.set_index("client_id", drop=False)

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


def default_cutoff(history: Frames, settings: Any | None = None) -> pd.Timestamp:
    """``settings.as_of_date`` or the day after the newest activity."""
    as_of = getattr(settings, "as_of_date", None)
    if as_of is not None:
        return pd.Timestamp(as_of)
    return pd.Timestamp(history.latest_date).normalize() + pd.Timedelta(days=1)


def build_context(
    history: Frames,
    cutoff: pd.Timestamp | None = None,
    *,
    semantic: Any | None = None,
    settings: Any | None = None,
    text: TextSpace | None = None,
    value_dir: Any | None = None,
    with_features: bool = True,
    live: bool = False,
    features: pd.DataFrame | None = None,
) -> RecContext:
    """A context at ``cutoff`` with features, value probabilities and segments when available.

    Args:
        history: the full frames.
        cutoff: the business "now"; default :func:`default_cutoff`.
        semantic: the semantic layer (dense text channel, look-alike index, cases).
        settings: settings (business rules, horizons, segments).
        text: a fitted text space to share between cutoffs; fitted here if ``None``.
        value_dir: a value-model folder (``version_dir / "value"``) to score clients with.
        with_features: compute ``recsvc.features.client_features``.
        live: the context serves today's requests.
        features: ``client_features`` at ``cutoff`` when the caller has them already
            (serving computes them for the value scores); computed here otherwise.
    """
    cutoff = pd.Timestamp(cutoff) if cutoff is not None else default_cutoff(history, settings)
    if text is None:
        text = shared_text_space(history, semantic)
    ctx = RecContext(
        history=history, cutoff=cutoff, text=text, semantic=semantic, settings=settings, live=live
    )
    if with_features:
        enrich(ctx, value_dir=value_dir, features=features)
    return ctx


def enrich(
    ctx: RecContext, *, value_dir: Any | None = None, features: pd.DataFrame | None = None
) -> RecContext:
    """Attach client features (``features``, or computed at ``ctx.cutoff``), value
    probability and segments where the modules exist."""
    try:
        feats = (
            features
            if features is not None
            else client_features(ctx.history, ctx.cutoff, ctx.semantic)
        )
    except Exception:
        log.warning("client_features failed at %s; basic features only", ctx.cutoff)
        log.debug("client_features failure", exc_info=True)
        return ctx
    ctx.features = feats.select_dtypes("number")
    if value_dir is not None:
        ctx.value_proba = value_probability(value_dir, feats)
    ctx.segments = segments_for(feats, ctx.settings, value_dir)
    return ctx


def value_probability(value_dir: Any, features: pd.DataFrame) -> pd.Series | None:
    """The value model's calibrated probability per client, or ``None``."""
    try:
        from recsvc.value import ValueModel

        model = ValueModel.load(value_dir)
        return pd.Series(np.asarray(model.predict(features), dtype=float), index=features.index)
    except Exception:
        log.info("no usable value model at %s", value_dir, exc_info=True)
        return None


def segments_for(
    features: pd.DataFrame, settings: Any | None, value_dir: Any | None = None
) -> pd.Series | None:
    """``recsvc.value.assign_segments`` (with the version's stored thresholds) or ``None``."""
    try:
        from recsvc.config import Settings
        from recsvc.value import assign_segments

        thresholds = None
        path = Path(value_dir) / "segments.json" if value_dir is not None else None
        if path is not None and path.exists():
            thresholds = json.loads(path.read_text())
        return assign_segments(features, settings or Settings(), thresholds)
    except Exception:
        log.info("segments unavailable", exc_info=True)
        return None
