"""The learned ranker: LightGBM lambdarank over (client, product, cutoff) pairs.

Training pairs come from several historical cutoffs ``T - h, T - 2h, …`` (``h`` the
label horizon): features from what was known before each cutoff, relevance = the
client bought the product within the horizon after it. Inputs are the five candidate
sources' scores and ranks, client features (``recsvc.features``; the value model's
probability when a value folder is given), product features (category, price,
one-off, popularity) and past feedback (impressions, accepts, declines).

Scores are calibrated so they compare across clients (the worklist sorts by them):
``P(client buys p) = P(client buys anything) x P(p | client buys)``. The first factor is
a client-level LightGBM classifier, the second the within-client softmax share of the
ranker's scores; each is mapped to observed frequencies by isotonic regression fitted
on the most recent, held-out cutoff. See ``docs/recommender.md``.

The artifact is a folder: ``config.json`` (feature list, calibration tables, cutoffs,
metrics) plus ``model.txt`` and ``client_model.txt`` (LightGBM boosters).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from recsvc.errors import NotReady
from recsvc.files import prefetch
from recsvc.recommend.context import RecContext
from recsvc.recommend.feedback import FEEDBACK_FEATURES, feedback_features
from recsvc.recommend.metrics import ndcg_at_k
from recsvc.recommend.rules import _as_list
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    PopularInSegmentSource,
    _purchase_matrix,
    default_sources,
    top_k,
)
from recsvc.serving.artifact import ArtifactKind
from recsvc.store.enums import Purpose
from recsvc.store.frames import column_arrays

log = logging.getLogger(__name__)

#: The folder of the scores :meth:`Ranker.save_scores` writes.
RANKER_FILES = ArtifactKind("ranker", format=1)

SCHEMA = 1
CATEGORICAL = ("product_idx", "category_idx", "kind_idx")
CLIENT_COLUMNS_PREFIX = ("basic_", "hist_", "cf_", "value_proba", "kind_idx")


def _softmax_rows(raw: np.ndarray, valid: np.ndarray) -> np.ndarray:
    z = np.where(valid, raw, -np.inf)
    z = z - np.max(np.where(valid, z, -np.inf), axis=1, keepdims=True)
    e = np.where(valid, np.exp(z), 0.0)
    s = e.sum(axis=1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def _logit(x: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(x, dtype=float), 1e-6, 1.0 - 1e-6)
    return np.log(p / (1.0 - p))


def _platt(x: np.ndarray, y: np.ndarray) -> list[float]:
    """Logistic (Platt) map ``[a, b]`` of ``logit(x)`` to ``y`` (strictly monotone)."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4).fit(_logit(x).reshape(-1, 1), y.astype(int))
    return [float(lr.coef_[0, 0]), float(lr.intercept_[0])]


