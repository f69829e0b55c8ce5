"""The learned ranker: LightGBM lambdarank over (client, product, cutoff) pairs.

Training pairs come from several historical cutoffs ``T - h, T - 2h, …`` (``h`` the
label horizon): features from what was known before each cutoff, relevance = the
client bought the product within the horizon after it. The rows are laid out by
:mod:`recsvc.recommend.pairs` (the candidate sources' scores and ranks, client,
product and feedback columns).

Scores are calibrated so they compare across clients (the worklist sorts by them):
``P(client buys p) = P(client buys anything) x P(p | client buys)``. The first factor is
a client-level LightGBM classifier, the second the within-client softmax share of the
ranker's scores; each is mapped to observed frequencies
(:mod:`recsvc.recommend.calibration`) fitted on the most recent, held-out cutoff. See
``docs/recommender.md``.

:class:`Ranker` is an estimator: ``fit`` on a context, :meth:`Ranker.predict` the rows
of some clients of a context, ``save``/``load``. Serving every client of a snapshot
from precomputed rows is :class:`recsvc.recommend.scored.ScoredRanker`'s job.

The artifact is a folder: ``config.json`` (feature list, calibration tables, cutoffs,
metrics) plus ``model.txt`` and ``client_model.txt`` (LightGBM boosters).

Example:
    >>> ranker = Ranker(n_cutoffs=3).fit(context)                        # doctest: +SKIP
    >>> rows = ranker.predict(context, np.array([1, 2]))                 # doctest: +SKIP
    >>> rows.scores["proba"].shape                                       # doctest: +SKIP
    (22,)
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import lightgbm as lgb
import numpy as np
import pandas as pd

from recsvc.errors import NotReady
from recsvc.recommend.calibration import apply_table, fit_table, softmax_rows
from recsvc.recommend.context import RecContext, enrich
from recsvc.recommend.metrics import ndcg_at_k
from recsvc.recommend.pairs import (
    CATEGORICAL,
    CLIENT_COLUMNS_PREFIX,
    pair_features,
    purchase_labels,
)
from recsvc.recommend.sources import CandidateSource, default_sources

__all__ = ["PairRows", "Ranker"]

log = logging.getLogger(__name__)

SCHEMA = 1


class PairRows(NamedTuple):
    """What :meth:`Ranker.predict` gives for some clients, client-major.

    Attributes:
        scores: one row per (client, product): ``client_id``, ``code``, ``raw``,
            ``p_any``, ``share``, ``proba`` (``nan`` where ineligible), ``eligible``
            and each source's score ``src_<name>``.
        features: the model's input rows (``feature_names_`` order, ``float32``), for
            explanations.
    """

    scores: pd.DataFrame
    features: np.ndarray


class Ranker:
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
    def fit_sources(self, context: RecContext) -> list[CandidateSource]:
        """Fresh copies of the candidate sources, fitted on ``context``."""
        if self.sources is None:
            fresh = default_sources()
        else:
            fresh = [copy.deepcopy(s) for s in self.sources]
        return [s.fit(context) for s in fresh]

    def _pairs(
        self, ctx: RecContext, sources: Sequence[CandidateSource], client_ids: np.ndarray
    ) -> tuple[pd.DataFrame, np.ndarray]:
        return pair_features(
            ctx,
            sources,
            client_ids,
            codes=self.codes_,
            categories=self.categories_,
            kinds=self.kinds_,
        )

    def _cutoff_block(self, ctx: RecContext) -> dict[str, Any]:
        sources = self.fit_sources(ctx)
        comm = ctx.frames.commissions
        ids = np.sort(comm["client_id"].unique()).astype(np.int64)
        ids = ids[np.isin(ids, ctx.clients.index.to_numpy())]
        X, elig = self._pairs(ctx, sources, ids)
        y = purchase_labels(ctx, ids, self.codes_, self.horizon_months)
        return {"ids": ids, "X": X, "elig": elig, "y": y}

    # -- fitting ---------------------------------------------------------------
    def fit(self, context: RecContext) -> Ranker:
        """Build pairs at ``n_cutoffs`` past cutoffs before ``context``'s, train, calibrate."""
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
        return self

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
        share = softmax_rows(raw, elig)
        if cmodel is not None and len(np.unique(buyer)) == 2:
            self.calibration_["any"] = fit_table(p_any, buyer.astype(float))
        base_any = float(buyer.mean())
        if buyer.any():
            self.calibration_["cond"] = fit_table(share[buyer][elig[buyer]], y[buyer][elig[buyer]])
        p_a = apply_table(self.calibration_["any"], p_any) if cmodel is not None else base_any
        proba = np.asarray(p_a).reshape(-1, 1) * apply_table(self.calibration_["cond"], share)
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

    # -- prediction ------------------------------------------------------------
    def predict(
        self,
        context: RecContext,
        client_ids: np.ndarray,
        sources: Sequence[CandidateSource] | None = None,
    ) -> PairRows:
        """Calibrated scores and input rows of every (client, product) pair of ``client_ids``.

        Args:
            context: the snapshot to score from (the clients must be in it).
            client_ids: the clients, in row order.
            sources: the candidate sources already fitted on ``context`` (default:
                :meth:`fit_sources`, which costs a fit of every source).
        """
        if not hasattr(self, "model_"):
            raise NotReady("the ranker is not fitted")
        ids = np.asarray(client_ids, dtype=np.int64)
        fitted = list(sources) if sources is not None else self.fit_sources(context)
        n, m = len(ids), len(self.codes_)
        X, elig = self._pairs(context, fitted, ids)
        X = X.reindex(columns=self.feature_names_)
        raw, p_any = self._raw(self.model_, self.client_model_, X, n)
        share = softmax_rows(raw, elig)
        if self.client_model_ is not None and self.calibration_.get("any"):
            p_any = apply_table(self.calibration_["any"], p_any)
        elif self.client_model_ is None:
            p_any = np.full(n, 1.0)
        proba = p_any.reshape(-1, 1) * apply_table(self.calibration_.get("cond"), share)
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
        for s in fitted:
            out[f"src_{s.name}"] = X[f"src_{s.name}"].to_numpy()
        return PairRows(out, X.to_numpy(dtype=np.float32))  # float32: explanation input only

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
        """Read a folder written by :meth:`save`."""
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
