"""Live value scoring for the API, the CLI and the recommender.

One object loaded from a version folder answers, per client: calibrated probability
of a value-added purchase, segment with its strategy actions, relationship stage,
lifetime value (BG/NBD + Gamma-Gamma) and the top reasons in Chinese and English.

Example:
    >>> svc = ValueService.load(registry.active_path(), settings)        # doctest: +SKIP
    >>> svc.score_frames(frames).head()                                   # doctest: +SKIP
    >>> svc.explain_client(frames, client_id=42).as_dict()                 # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.errors import NotFound
from recsvc.features import STAGE_LABELS, STAGES, client_features
from recsvc.features.phrasing import as_float, factor_text
from recsvc.features.today import business_today
from recsvc.registry import VALUE_MODELS, Registry
from recsvc.store.frames import Frames
from recsvc.value.clv import CLV_COLUMNS, ClvModel, clv_summary
from recsvc.value.logistic import LogisticValueModel
from recsvc.value.model import Reason, ValueModel
from recsvc.value.segments import SEGMENT_LABELS, STRATEGIES, Action, assign_segments


@dataclass
class ClientScore:
    """Everything the value side says about one client."""

    client_id: int
    probability: float
    segment: str
    stage: str
    actions: list[Action]
    clv: dict[str, float]
    reasons: list[Reason] = field(default_factory=list)
    version: str | None = None

    @property
    def segment_label(self) -> tuple[str, str]:
        return SEGMENT_LABELS[self.segment]

    @property
    def stage_label(self) -> tuple[str, str]:
        return STAGE_LABELS[self.stage]

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "probability": self.probability,
            "segment": self.segment,
            "segment_zh": self.segment_label[0],
            "segment_en": self.segment_label[1],
            "stage": self.stage,
            "stage_zh": self.stage_label[0],
            "stage_en": self.stage_label[1],
            "actions": [
                {
                    "code": a.code,
                    "item_code": a.item_code,
                    "name_zh": a.name_zh,
                    "name_en": a.name_en,
                }
                for a in self.actions
            ],
            "clv": {k: (None if pd.isna(v) else float(v)) for k, v in self.clv.items()},
            "reasons": [r.as_dict() for r in self.reasons],
            "version": self.version,
        }


class ValueService:
    """The value model, CLV model and segment thresholds of one registered version.

    ``model`` is the version's LightGBM model or its logistic baseline, whichever the
    registry says it serves (:meth:`recsvc.registry.Registry.value_model`);
    ``value_model`` names it.
    """

    def __init__(
        self,
        model: ValueModel | LogisticValueModel,
        clv: ClvModel | None,
        thresholds: dict[str, float] | None,
        settings: Settings,
        version: str | None = None,
        value_model: str = "lightgbm",
    ) -> None:
        self.model = model
        self.clv = clv
        self.thresholds = thresholds
        self.settings = settings
        self.version = version
        self.value_model = value_model

    @classmethod
    def load(
        cls, version_dir: Path | str, settings: Settings, value_model: str | None = None
    ) -> ValueService:
        """Load from a version folder (``registry.active_path()``).

        Args:
            version_dir: the version's folder (in a registry's root).
            settings: the configuration.
            value_model: ``"lightgbm"`` or ``"logistic"``; default: the one the registry
                says the version serves. A version trained before the logistic model was
                kept serves LightGBM.
        """
        folder = Path(version_dir)
        name = value_model or Registry(folder.parent).value_model(folder.name)
        model: ValueModel | LogisticValueModel
        if name == "logistic" and (folder / VALUE_MODELS[name] / "config.json").exists():
            model = LogisticValueModel.load(folder / VALUE_MODELS[name])
        else:
            model, name = ValueModel.load(folder / "value"), "lightgbm"
        clv = ClvModel.load(folder / "clv") if (folder / "clv" / "config.json").exists() else None
        seg_file = folder / "value" / "segments.json"
        thresholds = json.loads(seg_file.read_text()) if seg_file.exists() else None
        return cls(model, clv, thresholds, settings, version=folder.name, value_model=name)

    def features(self, frames: Frames, cutoff: Any = None, semantic: Any = None) -> pd.DataFrame:
        cutoff = business_today(frames, self.settings) if cutoff is None else pd.Timestamp(cutoff)
        return client_features(
            frames, cutoff, semantic, dormant_months=self.settings.dormant_months
        )

    def probabilities(self, features: pd.DataFrame) -> pd.Series:
        """Probability of a value-added purchase per row of ``features`` (by the value
        model the version serves)."""
        p = np.asarray(self.model.predict(features), dtype=float)
        return pd.Series(p, index=features.index, name="probability")

    def segments(self, features: pd.DataFrame) -> pd.Series:
        """The segment of each row of ``features``, by the version's stored thresholds."""
        return assign_segments(features, self.settings, self.thresholds)

    def score(self, features: pd.DataFrame, clv_input: pd.DataFrame | None = None) -> pd.DataFrame:
        """Probability, segment, stage and CLV columns for each row of ``features``."""
        out = pd.DataFrame(index=features.index)
        out["probability"] = self.probabilities(features)
        out["segment"] = self.segments(features)
        out["stage"] = features["relationship_stage"].astype(int).map(dict(enumerate(STAGES)))
        if self.clv is not None and clv_input is not None:
            clv = self.clv.predict_summary(clv_input).reindex(features.index)
        elif self.clv is not None:
            clv = self.clv.predict(features.index.to_numpy())
            clv.index = features.index
        else:
            clv = pd.DataFrame(np.nan, index=features.index, columns=list(CLV_COLUMNS))
        return out.join(clv)

    def score_frames(
        self, frames: Frames, cutoff: Any = None, semantic: Any = None, client_ids: Any = None
    ) -> pd.DataFrame:
        """Score every client known at ``cutoff`` (default: today), or only ``client_ids``."""
        cutoff = business_today(frames, self.settings) if cutoff is None else pd.Timestamp(cutoff)
        feats = self.features(frames, cutoff, semantic)
        if client_ids is not None:
            feats = feats.reindex(pd.Index(np.atleast_1d(client_ids))).dropna(how="all")
        return self.score(feats, clv_summary(frames, cutoff))

    def reasons(self, features: pd.DataFrame, client_id: int, k: int = 3) -> list[Reason]:
        """The top ``k`` raising and lowering factors of one client, worded against all
        of ``features`` (every client's: the reference points are their percentiles).

        Example: "近12个月委托数为7，高于90%的客户；提高了购买可能性".
        """
        found = self.model.explain(features.loc[[client_id]], k=k)
        out = []
        for r in found:
            population = features.get(r.feature)
            zh, en = factor_text(r.feature, as_float(r.value), r.contribution, population)
            out.append(replace(r, text_zh=zh, text_en=en))
        return out

    def explain_client(
        self, frames: Frames, client_id: int, cutoff: Any = None, semantic: Any = None, k: int = 3
    ) -> ClientScore:
        """Score one client and give its top ``k`` raising and lowering reasons.

        Raises:
            NotFound: the client is not known at ``cutoff``.
        """
        cutoff = business_today(frames, self.settings) if cutoff is None else pd.Timestamp(cutoff)
        feats = self.features(frames, cutoff, semantic)
        if client_id not in feats.index:
            raise NotFound(f"client {client_id} is not known at {cutoff:%Y-%m-%d}")
        row = feats.loc[[client_id]]
        scored = self.score(row, clv_summary(frames, cutoff)).iloc[0]
        segment = str(scored["segment"])
        return ClientScore(
            client_id=int(client_id),
            probability=float(scored["probability"]),
            segment=segment,
            stage=str(scored["stage"]),
            actions=list(STRATEGIES[segment]),
            clv={c: float(scored[c]) for c in CLV_COLUMNS},
            reasons=self.reasons(feats, client_id, k=k),
            version=self.version,
        )