def _iso_table(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Isotonic steps plus a Platt map; :func:`_apply_table` blends the two.

    Isotonic regression alone is a step function: its top step is fitted on few pairs
    (often reaching 1.0) and every step is a tie. Averaging it with the smooth,
    strictly increasing Platt map keeps the observed frequencies on average and keeps
    scores ordered and below 1.
    """
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(x, y)
    table: dict[str, Any] = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
    if len(np.unique(y)) == 2:
        table["platt"] = _platt(x, y)
    return table


def _apply_table(table: dict[str, Any] | None, x: np.ndarray) -> np.ndarray:
    if not table or not table["x"]:
        return np.clip(x, 0.0, 1.0)
    iso = np.interp(x, table["x"], table["y"])
    platt = table.get("platt")
    if not platt:
        return iso
    a, b = platt
    return 0.5 * iso + 0.5 / (1.0 + np.exp(-(a * _logit(x) + b)))


PURPOSES: tuple[str, ...] = tuple(p.value for p in Purpose)
#: Half-life (days) of the decayed history counts.
HIST_HALF_LIFE = 365.0


def history_block(ctx: RecContext, ids: np.ndarray) -> dict[str, np.ndarray]:
    """Decayed (half-life one year) counts describing *what kind* of work a client does.

    Commissions per purpose, the busiest field's intensity, commissions outside the
    client's own industry field (a move into a new industry), and purchases per
    product (the ladder's state). Generic history, no product rule is written here:
    the ranker learns which of these matter for which product.
    """
    cut = ctx.cutoff
    n = len(ids)
    pos = pd.Series(np.arange(n), index=pd.Index(ids))
    out: dict[str, np.ndarray] = {}
    comm = ctx.frames.commissions
    comm = comm[comm["client_id"].isin(ids)]
    w = np.power(0.5, (cut - comm["commissioned_on"]).dt.days.to_numpy() / HIST_HALF_LIFE)
    rows = pos.loc[comm["client_id"].to_numpy()].to_numpy()
    purpose = comm["purpose"].fillna("other").astype(str).to_numpy()
    for p in PURPOSES:
        v = np.zeros(n)
        np.add.at(v, rows, w * (purpose == p))
        out[f"hist_purpose_{p}"] = v
    total = np.zeros(n)
    np.add.at(total, rows, w)
    out["hist_commissions"] = total
    field = (
        comm["industry_type"].fillna("").astype(str).to_numpy()
        if "industry_type" in comm
        else np.full(len(comm), "")
    )
    if len(comm):
        df = pd.DataFrame({"r": rows, "f": field, "w": w})
        per = df[df["f"] != ""].groupby(["r", "f"])["w"].sum()
        top = per.groupby(level=0).max()
        v = np.zeros(n)
        v[top.index.to_numpy()] = top.to_numpy()
        out["hist_field_max"] = v
        home = ctx.clients["industry_field"].reindex(comm["client_id"].to_numpy())
        off = (field != home.fillna("").astype(str).to_numpy()) & (field != "")
        v = np.zeros(n)
        np.add.at(v, rows, w * off)
        out["hist_off_field"] = v
    else:
        out["hist_field_max"] = np.zeros(n)
        out["hist_off_field"] = np.zeros(n)
    o = ctx.orders[ctx.orders["client_id"].isin(ids)]
    wo = np.power(0.5, (cut - o["ordered_on"]).dt.days.to_numpy() / HIST_HALF_LIFE)
    ro = pos.loc[o["client_id"].to_numpy()].to_numpy()
    codes = o["product_code"].astype(str).to_numpy()
    for code in ctx.codes:
        v = np.zeros(n)
        np.add.at(v, ro, wo * (codes == code))
        out[f"hist_bought_{code}"] = v
    return out


def client_matrix(ctx: RecContext, client_ids: np.ndarray, kinds: Sequence[str]) -> pd.DataFrame:
    """Client-level columns: basic activity, ``cf_*`` features, value probability, kind."""
    ids = np.asarray(client_ids, dtype=np.int64)
    f = ctx.frames
    cut = ctx.cutoff
    out: dict[str, Any] = {}
    comm = f.commissions[f.commissions["client_id"].isin(ids)]
    g = comm.groupby("client_id")["commissioned_on"]
    out["basic_n_comm"] = g.size().reindex(ids).fillna(0).to_numpy()
    recent = comm[comm["commissioned_on"] >= cut - pd.Timedelta(days=730)]
    out["basic_n_comm_2y"] = recent.groupby("client_id").size().reindex(ids).fillna(0).to_numpy()
    out["basic_days_since_comm"] = (cut - g.max()).dt.days.reindex(ids).to_numpy()
    out["basic_days_since_first"] = (cut - g.min()).dt.days.reindex(ids).to_numpy()
    o = ctx.orders[ctx.orders["client_id"].isin(ids)]
    go = o.groupby("client_id")
    out["basic_n_orders"] = go.size().reindex(ids).fillna(0).to_numpy()
    out["basic_days_since_order"] = (cut - go["ordered_on"].max()).dt.days.reindex(ids).to_numpy()
    o3 = o[o["ordered_on"] >= cut - pd.Timedelta(days=1095)]
    spend = o3.groupby("client_id")["amount"].sum() if "amount" in o3 else pd.Series(dtype=float)
    out["basic_spend_3y"] = spend.reindex(ids).fillna(0).to_numpy()
    for name, col in history_block(ctx, ids).items():
        out[name] = col
    kind = ctx.clients["kind"].astype(str).reindex(ids)
    kidx = {k: i for i, k in enumerate(kinds)}
    out["kind_idx"] = kind.map(lambda k: kidx.get(k, -1)).fillna(-1).astype(int).to_numpy()
    if ctx.features is not None:
        feats = ctx.features.reindex(ids)
        for c in feats.columns:
            out[f"cf_{c}"] = pd.to_numeric(feats[c], errors="coerce").to_numpy(dtype=float)
    out["value_proba"] = (
        ctx.value_proba.reindex(ids).to_numpy(dtype=float)
        if ctx.value_proba is not None
        else np.full(len(ids), np.nan)
    )
    return pd.DataFrame(out, index=pd.Index(ids, name="client_id"))


def _align(scores: np.ndarray, have: Any, want: Any) -> np.ndarray:
    """Reorder score columns from ``have`` codes to ``want`` codes (missing = ``nan``)."""
    if list(have) == list(want):
        return scores
    pos = {c: j for j, c in enumerate(have)}
    out = np.full((scores.shape[0], len(want)), np.nan)
    for j, c in enumerate(want):
        if c in pos:
            out[:, j] = scores[:, pos[c]]
    return out


class Ranker(CandidateSource):
    """LightGBM lambdarank with calibrated, cross-client comparable scores.

    Args:
        n_cutoffs: historical cutoffs to build training pairs from: ``T - horizon``,
            then every ``cutoff_step_months`` further back. The most recent is held
            out for calibration (calibration models see only cutoffs whose label
            window ends before it).
        horizon_months: label horizon after each cutoff.
        cutoff_step_months: spacing of the cutoffs (label windows may overlap).
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM.
        n_jobs: LightGBM threads.
        seed: random seed.
        sources: candidate sources whose scores are features (default: all five).
    """

    name = "ranker"
    config_: dict[str, Any]

    def __init__(
        self,
        n_cutoffs: int = 3,
        horizon_months: int = 12,
        cutoff_step_months: int | None = None,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        n_jobs: int = 2,
        seed: int = 0,
        sources: Sequence[CandidateSource] | None = None,
    ) -> None:
        self.n_cutoffs = n_cutoffs
        self.cutoff_step_months = cutoff_step_months
        self.horizon_months = horizon_months
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_jobs = n_jobs
        self.seed = seed
        self.sources = sources

    # -- features --------------------------------------------------------------
    def _new_sources(self) -> list[CandidateSource]:
        if self.sources is None:
            return default_sources()
        return [copy.deepcopy(s) for s in self.sources]

    def _pairs(
        self, ctx: RecContext, sources: list[CandidateSource], client_ids: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Feature frame for every (client, product) pair, client-major; and eligibility."""
        codes = self.codes_
        n, m = len(client_ids), len(codes)
        cols: dict[str, np.ndarray] = {}
        pop = None
        for src in sources:
            s = _align(src.scores(client_ids), src.codes_, codes)
            cols[f"src_{src.name}"] = s.ravel()
            ranks = pd.DataFrame(s).rank(axis=1, ascending=False, method="min").to_numpy()
            cols[f"rank_{src.name}"] = ranks.ravel()
            if isinstance(src, PopularInSegmentSource):
                pop = src.global_
            if isinstance(src, ContentSource):
                recent = _align(src.recent_scores(client_ids), src.codes_, codes)
                cols["src_content_recent"] = recent.ravel()
        prod = ctx.products.set_index("code").reindex(codes)
        cat_idx = {c: i for i, c in enumerate(self.categories_)}
        cols["product_idx"] = np.tile(np.arange(m), n)
        cols["category_idx"] = np.tile(prod["category"].map(cat_idx).fillna(-1).to_numpy(), n)
        cols["price_log"] = np.tile(np.log1p(prod["price"].fillna(0).to_numpy(float)), n)
        cols["one_off"] = np.tile(prod["one_off"].fillna(True).astype(float).to_numpy(), n)
        cols["prod_pop"] = np.tile(pop if pop is not None else np.full(m, np.nan), n)
        kinds = ctx.clients["kind"].astype(str).reindex(client_ids).to_numpy()
        elig = np.ones((n, m), dtype=bool)
        for j, e in enumerate(prod["eligible_kinds"].to_numpy()):
            allowed = _as_list(e)
            if allowed:
                elig[:, j] = np.isin(kinds, allowed)
        cols["eligible"] = elig.ravel().astype(float)
        owned = _purchase_matrix(ctx.orders, client_ids, codes)
        cols["owned"] = owned.ravel()
        last = (
            ctx.orders[ctx.orders["client_id"].isin(client_ids)]
            .groupby(["client_id", "product_code"])["ordered_on"]
            .max()
        )
        days = np.full((n, m), np.nan)
        if len(last):
            rpos = pd.Series(np.arange(n), index=pd.Index(client_ids))
            cpos = pd.Series(np.arange(m), index=pd.Index(codes))
            keep = last.index.get_level_values(1).isin(cpos.index)
            last = last[keep]
            days[
                rpos.loc[last.index.get_level_values(0)].to_numpy(),
                cpos.loc[last.index.get_level_values(1)].to_numpy(),
            ] = (ctx.cutoff - last).dt.days.to_numpy()
        cols["days_since_owned"] = days.ravel()
        fb = feedback_features(ctx.frames.events, client_ids, codes, ctx.cutoff)
        for name in FEEDBACK_FEATURES:
            cols[name] = fb[name].ravel()
        X = pd.DataFrame(cols)
        client = client_matrix(ctx, client_ids, self.kinds_)
        rep = client.loc[np.repeat(client_ids, m)].reset_index(drop=True)
        X = pd.concat([X, rep], axis=1)
        return X, elig

    def _labels(self, ctx: RecContext, client_ids: np.ndarray) -> np.ndarray:
        end = ctx.cutoff + pd.DateOffset(months=self.horizon_months)
        o = ctx.history.orders
        if "status" in o:
            o = o[o["status"].astype(str).isin(("paid", "delivered"))]
        o = o[(o["ordered_on"] >= ctx.cutoff) & (o["ordered_on"] < end)]
        return _purchase_matrix(o, client_ids, self.codes_)

    def _cutoff_block(self, ctx: RecContext) -> dict[str, Any]:
        sources = [s.fit(ctx) for s in self._new_sources()]
        comm = ctx.frames.commissions
        ids = np.sort(comm["client_id"].unique()).astype(np.int64)
        ids = ids[np.isin(ids, ctx.clients.index.to_numpy())]
        X, elig = self._pairs(ctx, sources, ids)
        y = self._labels(ctx, ids)
        return {"ids": ids, "X": X, "elig": elig, "y": y}

    # -- fitting ---------------------------------------------------------------
    def fit(self, context: RecContext) -> Ranker:
        """Build pairs at ``n_cutoffs`` past cutoffs, train, calibrate, then serve ``context``."""
        from recsvc.recommend.context import enrich

        self.codes_ = context.codes
        self.categories_ = sorted(context.products["category"].astype(str).unique())
        self.kinds_ = sorted(context.history.clients["kind"].astype(str).unique())
        step = self.cutoff_step_months or self.horizon_months
        cutoffs = [
            context.cutoff - pd.DateOffset(months=self.horizon_months + step * i)
            for i in range(self.n_cutoffs)
        ]
        value = context.extras.get("value")
        blocks = []
        for c in cutoffs:
            ctx = context.at(c)
            if context.features is not None:
                enrich(ctx, value=value)
            block = self._cutoff_block(ctx)
            if len(block["ids"]) and block["y"].sum() > 0:
                blocks.append((pd.Timestamp(c), block))
            log.info("ranker pairs at %s: %d clients", pd.Timestamp(c).date(), len(block["ids"]))
        if not blocks:
            raise NotReady("no purchases in any training window; cannot train the ranker")
        self.cutoffs_ = [str(c.date()) for c, _ in blocks]
        self.feature_names_ = list(blocks[0][1]["X"].columns)
        for _, b in blocks[1:]:
            for col in b["X"].columns:
                if col not in self.feature_names_:
                    self.feature_names_.append(col)
        self.client_feature_names_ = [
            c for c in self.feature_names_ if c.startswith(CLIENT_COLUMNS_PREFIX)
        ]
        held, train = None, blocks
        if len(blocks) >= 2:
            limit = blocks[0][0] - pd.DateOffset(months=self.horizon_months)
            older = [b for b in blocks[1:] if b[0] <= limit]
            held, train = (blocks[0], older) if older else (None, blocks)
        self.metrics_: dict[str, float] = {}
        self.calibration_: dict[str, Any] = {"any": None, "cond": None}
        if held is not None:
            model, cmodel = self._train(train)
            self._calibrate(model, cmodel, held[1])
        self.model_, self.client_model_ = self._train(blocks)
        self.trained_at_ = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return self.bind(context)

    def _stack(self, blocks: list[tuple[pd.Timestamp, dict[str, Any]]]) -> tuple[Any, ...]:
        Xs, ys, groups, cX, cy = [], [], [], [], []
        m = len(self.codes_)
        for _, b in blocks:
            X = b["X"].reindex(columns=self.feature_names_)
            y, elig = b["y"], b["elig"]
            n = len(b["ids"])
            cX.append(X.iloc[np.arange(n) * m][self.client_feature_names_].reset_index(drop=True))
            cy.append((y.sum(axis=1) > 0).astype(int))
            for i in np.flatnonzero(y.sum(axis=1) > 0):
                cols = np.flatnonzero(elig[i])
                Xs.append(X.iloc[i * m + cols])
                ys.append(y[i, cols])
                groups.append(len(cols))
        return (
            pd.concat(Xs, ignore_index=True),
            np.concatenate(ys),
            groups,
            pd.concat(cX, ignore_index=True),
            np.concatenate(cy),
        )

    def _train(self, blocks: list[tuple[pd.Timestamp, dict[str, Any]]]) -> tuple[Any, Any]:
        X, y, groups, cX, cy = self._stack(blocks)
        cats = [c for c in CATEGORICAL if c in X.columns]
        params: dict[str, Any] = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "n_jobs": self.n_jobs,
            "random_state": self.seed,
            "verbose": -1,
        }
        ranker = lgb.LGBMRanker(objective="lambdarank", **params)
        ranker.fit(X, y, group=groups, categorical_feature=cats)
        ccats = [c for c in cats if c in cX.columns]
        if len(np.unique(cy)) < 2:
            cmodel = None
        else:
            cmodel = lgb.LGBMClassifier(objective="binary", **{**params, "n_estimators": 150})
            cmodel.fit(cX, cy, categorical_feature=ccats)
        return ranker.booster_, None if cmodel is None else cmodel.booster_

    def _raw(self, model: Any, cmodel: Any, X: pd.DataFrame, n: int) -> tuple[np.ndarray, ...]:
        X = X.reindex(columns=self.feature_names_)
        raw = model.predict(X).reshape(n, len(self.codes_))
        cX = X.iloc[np.arange(n) * len(self.codes_)][self.client_feature_names_]
        p_any = cmodel.predict(cX) if cmodel is not None else np.full(n, np.nan)
        return raw, np.asarray(p_any, dtype=float)

    def _calibrate(self, model: Any, cmodel: Any, block: dict[str, Any]) -> None:
        n = len(block["ids"])
        raw, p_any = self._raw(model, cmodel, block["X"], n)
        y, elig = block["y"], block["elig"]
        buyer = y.sum(axis=1) > 0
        share = _softmax_rows(raw, elig)
        if cmodel is not None and len(np.unique(buyer)) == 2:
            self.calibration_["any"] = _iso_table(p_any, buyer.astype(float))
        base_any = float(buyer.mean())
        if buyer.any():
            self.calibration_["cond"] = _iso_table(share[buyer][elig[buyer]], y[buyer][elig[buyer]])
        p_a = _apply_table(self.calibration_["any"], p_any) if cmodel is not None else base_any
        proba = np.asarray(p_a).reshape(-1, 1) * _apply_table(self.calibration_["cond"], share)
        ranked = [
            list(np.asarray(self.codes_)[np.argsort(-np.where(e, r, -np.inf))])
            for r, e in zip(raw, elig, strict=True)
        ]
        truth = [set(np.asarray(self.codes_)[row > 0]) for row in y]
        pop = block["X"]["prod_pop"].to_numpy().reshape(n, -1)
        pop_ranked = [
            list(np.asarray(self.codes_)[np.argsort(-np.where(e, p, -np.inf))])
            for p, e in zip(pop, elig, strict=True)
        ]
        rows = np.flatnonzero(buyer)
        self.metrics_ = {
            "ranker_holdout_ndcg5": ndcg_at_k([ranked[i] for i in rows], [truth[i] for i in rows]),
            "ranker_holdout_popularity_ndcg5": ndcg_at_k(
                [pop_ranked[i] for i in rows], [truth[i] for i in rows]
            ),
            "ranker_holdout_brier": float(np.mean((proba[elig] - y[elig]) ** 2)),
            "ranker_holdout_mean_proba": float(proba[elig].mean()),
            "ranker_holdout_base_rate": float(y[elig].mean()),
        }

    # -- serving ---------------------------------------------------------------
    def bind(
        self, context: RecContext, *, precompute: bool = False, saved: Path | None = None
    ) -> Ranker:
        """Fit the candidate sources on ``context`` (the serving snapshot).

        Args:
            context: the serving snapshot.
            precompute: score every client of ``context`` now, in one batch, so that
                :meth:`predict_frame` is a row lookup (serving); otherwise clients are
                scored on demand and memoised.
            saved: with ``precompute``, a folder of :meth:`save_scores`: when it holds
                this snapshot's scores (:meth:`fingerprint`) they are mapped from there,
                otherwise they are computed in memory (never written here).
        """
        self.context_ = context
        self.sources_ = [s.fit(context) for s in self._new_sources()]
        self._memo_lock = threading.Lock()
        self._memo: dict[int, int] = {}
        self._memo_frame: pd.DataFrame | None = None
        self._memo_feats: np.ndarray | None = None
        if precompute:
            ids = context.clients.index.to_numpy(dtype=np.int64)
            if len(ids) and (saved is None or not self._load_memo(saved, ids)):
                self.predict_frame(ids)
        return self

    # -- the precomputed scores as files ------------------------------------------------
    def fingerprint(self, context: RecContext) -> str:
        """What the precomputed scores and feature rows depend on: the model's products
        and features, the cutoff, every frame of the snapshot (feedback events too),
        the client features and value probabilities, and the semantic index."""
        h = hashlib.sha256(
            json.dumps([str(context.cutoff), list(self.codes_), self.feature_names_]).encode()
        )
        history = context.history
        tables: list[pd.DataFrame | pd.Series | None] = [
            getattr(history, f.name) for f in dataclasses.fields(history)
        ]
        for table in (*tables, context.features, context.value_proba):
            if table is None:
                h.update(b"none")
                continue
            frame = table if isinstance(table, pd.DataFrame) else table.to_frame()
            h.update(json.dumps([str(n) for n in frame.columns]).encode())
            h.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
            for _, col in frame.items():
                try:
                    hashed = pd.util.hash_pandas_object(col, index=False)
                except TypeError:  # JSON cells (dicts, lists): hashed by their text
                    hashed = pd.util.hash_pandas_object(col.map(repr), index=False)
                h.update(hashed.to_numpy().tobytes())
        semantic = context.semantic
        if semantic is not None:
            h.update(semantic.signature().encode())
        return h.hexdigest()[:20]

    def save_scores(self, folder: Path) -> Path:
        """Write the scores and feature rows of every client of the bound snapshot
        (``bind(..., precompute=True)``) into ``folder``, replaced whole: training and
        ``recsvc serving build`` do, servers never."""
        frame, X = self._memo_frame, self._memo_feats
        if frame is None or X is None:
            raise RuntimeError("bind(context, precompute=True) first")
        ids = self.context_.clients.index.to_numpy(dtype=np.int64)
        columns = [c for c in frame.columns if c not in ("client_id", "code")]  # rebuilt
        mark = self.fingerprint(self.context_)
        with RANKER_FILES.save(folder, fingerprint=mark, columns=columns) as tmp:
            np.save(tmp / "clients.npy", ids)
            np.save(tmp / "features.npy", X)
            for col in columns:
                np.save(tmp / f"{col}.npy", frame[col].to_numpy())
        return Path(folder)

    def _load_memo(self, folder: Path, ids: np.ndarray) -> bool:
        """Map the scores saved in ``folder`` when they are this snapshot's."""
        meta = RANKER_FILES.open(folder, fingerprint=self.fingerprint(self.context_))
        if meta is None:
            return False
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
        self._memo_frame, self._memo_feats = frame, X
        self._memo = {int(c): i for i, c in enumerate(ids.tolist())}
        log.info("ranker scores of %d clients mapped from %s", len(ids), folder)
        return True

    def _compute(self, ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """Scores and the model's feature matrix for ``ids`` (no memo)."""
        n, m = len(ids), len(self.codes_)
        X, elig = self._pairs(self.context_, self.sources_, ids)
        X = X.reindex(columns=self.feature_names_)
        raw, p_any = self._raw(self.model_, self.client_model_, X, n)
        share = _softmax_rows(raw, elig)
        if self.client_model_ is not None and self.calibration_.get("any"):
            p_any = _apply_table(self.calibration_["any"], p_any)
        elif self.client_model_ is None:
            p_any = np.full(n, 1.0)
        proba = p_any.reshape(-1, 1) * _apply_table(self.calibration_.get("cond"), share)
        out = pd.DataFrame(
            {
                "client_id": np.repeat(ids, m),
                "code": np.tile(self.codes_, n),
                "raw": raw.ravel(),
                "p_any": np.repeat(p_any, m),
                "share": share.ravel(),
                "proba": np.where(elig, proba, np.nan).ravel(),
                "eligible": elig.ravel(),
            }
        )
        for s in self.sources_:
            out[f"src_{s.name}"] = X[f"src_{s.name}"].to_numpy()
        return out, X.to_numpy(dtype=np.float32)  # explanation input only; halves the memo

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """Row positions of ``ids``' blocks in the memo, scoring the missing clients first."""
        missing = [int(c) for c in dict.fromkeys(ids.tolist()) if int(c) not in self._memo]
        if missing:
            with self._memo_lock:
                missing = [c for c in missing if c not in self._memo]
                if missing:
                    new = np.asarray(missing, dtype=np.int64)
                    frame, X = self._compute(new)
                    start = (
                        0 if self._memo_frame is None else len(self._memo_frame) // len(self.codes_)
                    )
                    frames = [f for f in (self._memo_frame, frame) if f is not None]
                    feats = [f for f in (self._memo_feats, X) if f is not None]
                    merged = pd.concat(frames, ignore_index=True)
                    merged_X = np.vstack(feats)
                    # publish the arrays before the ids that point into them
                    self._memo_frame, self._memo_feats = merged, merged_X
                    for i, c in enumerate(missing):
                        self._memo[c] = start + i
        memo = self._memo
        return np.asarray([memo[int(c)] for c in ids], dtype=np.int64)

    def _row_index(self, ids: np.ndarray) -> np.ndarray:
        m = len(self.codes_)
        blocks = self._rows(ids)
        return (blocks[:, None] * m + np.arange(m)[None, :]).ravel()

    def predict_frame(self, client_ids: np.ndarray) -> pd.DataFrame:
        """One row per (client, product): source scores, raw score, calibrated probability.

        Rows come from a memo of every client scored so far (all clients when bound
        with ``precompute``); stateless per call, safe from several threads.
        """
        self._ready()
        rows = self._row_index(np.asarray(client_ids, dtype=np.int64))
        frame = self._memo_frame
        assert frame is not None
        return frame.iloc[rows].reset_index(drop=True)

    def _ready(self) -> None:
        if not hasattr(self, "model_"):
            raise NotReady("the ranker is not fitted")
        if not hasattr(self, "_memo"):
            self.bind(self.context_)

    def predicted(self, client_ids: np.ndarray, columns: Sequence[str]) -> dict[str, np.ndarray]:
        """``columns`` of :meth:`predict_frame` as arrays, client-major: the same rows
        without building a frame of them (most of a live call's ranking before)."""
        self._ready()
        rows = self._row_index(np.asarray(client_ids, dtype=np.int64))
        frame = self._memo_frame
        assert frame is not None
        arrays = column_arrays(frame)
        return {c: arrays[c][rows] for c in columns}

    def feature_matrix(self, client_ids: np.ndarray) -> np.ndarray:
        """The model's input rows for ``client_ids``, client-major (``feature_names_`` order)."""
        rows = self._row_index(np.asarray(client_ids, dtype=np.int64))
        X = self._memo_feats
        assert X is not None
        return X[rows]

    def features(self, client_ids: np.ndarray) -> pd.DataFrame:
        """:meth:`feature_matrix` as a frame with the feature names as columns."""
        return pd.DataFrame(self.feature_matrix(client_ids), columns=self.feature_names_)

    def scores(self, client_ids: np.ndarray) -> np.ndarray:
        """Calibrated purchase probabilities ``(n, n_products)``; ineligible = ``nan``."""
        frame = self.predict_frame(client_ids)
        return frame["proba"].to_numpy().reshape(len(client_ids), len(self.codes_))

    def recommend(
        self, client_ids: np.ndarray, k: int, exclude: Any = None
    ) -> tuple[np.ndarray, np.ndarray]:
        ids = np.asarray(client_ids, dtype=np.int64)
        return top_k(self.codes_, self.scores(ids), k, ids, exclude)

    # -- artifact --------------------------------------------------------------
    def save(self, folder: Path | str, **meta: Any) -> Path:
        """Write ``config.json`` + ``model.txt`` (+ ``client_model.txt``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model_.save_model(str(folder / "model.txt"))
        if self.client_model_ is not None:
            self.client_model_.save_model(str(folder / "client_model.txt"))
        config = {
            "kind": "ranker",
            "schema": SCHEMA,
            "trained_at": self.trained_at_,
            "params": {
                k: getattr(self, k)
                for k in (
                    "n_cutoffs",
                    "cutoff_step_months",
                    "horizon_months",
                    "n_estimators",
                    "learning_rate",
                    "num_leaves",
                    "min_child_samples",
                    "seed",
                )
            },
            "codes": list(map(str, self.codes_)),
            "categories": self.categories_,
            "kinds": self.kinds_,
            "feature_names": self.feature_names_,
            "client_feature_names": self.client_feature_names_,
            "cutoffs": self.cutoffs_,
            "calibration": self.calibration_,
            "metrics": self.metrics_,
            **meta,
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> Ranker:
        """Read a saved ranker; call :meth:`bind` with a serving context before use."""
        folder = Path(folder)
        cfg_path = folder / "config.json"
        if not cfg_path.exists():
            raise NotReady(f"no ranker at {folder}")
        cfg = json.loads(cfg_path.read_text())
        self = cls(**cfg["params"])
        self.config_ = cfg
        self.codes_ = np.array(cfg["codes"], dtype=object)
        self.categories_ = cfg["categories"]
        self.kinds_ = cfg["kinds"]
        self.feature_names_ = cfg["feature_names"]
        self.client_feature_names_ = cfg["client_feature_names"]
        self.cutoffs_ = cfg["cutoffs"]
        self.calibration_ = cfg["calibration"]
        self.metrics_ = cfg["metrics"]
        self.trained_at_ = cfg["trained_at"]
        self.model_ = lgb.Booster(model_file=str(folder / "model.txt"))
        cm = folder / "client_model.txt"
        self.client_model_ = lgb.Booster(model_file=str(cm)) if cm.exists() else None
        return self
