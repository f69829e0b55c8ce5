"""A client's score from the model version in service: value probability with reasons,
segment with its strategy actions, CLV and relationship stage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from recsvc.errors import NotFound
from recsvc.runtime import Runtime
from recsvc.store.frames import load_frames
from recsvc.value import STRATEGIES
from recsvc.value.clv import CLV_COLUMNS
from recsvc.value.service import ClientScore

__all__ = ["ClientScore", "client_score", "clv_or_none", "public"]


def client_score(rt: Runtime, *, client_id: int, k: int = 3) -> ClientScore | None:
    """The score of ``client_id`` by the version in service, with its top ``k`` reasons
    of each sign; ``None`` until a model is loaded (or for a client it cannot score).

    Scores were computed for every client when the version loaded; a client imported
    since is scored now from a fresh snapshot.
    """
    bundle = rt.bundle
    if bundle is None or bundle.value is None:
        return None
    value = bundle.value
    features, scores = bundle.features, bundle.scores
    if features is not None and scores is not None and client_id in features.index:
        scored = scores.loc[client_id]
        segment = str(scored["segment"])
        return ClientScore(
            client_id=client_id,
            probability=float(scored["probability"]),
            segment=segment,
            stage=str(scored["stage"]),
            actions=list(STRATEGIES.get(segment, [])),
            clv={c: scored.get(c) for c in CLV_COLUMNS},
            reasons=value.reasons(features, client_id, k=k),
            version=bundle.version,
        )
    try:
        found = value.explain_client(load_frames(rt.db), client_id, k=k)
    except NotFound:
        return None
    found.version = bundle.version
    return found


def clv_or_none(clv: Mapping[str, Any]) -> dict[str, float] | None:
    """The CLV numbers, or ``None`` when the CLV model gave none for this client."""
    out = {}
    for key in ("expected_commissions_12m", "expected_value_12m", "p_alive"):
        v = clv.get(key)
        if v is None or pd.isna(v):
            return None
        out[key] = float(v)
    return out


def public(score: ClientScore) -> dict[str, Any]:
    """The score as the API's client profile shows it (``ScorePublic``) and
    ``recsvc score --json`` prints it."""
    return {
        "value_probability": float(score.probability),
        # the name every surface gives P(buys any service) (recsvc.quantities)
        "client_probability": float(score.probability),
        "reasons": [
            {
                "feature": r.feature,
                "contribution": float(r.contribution),
                "text_zh": r.text_zh,
                "text_en": r.text_en,
            }
            for r in score.reasons
        ],
        "segment": score.segment,
        "actions": [
            {"code": a.item_code, "name_zh": a.name_zh, "name_en": a.name_en} for a in score.actions
        ],
        "clv": clv_or_none(score.clv),
        "relationship_stage": score.stage,
    }
