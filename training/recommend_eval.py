"""Offline evaluation of the recommender on a temporal holdout.

Everything known before the holdout cutoff ``T`` (default: the business "today" minus
the horizon) trains the ranker (its own cutoffs end at ``T``); the truth is what each
client bought in ``[T, T + horizon)``. Every method gets the same business-rule
exclusions (eligibility, one-off re-buys, cool-downs), then NDCG@5, recall@5, MAP@5
and catalogue coverage are computed with :mod:`recsvc.recommend.metrics`.

Methods: ``full`` (ranker + rules + diversity), ``sources`` (the chained sources
without the ranker), ``content`` (content source only), ``popularity``, ``random``.

Run: ``python -m training.recommend_eval`` (prints the table, writes the plot).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recsvc.config import Settings
from recsvc.features.today import business_today
from recsvc.recommend.context import RecContext, build_context
from recsvc.recommend.metrics import catalogue_coverage, map_at_k, ndcg_at_k, recall_at_k
from recsvc.recommend.ranker import Ranker
from recsvc.recommend.rules import BusinessRules
from recsvc.recommend.scored import ScoredRanker
from recsvc.recommend.service import Recommender
from recsvc.recommend.sources import (
    CandidateSource,
    ContentSource,
    PopularSource,
    RandomSource,
    SourceChain,
)
from recsvc.store.frames import Frames
from recsvc.value import ValueService

log = logging.getLogger(__name__)

K = 5
METHODS = ("full", "sources", "content", "popularity", "random")


def holdout_truth(ctx: RecContext, horizon_months: int) -> dict[int, set[str]]:
    """Products each known client bought in ``[T, T + horizon)`` (buyers only)."""
    end = ctx.cutoff + pd.DateOffset(months=horizon_months)
    o = ctx.history.orders
    if "status" in o:
        o = o[o["status"].astype(str).isin(("paid", "delivered"))]
    o = o[(o["ordered_on"] >= ctx.cutoff) & (o["ordered_on"] < end)]
    known = set(ctx.frames.commissions["client_id"].unique()) & set(ctx.clients.index)
    o = o[o["client_id"].isin(known)]
    return {int(c): set(g["product_code"].astype(str)) for c, g in o.groupby("client_id")}


def _rows(codes: np.ndarray) -> list[list[str]]:
    return [[c for c in row if c] for row in codes]


def score_method(
    recommended: Sequence[Sequence[str]], truth: Sequence[set[str]], catalogue: Sequence[str]
) -> dict[str, float]:
    """The four metrics for one method."""
    return {
        "ndcg5": ndcg_at_k(recommended, truth, K),
        "recall5": recall_at_k(recommended, truth, K),
        "map5": map_at_k(recommended, truth, K),
        "coverage": catalogue_coverage(recommended, catalogue, K),
    }


def evaluate(
    settings: Settings,
    frames: Frames,
    semantic: Any = None,
    *,
    holdout: pd.Timestamp | None = None,
    out_dirs: Sequence[Path] = (),
    version: str | None = None,
    value: ValueService | None = None,
    ranker: Ranker | None = None,
    known_features: Callable[[pd.Timestamp], pd.DataFrame | None] | None = None,
) -> pd.DataFrame:
    """Evaluate every method on the temporal holdout; write the plot and CSV.

    Args:
        settings: settings (horizon, cutoffs, reports_dir, rules).
        frames: the full history.
        semantic: the semantic layer (or ``None`` for the lexical channel only).
        holdout: the cutoff ``T``; default today minus the horizon.
        out_dirs: extra folders for ``recommend_eval.png`` / ``.csv`` (the
            version's ``plots/``); ``settings.reports_dir`` always gets them.
        version: names the reports sub-folder.
        value: the version's value model, whose probability becomes a ranker input.
        ranker: the version's fitted ranker, whose model as it stood before ``T``
            (:meth:`Ranker.holdout_ranker`) is evaluated; or an unfitted ranker (default
            :func:`training.ranker.make_ranker`) to fit on what was known before ``T``.
        known_features: client features at a cutoff when the caller has them.

    Returns:
        One row per method: ``ndcg5, recall5, map5, coverage, clients``.
    """
    from training.ranker import make_ranker

    horizon = settings.horizon_months
    T = pd.Timestamp(holdout or business_today(frames, settings) - pd.DateOffset(months=horizon))
    ctx = build_context(
        frames,
        T,
        semantic=semantic,
        settings=settings,
        value=value,
        features=known_features(T) if known_features else None,
    )
    ctx.extras["value"] = value
    truth_map = holdout_truth(ctx, horizon)
    ids = np.array(sorted(truth_map), dtype=np.int64)
    truth = [truth_map[int(c)] for c in ids]
    rules = BusinessRules.load(settings=settings)
    fitted = ranker.holdout_ranker(T) if ranker is not None and ranker.fitted else None
    if fitted is None:
        fitted = ranker if ranker is not None and not ranker.fitted else make_ranker(settings)
        fitted = fitted.fit(ctx, known_features=known_features)
    rec = Recommender(settings, ctx, model=ScoredRanker(fitted).bind(ctx), rules=rules)
    exclude = rec.exclusions(ids, live=False)
    catalogue = list(ctx.codes)
    lists: dict[str, list[list[str]]] = {}
    lists["full"] = _rows(rec.rank(ids, K, live=False)[0])
    baselines: dict[str, CandidateSource] = {
        "sources": SourceChain(),
        "content": SourceChain([ContentSource()], fallback=PopularSource()),
        "popularity": PopularSource(),
        "random": RandomSource(seed=0),
    }
    for name, model in baselines.items():
        model.fit(ctx)
        lists[name] = _rows(model.recommend(ids, K, exclude)[0])
    table = pd.DataFrame(
        {m: {**score_method(lists[m], truth, catalogue), "clients": len(ids)} for m in METHODS}
    ).T
    table.index.name = "method"
    table.attrs["holdout"] = str(pd.Timestamp(T).date())
    table.attrs["ranker_cutoffs"] = fitted.cutoffs_
    assert settings.reports_dir is not None  # Settings fills it in from data_dir
    reports = settings.reports_dir / (version or "latest")
    for folder in [reports, *out_dirs]:
        write_outputs(table, Path(folder))
    return table


#: Each evaluated method and each metric, as the plot names them (zh, en).
METHOD_WORDS: dict[str, tuple[str, str]] = {
    "full": ("完整推荐（排序模型）", "full recommender (ranker)"),
    "sources": ("候选来源合并", "candidate sources only"),
    "content": ("仅内容相似", "content similarity only"),
    "popularity": ("热门基线", "popularity baseline"),
    "random": ("随机基线", "random baseline"),
}
METRIC_WORDS: dict[str, tuple[str, str]] = {
    "ndcg5": ("NDCG@5", "NDCG@5"),
    "recall5": ("召回率@5", "recall@5"),
    "map5": ("MAP@5", "MAP@5"),
    "coverage": ("目录覆盖率", "coverage"),
}
_TITLE = ("下一项服务推荐：时间留出集 {holdout}", "Next-best-service, temporal holdout {holdout}")


def _word(words: tuple[str, str], lang: str) -> str:
    return words[0] if lang == "zh" else words[1]


def write_outputs(table: pd.DataFrame, folder: Path) -> Path:
    """``recommend_eval.csv`` and a grouped bar chart per interface language,
    ``recommend_eval.zh.png`` and ``recommend_eval.en.png``; returns the CSV's path."""
    from training.plots import LANGS, new_figure, save_figure

    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "recommend_eval.csv", float_format="%.4f")
    metrics = list(METRIC_WORDS)
    width = 0.8 / len(table)
    x = np.arange(len(metrics))
    for lang in LANGS:
        fig, ax = new_figure((8, 4))
        for i, (method, row) in enumerate(table.iterrows()):
            name = _word(METHOD_WORDS.get(str(method), (str(method), str(method))), lang)
            ax.bar(x + i * width, [row[m] for m in metrics], width, label=name)
        ax.set_xticks(x + width * (len(table) - 1) / 2)
        ax.set_xticklabels([_word(METRIC_WORDS[m], lang) for m in metrics])
        ax.set_ylim(0, 1)
        ax.set_title(_word(_TITLE, lang).format(holdout=table.attrs.get("holdout", "")))
        ax.legend(fontsize=8)
        save_figure(fig, folder / f"recommend_eval.{lang}.png")
    return folder / "recommend_eval.csv"


def format_table(table: pd.DataFrame) -> str:
    """A plain-text table for logs and the CLI."""
    head = f"{'method':<12}{'NDCG@5':>9}{'recall@5':>10}{'MAP@5':>9}{'coverage':>10}"
    lines = [head, "-" * len(head)]
    for method, r in table.iterrows():
        lines.append(
            f"{method!s:<12}{r['ndcg5']:>9.4f}{r['recall5']:>10.4f}{r['map5']:>9.4f}"
            f"{r['coverage']:>10.4f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Evaluate on the configured store and print the table."""
    from rich.console import Console

    from recsvc.config import Settings
    from recsvc.store import Database, load_frames

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings()
    frames = load_frames(Database.from_settings(settings))
    semantic = None
    try:
        from recsvc.semantic import SemanticLayer

        semantic = SemanticLayer.load(settings)
    except Exception:
        log.info("no semantic index; lexical channel only")
    table = evaluate(settings, frames, semantic)
    console = Console()
    console.print(format_table(table), highlight=False, markup=False)
    console.print(f"holdout {table.attrs['holdout']}; plot in {settings.reports_dir}/latest")


if __name__ == "__main__":
    main()
