"""The sentences of explanations, in Chinese and English, as :class:`Evidence`.

Pure templates: each function turns what the explainer looked up (a commission, a
past case, a purchase, a factor's value) into one piece of evidence, in words a
librarian would say and dated where it has a date ("2025年9月委托的查新项目“…”（3个月前，
用于专利申请）…"). Each sentence keeps to its language's script; client-supplied text
(a title, a field) is quoted as it is. Client-profile factors are worded by
:mod:`recsvc.features.phrasing` (value, reference point, effect; no raw decimal). The
explainer decides which to say; nothing here reads the snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from recsvc.features import FEATURES
from recsvc.features.phrasing import factor_text, reference_point
from recsvc.recommend.offer import Evidence
from recsvc.semantic.text import in_script
from recsvc.store.labels import KIND_PHRASES, PURPOSE_PHRASES, field_phrase

__all__ = [
    "BASIC_FEATURES",
    "age_text",
    "case_sentences",
    "content_match",
    "cooldown_ended",
    "factor_names",
    "feature_sentence",
    "first_text",
    "ladder_step",
    "look_alike",
    "momentum",
    "month_text",
    "own_case",
    "own_project",
    "owned",
    "popular_in_segment",
    "purpose_lift",
    "satisfaction_dip",
    "similar_case",
]


def first_text(row: Mapping[str, Any], columns: Sequence[str]) -> str:
    """The first readable text among ``columns`` (missing and ``nan`` values skipped)."""
    for c in columns:
        v = row.get(c)
        if isinstance(v, str) and v.strip() and v.strip().lower() != "nan":
            return v
    return ""


def month_text(when: Any) -> tuple[str, str]:
    """A month as ``(zh, en)``: ``("2025年9月", "Sep 2025")``."""
    ts = pd.Timestamp(when)
    return f"{ts.year}年{ts.month}月", ts.strftime("%b %Y")


def age_text(when: Any, now: Any) -> tuple[str, str]:
    """How long before ``now`` as ``(zh, en)``: "本月" / "this month", "3个月前" /
    "3 months ago", "4年前" / "4 years ago"."""
    months = int((pd.Timestamp(now) - pd.Timestamp(when)).days // 30.44)
    if months < 1:
        return "本月", "this month"
    if months < 24:
        return f"{months}个月前", f"{months} month{'s' if months > 1 else ''} ago"
    years = months // 12
    return f"{years}年前", f"{years} years ago"


def own_project(
    row: Mapping[str, Any], score: float, product: tuple[str, str], now: Any
) -> Evidence:
    """One of the client's own commissions backing an offer: its title, when it was
    commissioned and what for, and that it is close to the product's past cases."""
    zh_t = first_text(row, ("title_zh", "title_en", "keywords"))
    en_t = first_text(row, ("title_en", "title_zh", "keywords"))
    when = row["commissioned_on"]
    (m_zh, m_en), (a_zh, a_en) = month_text(when), age_text(when, now)
    purpose = row.get("purpose")
    use_zh, use_en = "", ""
    if isinstance(purpose, str) and purpose in PURPOSE_PHRASES and purpose != "other":
        zh_u, en_u = PURPOSE_PHRASES[purpose]
        use_zh, use_en = f"，用于{zh_u}", f", for {en_u.lower()}"
    return Evidence.model_construct(
        kind="own_project",
        text_zh=f"{m_zh}委托的查新项目“{zh_t}”（{a_zh}{use_zh}）与{product[0]}的以往案例方向相近",
        text_en=f"The novelty-search project “{en_t}” ({m_en}, {a_en}{use_en}) "
        f"is close to past cases of {product[1].lower()}",
        ref=str(row.get("external_id") or ""),
        score=score,
    )


_QUOTED = re.compile(r"“[^”]*”")
_EN_CASE = re.compile(
    r"^(?P<head>.*?)(?: with a novelty-search project on (?P<topic>.*?))? bought (?P<tail>.*)$"
)
_ZH_TOPIC = re.compile(r"在“(?P<topic>[^”]*)”查新项目之后")


def _keep(topic: str, han: bool) -> list[str]:
    """The keywords of ``topic`` (``;``-separated) written in Chinese (``han``) or not."""
    return in_script(re.split(r"[;；]", topic), cjk=han)


def _quote_han(text: str) -> str:
    """``text`` with every stretch of Chinese outside quotes put in quotes (a client's
    field name inside an English sentence)."""
    parts = re.split(r"(“[^”]*”)", text)
    run = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff\w；;、 ]*[\u3400-\u9fff]|[\u3400-\u9fff]")
    return "".join(
        p if p.startswith("“") else run.sub(lambda m: f"“{m.group(0)}”", p) for p in parts
    )


def case_sentences(zh: str, en: str) -> tuple[str, str]:
    """An anonymised case summary in one language each: the English keeps its English
    keywords, the Chinese its Chinese ones, and what stays of the other script (a
    client's field) is quoted, as client-supplied text."""
    m = _EN_CASE.match(en.rstrip("."))
    if m is not None:
        head, topic, tail = m.group("head"), m.group("topic"), m.group("tail")
        words = _keep(topic, han=False) if topic else []
        about = f" with a novelty-search project on {'; '.join(words)}" if words else ""
        done = words or "novelty-search project" in tail
        after = "" if done else " after a similar novelty-search project"
        en = f"{head}{about} bought {tail}{after}"
    en = _quote_han(en.rstrip("。."))
    t = _ZH_TOPIC.search(zh)
    if t is not None:
        words = _keep(t.group("topic"), han=True)
        repl = f"在“{'；'.join(words)}”查新项目之后" if words else "在相近的查新项目之后"
        zh = zh[: t.start()] + repl + zh[t.end() :]
    return zh.rstrip("。."), en


