"""The sentences of explanations, in Chinese and English, as :class:`Evidence`.

Pure templates: each function turns what the explainer looked up (a commission, a
past case, a factor's value) into one piece of evidence. The explainer decides which
to say; nothing here reads the snapshot.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from recsvc.features import FEATURES
from recsvc.recommend.offer import Evidence
from recsvc.store.labels import KIND_PHRASES, PURPOSE_PHRASES

__all__ = [
    "content_match",
    "factor_names",
    "feature_sentence",
    "first_text",
    "ladder_step",
    "look_alike",
    "own_case",
    "own_project",
    "owned",
    "popular_in_segment",
    "purpose_lift",
    "similar_case",
]


def first_text(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The first readable text among ``columns`` (missing and ``nan`` values skipped)."""
    for c in columns:
        v = row.get(c)
        if isinstance(v, str) and v.strip() and v.strip().lower() != "nan":
            return v
    return ""


def own_project(row: Mapping[str, Any], score: float) -> Evidence:
    """One of the client's own commissions (title and month) backing an offer."""
    zh_t = first_text(row, ("title_zh", "title_en", "keywords"))
    en_t = first_text(row, ("title_en", "title_zh", "keywords"))
    when = str(np.datetime64(row["commissioned_on"], "M"))  # 2024-05
    return Evidence.model_construct(
        kind="own_project",
        text_zh=f"与查新项目“{zh_t}”（{when}）方向一致",
        text_en=f"Matches the novelty-search project “{en_t}” ({when})",
        ref=str(row.get("external_id") or ""),
        score=score,
    )


def similar_case(zh: str, en: str, ref: str | None, score: float) -> Evidence:
    """An anonymised past case, from the semantic layer's case summary."""
    return Evidence.model_construct(
        kind="similar_case",
        text_zh=f"相似案例：{zh}",
        text_en=f"Similar case: {en}",
        ref=ref,
        score=score,
    )


def own_case(kind: str, field: str, name: tuple[str, str], score: float) -> Evidence:
    """A past case told by the buyer's kind and field only (no text quoted)."""
    kind_zh, kind_en = KIND_PHRASES.get(kind, KIND_PHRASES["other"])
    zh_name, en_name = name
    where_zh = f"{field}领域的" if field else ""
    where_en = f" in {field}" if field else ""
    return Evidence.model_construct(
        kind="similar_case",
        text_zh=f"相似案例：一家{where_zh}{kind_zh}在相近的查新项目之后购买了{zh_name}",
        text_en=f"Similar case: {kind_en}{where_en} bought {en_name.lower()} "
        "after a similar novelty-search project",
        score=score,
    )


def factor_names(
    contributions: Sequence[tuple[str, float]],
    source_scores: Mapping[str, float],
    sources: Collection[str],
) -> list[str]:
    """The factors to explain, strongest first: the model's top contributions (a
    source's columns named by the source), else the sources by score."""
    names: list[str] = []
    for feat, _ in contributions:
        name = feat.removeprefix("src_").removeprefix("rank_")
        if name in sources and name not in names:
            names.append(name)
        elif (
            not feat.startswith(("src_", "rank_", "product_idx", "category_idx"))
            and feat not in names
        ):
            names.append(feat)
    if not contributions:
        ranked = sorted(
            ((n, v) for n, v in source_scores.items() if v is not None and np.isfinite(v)),
            key=lambda t: -t[1],
        )
        names = [n for n, _ in ranked]
    return names


def look_alike(product: tuple[str, str], share: float) -> Evidence:
    zh_p, en_p = product
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"研究方向相近的客户中约{share:.0%}购买过{zh_p}",
        text_en=f"About {share:.0%} of clients with similar research directions "
        f"bought {en_p.lower()}",
        score=share,
    )


def ladder_step(before: tuple[str, str], product: tuple[str, str]) -> Evidence:
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"常见的服务升级路径：{before[0]} → {product[0]}",
        text_en=f"A common service path: {before[1].lower()} → {product[1].lower()}",
    )


def purpose_lift(purpose: str, lift: float, product: tuple[str, str]) -> Evidence:
    zh_u, en_u = PURPOSE_PHRASES.get(purpose, (purpose, purpose))
    zh_p, en_p = product
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"以“{zh_u}”为目的的查新之后，{zh_p}的购买率是平均的{lift:.1f}倍",
        text_en=f"After commissions for {en_u}, {en_p.lower()} is bought "
        f"{lift:.1f}x as often as average",
        score=lift,
    )


def content_match(product: tuple[str, str], score: float) -> Evidence:
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"研究方向与{product[0]}的以往案例相近",
        text_en=f"The research direction resembles past cases of {product[1].lower()}",
        score=score,
    )


def popular_in_segment() -> Evidence:
    return Evidence.model_construct(
        kind="factor",
        text_zh="在同类、同领域客户中较受欢迎",
        text_en="Popular among clients of the same kind and field",
    )


def owned(product: tuple[str, str], one_off: bool) -> Evidence:
    zh_p, en_p = product
    if one_off:
        return Evidence.model_construct(
            kind="factor", text_zh=f"曾购买过{zh_p}", text_en=f"Bought {en_p.lower()} before"
        )
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"曾购买过{zh_p}，适合续购",
        text_en=f"Bought {en_p.lower()} before; due for renewal",
    )


def feature_sentence(name: str) -> Evidence | None:
    """A client-profile factor (the value model, a client feature), or ``None``."""
    if name == "value_proba":
        return Evidence.model_construct(
            kind="factor",
            text_zh="价值模型判断该客户近期购买可能性高",
            text_en="The value model rates this client likely to buy soon",
        )
    doc = FEATURES.get(name.removeprefix("cf_"))
    if doc is not None:
        return Evidence.model_construct(
            kind="factor", text_zh=f"客户特征：{doc.zh}", text_en=f"Client profile: {doc.en}"
        )
    if name.startswith("basic_n_comm"):
        return Evidence.model_construct(
            kind="factor",
            text_zh="近期查新委托较多",
            text_en="Several recent novelty-search commissions",
        )
    return None
