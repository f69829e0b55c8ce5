"""Client lifetime value: BG/NBD (Fader, Hardie & Lee 2005) + Gamma-Gamma, closed forms.

Transactions are commissions (one per distinct day), time is in weeks, value is the
commission fee. The fitting (maximum likelihood with scipy) lives in
``training/clv.py``; this module holds what serving needs: the per-client summary, the
conditional expectations and the artifact.

Formulas (FHL 2005, eqs. 10 and 12; FHL 2005b for Gamma-Gamma)::

    P(alive | x, t_x, T) = 1 / (1 + [x>0] a/(b+x-1) ((α+T)/(α+t_x))^(r+x))
    E[Y(t) | x, t_x, T]  = (a+b+x-1)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x)
                            ₂F₁(r+x, b+x; a+b+x-1; t/(α+T+t))] · P(alive)
    E[X(t)]              = (a+b-1)/(a-1) · [1 - (α/(α+t))^r ₂F₁(r, b; a+b-1; t/(α+t))]
    E[M | x, m̄]          = (p (v + x m̄)) / (p x + q - 1)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import hyp2f1

from recsvc.errors import NotReady
from recsvc.store.frames import Frames

WEEKS_PER_YEAR = 365.25 / 7
CLV_COLUMNS = ("expected_commissions_12m", "expected_value_12m", "p_alive")


def clv_summary(frames: Frames, cutoff: Any) -> pd.DataFrame:
    """Per-client ``x`` (repeat commission days), ``t_x``, ``T`` (weeks) and ``m``.

    ``m`` is the mean fee of the repeat commissions (the first one excluded, as in
    the Gamma-Gamma literature); 0 when there is no repeat.
    """
    cutoff = pd.Timestamp(cutoff).normalize()
    cm = frames.commissions[frames.commissions["commissioned_on"] < cutoff]
    if cm.empty:
        return pd.DataFrame(columns=["x", "t_x", "T", "m"], index=pd.Index([], name="client_id"))
    fee = pd.to_numeric(cm["fee"], errors="coerce").fillna(0.0)
    day = cm.assign(fee=fee).groupby(["client_id", "commissioned_on"], as_index=False)["fee"].sum()
    g = day.groupby("client_id")
    first, last, n = g["commissioned_on"].min(), g["commissioned_on"].max(), g.size()
    total = g["fee"].sum()
    first_fee = day.sort_values("commissioned_on").groupby("client_id")["fee"].first()
    x = (n - 1).astype(float)
    out = pd.DataFrame(
        {
            "x": x,
            "t_x": (last - first).dt.days / 7.0,
            "T": (cutoff - first).dt.days / 7.0,
            "m": ((total - first_fee) / x.where(x > 0)).fillna(0.0),
        }
    )
    out.index.name = "client_id"
    return out


def p_alive(params: dict[str, float], x: Any, t_x: Any, T: Any) -> np.ndarray:
    """Probability the client is still active at ``T`` (BG/NBD)."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            x > 0,
            a
            / np.maximum(b + x - 1, 1e-12)
            * np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + t_x))),
            0.0,
        )
    return 1.0 / (1.0 + ratio)


def expected_transactions(
    params: dict[str, float], t: float, x: Any, t_x: Any, T: Any
) -> np.ndarray:
    """E[number of transactions in (T, T+t] | x, t_x, T] under BG/NBD."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    tail = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return head * tail * p_alive(params, x, t_x, T)


def expected_transactions_unconditional(params: dict[str, float], t: Any) -> np.ndarray:
    """E[X(t)]: transactions of a new client in (0, t]."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    t = np.asarray(t, dtype=float)
    return (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )


def expected_spend(params: dict[str, float], x: Any, m: Any) -> np.ndarray:
    """Gamma-Gamma conditional expected value per transaction."""
    p, q, v = params["p"], params["q"], params["v"]
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return p * (v + x * m) / (p * x + q - 1)


class ClvModel:
    """Fitted BG/NBD + Gamma-Gamma parameters and the predictions at the model's as-of date.

    ``predict(client_ids)`` reads the stored predictions; ``predict_summary`` scores
    any :func:`clv_summary` (live scoring at another date).
    """

    def __init__(
        self,
        bgnbd: dict[str, float],
        gamma_gamma: dict[str, float] | None = None,
        horizon_weeks: float = WEEKS_PER_YEAR,
        predictions: pd.DataFrame | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.bgnbd = bgnbd
        self.gamma_gamma = gamma_gamma
        self.horizon_weeks = horizon_weeks
        self.predictions = predictions
        self.info = info or {}

    def predict_summary(self, summary: pd.DataFrame) -> pd.DataFrame:
        """CLV columns for each row of a :func:`clv_summary` frame."""
        n = expected_transactions(
            self.bgnbd, self.horizon_weeks, summary["x"], summary["t_x"], summary["T"]
        )
        if self.gamma_gamma:
            value = n * expected_spend(self.gamma_gamma, summary["x"], summary["m"])
        else:
            value = np.full(len(summary), np.nan)
        return pd.DataFrame(
            {
                "expected_commissions_12m": n,
                "expected_value_12m": value,
                "p_alive": p_alive(self.bgnbd, summary["x"], summary["t_x"], summary["T"]),
            },
            index=summary.index,
        )

    def predict(self, client_ids: Any) -> pd.DataFrame:
        """Stored predictions for ``client_ids``; clients without commissions get NaN."""
        ids = pd.Index(np.atleast_1d(np.asarray(client_ids)), name="client_id")
        if self.predictions is None:
            return pd.DataFrame(np.nan, index=ids, columns=list(CLV_COLUMNS))
        return self.predictions.reindex(ids)

    def save(self, folder: Path | str) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = {
            "kind": "bgnbd+gamma-gamma",
            "time_unit": "week",
            "bgnbd": self.bgnbd,
            "gamma_gamma": self.gamma_gamma,
            "horizon_weeks": self.horizon_weeks,
            "info": self.info,
        }
        (folder / "config.json").write_text(
            json.dumps(config, ensure_ascii=False, indent=2, default=str)
        )
        if self.predictions is not None:
            self.predictions.to_csv(folder / "predictions.csv", float_format="%.6g")
        return folder

    @classmethod
    def load(cls, folder: Path | str) -> ClvModel:
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise NotReady(f"no CLV model in {folder}; run `recsvc train`")
        config = json.loads((folder / "config.json").read_text())
        preds = None
        if (folder / "predictions.csv").exists():
            preds = pd.read_csv(folder / "predictions.csv", index_col="client_id")
        return cls(
            config["bgnbd"],
            config.get("gamma_gamma"),
            config["horizon_weeks"],
            preds,
            config.get("info"),
        )
