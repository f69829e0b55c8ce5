"""Evaluation plots: lift chart, calibration curve, feature importance (PNG, Agg backend)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from training.metrics import calibration_table, lift_curve


def lift_chart(backtest: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Lift per score decile for every score column (``p_*``) of ``backtest``."""
    fig, ax = plt.subplots(figsize=(7, 4))
    scores = [c for c in backtest.columns if c.startswith("p_")]
    width = 0.8 / max(len(scores), 1)
    for i, col in enumerate(scores):
        lc = lift_curve(backtest["y"], backtest[col])
        ax.bar(lc["decile"] + (i - (len(scores) - 1) / 2) * width, lc["lift"], width, label=col[2:])
    ax.axhline(1.0, color="grey", lw=1, ls="--")
    ax.set_xlabel("score decile (1 = highest)")
    ax.set_ylabel("lift over base rate")
    ax.set_title(title or "Lift by decile")
    ax.set_xticks(range(1, 11))
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def calibration_curve(backtest: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Observed rate vs mean predicted probability in deciles of the probability."""
    fig, ax = plt.subplots(figsize=(5, 5))
    for col in [c for c in backtest.columns if c.startswith("p_") and c != "p_rfm"]:
        ct = calibration_table(backtest["y"], backtest[col])
        ax.plot(ct["predicted"], ct["observed"], marker="o", label=col[2:])
    hi = float(max(backtest["y"].mean() * 3, backtest.filter(like="p_").max().max(), 0.05))
    ax.plot([0, hi], [0, hi], color="grey", ls="--", lw=1)
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed rate")
    ax.set_title(title or "Calibration")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def importance_chart(importance: pd.Series, path: Path, top: int = 20) -> Path:
    """Horizontal bars of the top features by gain."""
    imp = importance.head(top)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(imp) + 1))
    ax.barh(imp.index, imp.to_numpy())
    ax.set_xlabel("total gain")
    ax.set_title("Value model: feature importance")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_plots(backtest: pd.DataFrame, importance: pd.Series, folders: list[Path]) -> list[Path]:
    """Write the three PNGs into every folder; returns the paths written."""
    out = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        out.append(lift_chart(backtest, folder / "lift.png"))
        out.append(calibration_curve(backtest, folder / "calibration.png"))
        out.append(importance_chart(importance, folder / "feature_importance.png"))
    return out
