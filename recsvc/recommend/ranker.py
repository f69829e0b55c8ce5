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
metrics) plus ``model.txt`` and ``client_model.txt`` (LightGBM boosters), written and
read by :mod:`recsvc.recommend.ranker_files`.

Example:
    >>> ranker = Ranker(n_cutoffs=3).fit(context)                        # doctest: +SKIP
    >>> rows = ranker.predict(context, np.array([1, 2]))                 # doctest: +SKIP
    >>> rows.scores["proba"].shape                                       # doctest: +SKIP
    (22,)
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from recsvc.errors import NotReady
from recsvc.recommend.blocks import PairBlock, build_block, holdout_metrics, stack_groups
from recsvc.recommend.calibration import apply_table, fit_table, softmax_rows
from recsvc.recommend.context import RecContext, enrich
from recsvc.recommend.fitting import BoosterFitter, LocalFitter
from recsvc.recommend.pairs import CATEGORICAL, CLIENT_COLUMNS_PREFIX, pair_features
from recsvc.recommend.ranker_files import FITTED, PARAMS, read_ranker_folder, write_ranker_folder
from recsvc.recommend.sources import CandidateSource, default_sources

__all__ = ["PairRows", "Ranker"]

log = logging.getLogger(__name__)


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
        n_cutoffs: historical cutoffs the final models train on: ``T - horizon``,
            then every ``cutoff_step_months`` further back. The most recent is held
            out for calibration: the models calibrated there train on as many cutoffs
            whose label windows end before it (so a few older cutoffs are built too),
            and an offline evaluation at that cutoff scores with them.
        horizon_months: label horizon after each cutoff.
        cutoff_step_months: spacing of the cutoffs (label windows may overlap).
        n_estimators, learning_rate, num_leaves, min_child_samples: LightGBM.
        n_jobs: LightGBM threads.
        seed: random seed.
        sources: candidate sources whose scores are features (default: all five).
        max_pairs: lambdarank rows a fit may use. Cutoffs are added newest first until
            their buyers' pairs reach it (at least ``min_cutoffs``); beyond it each
            query group keeps its positives and a sample of its negatives
            (:func:`~recsvc.recommend.blocks.stack_groups`). ``None``: every cutoff,
            every pair.
        min_cutoffs: cutoffs used whatever the budget.
        holdout_non_buyers: clients without a purchase whose pair rows the held-out
            Brier score samples (all of them in a store this small or smaller).
        fitter: fits the LightGBM models (default: here, :class:`LocalFitter`).
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
        max_pairs: int | None = None,
        min_cutoffs: int = 4,
        holdout_non_buyers: int = 5000,
        fitter: BoosterFitter | None = None,
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
        self.max_pairs = max_pairs
        self.min_cutoffs = min_cutoffs
        self.holdout_non_buyers = holdout_non_buyers
        self.fitter = fitter or LocalFitter()

    # -- features --------------------------------------------------------------
    def fit_sources(self, context: RecContext, saved: Path | None = None) -> list[CandidateSource]:
        """Fresh copies of the candidate sources, fitted on ``context``; each takes what
        ``saved/<its name>`` holds for this very snapshot (the caller checked) instead
        of computing it (:meth:`CandidateSource.fit_from`)."""
        if self.sources is None:
            fresh = default_sources()
        else:
            fresh = [copy.deepcopy(s) for s in self.sources]
        return [s.fit_from(context, None if saved is None else saved / s.name) for s in fresh]

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

    # -- fitting ---------------------------------------------------------------
    def fit(
        self,
        context: RecContext,
        known_features: Callable[[pd.Timestamp], pd.DataFrame | None] | None = None,
    ) -> Ranker:
        """Build blocks at past cutoffs before ``context``'s, train, calibrate.

        Args:
            context: the snapshot whose cutoff the newest label window ends at.
            known_features: client features at a cutoff when the caller computed them
                already (training hands over today's); computed otherwise.
        """
        self.codes_ = context.codes
        self.categories_ = sorted(context.products["category"].astype(str).unique())
        self.kinds_ = sorted(context.history.clients["kind"].astype(str).unique())
        step = self.cutoff_step_months or self.horizon_months
        value = context.extras.get("value")
        # the held-out model trains on the cutoffs whose label windows end before the
        # held-out one: as many as the final fit, so ``inside`` more are built
        inside = -(-self.horizon_months // step)
        blocks: list[PairBlock] = []
        pairs = 0
        n_final = self.n_cutoffs
        for i in range(self.n_cutoffs + inside):
            enough = len(blocks) >= self.min_cutoffs + inside
            if self.max_pairs is not None and pairs >= self.max_pairs and enough:
                n_final = len(blocks) - inside
                break
            c = context.cutoff - pd.DateOffset(months=self.horizon_months + step * i)
            ctx = context.at(c)
            if context.features is not None:
                enrich(ctx, value=value, features=known_features(c) if known_features else None)
            block = build_block(
                ctx,
                self.fit_sources(ctx),
                codes=self.codes_,
                categories=self.categories_,
                kinds=self.kinds_,
                horizon_months=self.horizon_months,
                non_buyers=self.holdout_non_buyers if not blocks else 0,
                seed=self.seed + i,
            )
            log.info(
                "ranker pairs at %s: %d clients, %d buyers",
                block.cutoff.date(),
                len(block.ids),
                block.n_buyers,
            )
            if len(block.ids) and block.n_buyers:
                blocks.append(block)
                pairs += int(block.elig[: block.n_buyers].sum())
        if not blocks:
            raise NotReady("no purchases in any training window; cannot train the ranker")
        final = blocks[:n_final]
        self.cutoffs_ = [str(b.cutoff.date()) for b in final]
        self.feature_names_ = list(blocks[0].X.columns)
        for b in blocks[1:]:
            for col in b.X.columns:
                if col not in self.feature_names_:
                    self.feature_names_.append(col)
        self.client_feature_names_ = [
            c for c in self.feature_names_ if c.startswith(CLIENT_COLUMNS_PREFIX)
        ]
        held, train = None, final
        if len(blocks) >= 2:
            limit = blocks[0].cutoff - pd.DateOffset(months=self.horizon_months)
            older = [b for b in blocks[1:] if b.cutoff <= limit][:n_final]
            held, train = (blocks[0], older) if older else (None, final)
        self.metrics_: dict[str, float] = {}
        self.calibration_: dict[str, Any] = {"any": None, "cond": None}
        self.holdout_: tuple[Any, Any, pd.Timestamp] | None = None
        if held is not None:
            model, cmodel = self._train(train)
            self._calibrate(model, cmodel, held)
            self.holdout_ = (model, cmodel, held.cutoff)
            self.holdout_cutoffs_ = [str(b.cutoff.date()) for b in train]
        started = time.perf_counter()
        self.model_, self.client_model_ = self._train(final)
        self.train_seconds_ = time.perf_counter() - started
        self.trained_at_ = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        return self

    @property
    def fitted(self) -> bool:
        """Whether :meth:`fit` (or :meth:`load`) ran."""
        return hasattr(self, "model_")

    def holdout_ranker(self, at: pd.Timestamp) -> Ranker | None:
        """The ranker as it stood before its held-out cutoff ``at``: trained only on
        labels known by then, calibrated on what followed (what an offline evaluation
        at that cutoff must score with); ``None`` when the fit held out no cutoff, or
        another one."""
        holdout = getattr(self, "holdout_", None)
        if holdout is None or pd.Timestamp(holdout[2]) != pd.Timestamp(at):
            return None
        held = copy.copy(self)
        held.model_, held.client_model_, _ = holdout
        held.cutoffs_ = self.holdout_cutoffs_
        held.holdout_ = None
        return held

    def _params(self) -> dict[str, Any]:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "n_jobs": self.n_jobs,
            "random_state": self.seed,
            "verbose": -1,
        }

    def _train(self, blocks: list[PairBlock]) -> tuple[Any, Any]:
        data = stack_groups(
            blocks,
            self.feature_names_,
            self.client_feature_names_,
            max_rows=self.max_pairs,
            seed=self.seed,
        )
        self.sampled_ = data.sampled
        cats = [c for c in CATEGORICAL if c in data.X.columns]
        params = self._params()
        ranker = self.fitter.ranker(data.X, data.y, data.groups, params, cats)
        if len(np.unique(data.client_y)) < 2:
            return ranker, None
        ccats = [c for c in cats if c in data.client_X.columns]
        cparams = {**params, "n_estimators": 150}
        return ranker, self.fitter.classifier(data.client_X, data.client_y, cparams, ccats)

    def _raw(self, model: Any, X: pd.DataFrame, n: int) -> np.ndarray:
        return np.asarray(model.predict(X.reindex(columns=self.feature_names_))).reshape(
            n, len(self.codes_)
        )

    def _p_any(self, cmodel: Any, client: pd.DataFrame) -> np.ndarray:
        if cmodel is None:
            return np.full(len(client), np.nan)
        cX = client.reindex(columns=self.client_feature_names_)
        return np.asarray(cmodel.predict(cX), dtype=float)

    def _calibrate(self, model: Any, cmodel: Any, block: PairBlock) -> None:
        """Fit the calibration tables on the held-out block and score the fit there.

        ``P(any)`` is calibrated over every client of the block, the within-client
        share over its buyers; the Brier score and mean probability cover buyers and
        the sampled non-buyers, each weighted by how many clients it stands for.
        """
        nb = block.n_buyers
        raw = self._raw(model, block.X, len(block.rows))
        p_any_all = self._p_any(cmodel, block.client)
        y, elig = block.y, block.elig
        share = softmax_rows(raw, elig)
        if cmodel is not None and len(np.unique(block.buyer)) == 2:
            self.calibration_["any"] = fit_table(p_any_all, block.buyer.astype(float))
        base_any = float(block.buyer.mean())
        self.calibration_["cond"] = fit_table(share[:nb][elig[:nb]], y[:nb][elig[:nb]])
        p_any = p_any_all[block.rows]
        p_a = apply_table(self.calibration_["any"], p_any) if cmodel is not None else base_any
        proba = np.asarray(p_a).reshape(-1, 1) * apply_table(self.calibration_["cond"], share)
        self.metrics_ = holdout_metrics(block, raw, proba, np.asarray(self.codes_))

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
        if not self.fitted:
            raise NotReady("the ranker is not fitted")
        ids = np.asarray(client_ids, dtype=np.int64)
        fitted = list(sources) if sources is not None else self.fit_sources(context)
        n, m = len(ids), len(self.codes_)
        X, elig = self._pairs(context, fitted, ids)
        X = X.reindex(columns=self.feature_names_)
        raw = self._raw(self.model_, X, n)
        p_any = self._p_any(self.client_model_, X.iloc[np.arange(n) * m])
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
        return PairRows(out, X.to_numpy(dtype=np.float32))

    # -- artifact --------------------------------------------------------------
    def save(self, folder: Path | str, **meta: Any) -> Path:
        """Write the folder :mod:`recsvc.recommend.ranker_files` describes."""
        config = {
            "params": {k: getattr(self, k) for k in PARAMS},
            "codes": list(map(str, self.codes_)),
            **{k: getattr(self, f"{k}_") for k in FITTED},
            **meta,
        }
        return write_ranker_folder(folder, config, self.model_, self.client_model_)

    @classmethod
    def load(cls, folder: Path | str) -> Ranker:
        """Read a folder written by :meth:`save`."""
        cfg, model, client_model = read_ranker_folder(folder)
        self = cls(**cfg["params"])
        self.config_ = cfg
        self.codes_ = np.array(cfg["codes"], dtype=object)
        for k in FITTED:
            setattr(self, f"{k}_", cfg[k])
        self.model_, self.client_model_ = model, client_model
        return self