def similar_case(zh: str, en: str, ref: str | None, score: float) -> Evidence:
    """An anonymised past case, from the semantic layer's case summary."""
    zh, en = case_sentences(zh, en)
    return Evidence.model_construct(
        kind="similar_case",
        text_zh=zh,
        text_en=f"{en[0].upper()}{en[1:]}" if en else "",
        ref=ref,
        score=score,
    )


def own_case(kind: str, field: str, name: tuple[str, str], score: float) -> Evidence:
    """A past case told by the buyer's kind and field only (no text quoted)."""
    kind_zh, kind_en = KIND_PHRASES.get(kind, KIND_PHRASES["other"])
    zh_name, en_name = name
    where_zh = f"{field_phrase(field, 'zh')}领域的" if field else ""
    where_en = f" in {field_phrase(field, 'en')}" if field else ""
    return Evidence.model_construct(
        kind="similar_case",
        text_zh=f"一家{where_zh}{kind_zh}在相近的查新项目之后购买了{zh_name}",
        text_en=f"{kind_en[0].upper()}{kind_en[1:]}{where_en} bought {en_name.lower()} "
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


def ladder_step(
    before: tuple[str, str], product: tuple[str, str], when: Any | None = None
) -> Evidence:
    """The service ladder: the client bought ``before`` (in ``when``'s month), and
    ``product`` is the step clients most often take next."""
    m_zh, m_en = month_text(when) if when is not None else ("", "")
    at_zh, at_en = (f"于{m_zh}", f" in {m_en}") if when is not None else ("", "")
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"已{at_zh}购买{before[0]}，{product[0]}是客户常走的下一步",
        text_en=f"Bought {before[1].lower()}{at_en}; {product[1].lower()} is the step "
        "clients most often take next",
    )


def purpose_lift(
    purpose: str, lift: float, product: tuple[str, str], when: Any | None = None
) -> Evidence:
    """A recent commission's purpose (a patent application …) after which ``product``
    is bought ``lift`` times as often as on average."""
    zh_u, en_u = PURPOSE_PHRASES.get(purpose, (purpose, purpose))
    zh_p, en_p = product
    m_zh, m_en = month_text(when) if when is not None else ("近期", "recently")
    at_en = f"in {m_en}" if when is not None else m_en
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"{m_zh}有一项以“{zh_u}”为目的的查新；此类查新之后，"
        f"{zh_p}的购买率是平均的{lift:.1f}倍",
        text_en=f"A novelty search for {en_u.lower()} {at_en}: after such commissions, "
        f"{en_p.lower()} is bought {lift:.1f} times as often as on average",
        score=lift,
    )


def momentum(share: int) -> Evidence:
    """The fields of the client's recent projects gain commissions faster than those
    of ``share`` % of clients."""
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"近期项目所在领域正在升温：委托增长势头高于{share}%的客户",
        text_en=f"The fields of its recent projects are gaining momentum: faster than "
        f"{share}% of clients",
    )


def cooldown_ended(when: Any, days: int) -> Evidence:
    """The client declined the product in ``when``'s month; the ``days`` of cool-down
    after a decline have passed."""
    m_zh, m_en = month_text(when)
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"客户于{m_zh}暂缓了此产品，{days}天的冷静期已过，可以再次介绍",
        text_en=f"The client declined it in {m_en}; the {days}-day pause is over, so it "
        "can be offered again",
    )


def satisfaction_dip(share: int) -> Evidence:
    """Satisfaction fell more than that of ``share`` % of clients: a reason to call."""
    return Evidence.model_construct(
        kind="factor",
        text_zh=f"近期满意度下降（降幅大于{share}%的客户），宜借回访了解新需求",
        text_en=f"Satisfaction has dipped recently (more than for {share}% of clients): "
        "a follow-up call can uncover new needs",
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


#: The ranker's own activity columns (:mod:`recsvc.recommend.pairs`) and the client
#: feature that says the same in words.
BASIC_FEATURES = {
    "basic_n_comm": "n_commissions",
    "basic_n_comm_2y": "n_commissions_24m",
    "basic_days_since_comm": "months_since_last_commission",
    "basic_days_since_first": "months_since_first_commission",
    "basic_n_orders": "n_purchases",
    "basic_days_since_order": "months_since_last_purchase",
}


def feature_sentence(
    name: str, value: float | None = None, population: Any | None = None
) -> Evidence | None:
    """A client-profile factor the ranker counted *for* the offer (it keeps positive
    contributions only): the value, where it stands among all clients (``population``)
    and that it raises the chance; ``None`` for a column without words."""
    if name == "value_proba":
        ref = reference_point(value, population)
        if ref is None:
            return None
        return Evidence.model_construct(
            kind="factor",
            text_zh=f"购买任一增值服务的可能性{ref[0]}；提高了购买可能性",
            text_en=f"Likelihood of buying any service {ref[1]}; this raises the chance "
            "of a purchase",
        )
    feature = BASIC_FEATURES.get(name, name.removeprefix("cf_"))
    if feature not in FEATURES:
        return None
    zh, en = factor_text(feature, value, 1.0, population)
    return Evidence.model_construct(kind="factor", text_zh=zh, text_en=en)
