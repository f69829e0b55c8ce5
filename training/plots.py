"""Evaluation plots: lift chart, calibration curve, feature importance (PNG, Agg backend).

Each plot is drawn once per interface language, as ``<name>.<lang>.png`` (``lift.zh.png``,
``lift.en.png``): titles, axes, legends and feature names follow the language, so the
console shows the one that matches the page. Scorer names come from the ``scorer``
vocabulary of :mod:`recsvc.store.labels`, feature names from :mod:`recsvc.features.docs`.
Chinese text needs a CJK font (Debian's ``fonts-noto-cjk``, which ``make chromium``
installs); without one matplotlib draws empty boxes, and :func:`save_figure` says so in
one log line instead of matplotlib's warning per missing glyph.

Example:
    >>> fig = lift_figure(backtest, "zh")                        # doctest: +SKIP
    >>> fig.axes[0].get_xlabel()                                 # doctest: +SKIP
    '得分十分位（1 = 最高）'
"""

from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure

from recsvc.features.docs import FEATURES
from recsvc.store.labels import label
from training.metrics import calibration_table, lift_curve

__all__ = [
    "LANGS",
    "calibration_figure",
    "importance_figure",
    "lift_figure",
    "new_figure",
    "plot_words",
    "save_figure",
    "write_plots",
]

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
#: Fonts tried in order: a CJK sans, a CJK serif, then matplotlib's default.
FONTS = ["Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "DejaVu Sans"]

_WORDS: dict[str, tuple[str, str]] = {
    "lift.title": ("按得分十分位的提升度", "Lift by decile"),
    "lift.x": ("得分十分位（1 = 最高）", "score decile (1 = highest)"),
    "lift.y": ("相对基准购买率的提升度", "lift over base rate"),
    "calibration.title": ("校准曲线", "Calibration"),
    "calibration.x": ("平均预测概率", "mean predicted probability"),
    "calibration.y": ("实际购买率", "observed rate"),
    "importance.title": ("价值模型：特征重要性", "Value model: feature importance"),
    "importance.x": ("总增益", "total gain"),
}


def plot_words(key: str, lang: str) -> str:
    """One word of the plots in ``lang`` (English for anything but ``zh``)."""
    zh, en = _WORDS[key]
    return zh if lang == "zh" else en


def _scorer(column: str, lang: str) -> str:
    """``p_logistic`` → "逻辑回归" / "Logistic regression"."""
    code = column.removeprefix("p_")
    return label("scorer", code, lang) or code


def _feature(name: str, lang: str) -> str:
    doc = FEATURES.get(name)
    if doc is None:
        return name
    return doc.zh if lang == "zh" else doc.en


def new_figure(size: tuple[float, float]) -> tuple[Figure, plt.Axes]:
    """A figure and its axes, with the fonts that draw Chinese."""
    with plt.rc_context({"font.sans-serif": FONTS, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=size)
    return fig, ax


def lift_figure(backtest: pd.DataFrame, lang: str) -> Figure:
    """Lift per score decile for every score column (``p_*``) of ``backtest``."""
    fig, ax = new_figure((7, 4))
    scores = [c for c in backtest.columns if c.startswith("p_")]
    width = 0.8 / max(len(scores), 1)
    for i, col in enumerate(scores):
        lc = lift_curve(backtest["y"], backtest[col])
        offset = (i - (len(scores) - 1) / 2) * width
        ax.bar(lc["decile"] + offset, lc["lift"], width, label=_scorer(col, lang))
    ax.axhline(1.0, color="grey", lw=1, ls="--")
    ax.set_xlabel(plot_words("lift.x", lang))
    ax.set_ylabel(plot_words("lift.y", lang))
    ax.set_title(plot_words("lift.title", lang))
    ax.set_xticks(range(1, 11))
    ax.legend()
    return fig


def calibration_figure(backtest: pd.DataFrame, lang: str) -> Figure:
    """Observed rate vs mean predicted probability in deciles of the probability."""
    fig, ax = new_figure((5, 5))
    for col in [c for c in backtest.columns if c.startswith("p_") and c != "p_rfm"]:
        ct = calibration_table(backtest["y"], backtest[col])
        ax.plot(ct["predicted"], ct["observed"], marker="o", label=_scorer(col, lang))
    hi = float(max(backtest["y"].mean() * 3, backtest.filter(like="p_").max().max(), 0.05))
    ax.plot([0, hi], [0, hi], color="grey", ls="--", lw=1)
    ax.set_xlabel(plot_words("calibration.x", lang))
    ax.set_ylabel(plot_words("calibration.y", lang))
    ax.set_title(plot_words("calibration.title", lang))
    ax.legend()
    return fig


def importance_figure(importance: pd.Series, lang: str, top: int = 20) -> Figure:
    """Horizontal bars of the top features by gain, named in ``lang``."""
    imp = importance.head(top)[::-1]
    fig, ax = new_figure((7, 0.3 * len(imp) + 1))
    ax.barh([_feature(str(n), lang) for n in imp.index], imp.to_numpy())
    ax.set_xlabel(plot_words("importance.x", lang))
    ax.set_title(plot_words("importance.title", lang))
    return fig


def save_figure(fig: Figure, path: Path) -> Path:
    """Lay out, write and close ``fig``. Without a CJK font, one log line says so
    (matplotlib would warn once per missing glyph: hundreds per training)."""
    if not has_cjk_font():
        _say_no_cjk_font()
    with (
        plt.rc_context({"font.sans-serif": FONTS, "axes.unicode_minus": False}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@functools.cache
def has_cjk_font() -> bool:
    """Whether one of the CJK :data:`FONTS` is installed."""
    for name in FONTS[:-1]:
        try:
            font_manager.findfont(name, fallback_to_default=False)
        except ValueError:
            continue
        return True
    return False


@functools.cache
def _say_no_cjk_font() -> None:
    log.warning("no CJK font (fonts-noto-cjk): the Chinese plots show empty boxes")


def write_plots(backtest: pd.DataFrame, importance: pd.Series, folders: list[Path]) -> list[Path]:
    """Write the three plots in every language into every folder; returns the paths."""
    out = []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        for lang in LANGS:
            out.append(save_figure(lift_figure(backtest, lang), folder / f"lift.{lang}.png"))
            out.append(
                save_figure(calibration_figure(backtest, lang), folder / f"calibration.{lang}.png")
            )
            out.append(
                save_figure(
                    importance_figure(importance, lang),
                    folder / f"feature_importance.{lang}.png",
                )
            )
    return out
