"""A model factor in words a librarian would say: the value, a reference point, the effect.

A factor is one feature of one client with the model's contribution for it (``+``
raises the chance of a purchase). :func:`factor_text` says what the value *is* (a
count, a time, an amount; an index without a natural unit is told only by where it
stands), where it stands among all clients (a percentile of the population the model
scores, computed at serve time: no client's value is stored with a version), and
whether it counts for or against, taken from the contribution's sign only::

    近12个月委托数为7，高于90%的客户；提高了购买可能性
    Commissions in the last 12 months: 7, higher than 90% of clients; this raises the
    chance of a purchase

The wording never states a direction the model did not take, and never shows a raw
decimal: counts and months are whole, scores have one decimal, shares and
percentiles are percentages.

Example:
    >>> import numpy as np
    >>> factor_text("n_commissions_12m", 7, 0.4, np.arange(10))[0]
    '近12个月委托数为7，高于70%的客户；提高了购买可能性'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from recsvc.features.docs import FEATURES, FeatureDoc

__all__ = [
    "EFFECT_PHRASES",
    "UNDOCUMENTED",
    "Population",
    "as_float",
    "factor_text",
    "reference_point",
    "value_phrase",
]

#: What a factor did to the chance of a purchase, by the contribution's sign.
EFFECT_PHRASES: dict[bool, tuple[str, str]] = {
    True: ("提高了购买可能性", "this raises the chance of a purchase"),
    False: ("降低了购买可能性", "this lowers the chance of a purchase"),
}

#: A feature without a :data:`FEATURES` entry: named in general words, never by its
#: internal column name.
UNDOCUMENTED = FeatureDoc("一项客户特征", "a client feature")


def _whole(value: float) -> str:
    return f"{value:,.0f}"


def value_phrase(doc: FeatureDoc, value: float | None) -> tuple[str, str] | None:
    """What the value is, as ``(zh, en)``; ``None`` for an index without a unit (its
    reference point alone says how high it is) or a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    en_label = f"{doc.en[0].upper()}{doc.en[1:]}"
    kind = doc.kind
    if kind == "flag":
        return (doc.zh, en_label) if value >= 0.5 else (f"不符合：{doc.zh}", f"Not so: {doc.en}")
    if kind == "count":
        v = _whole(value)
        return f"{doc.zh}为{v}", f"{en_label}: {v}"
    if kind == "months":
        v = _whole(value)
        return f"{doc.zh}为{v}个月", f"{en_label}: {v} months"
    if kind == "money":
        v = _whole(value)
        return f"{doc.zh}为¥{v}", f"{en_label}: ¥{v}"
    if kind == "share":
        v = f"{100 * value:.0f}%"
        return f"{doc.zh}为{v}", f"{en_label}: {v}"
    if kind == "score":
        return f"{doc.zh}为{value:.1f}分（满分5分）", f"{en_label}: {value:.1f} out of 5"
    return None


class Population:
    """Every client's value of one feature, finite values sorted once, so that where one
    client stands is two binary searches. Passing the raw column instead is a pass over
    every client per sentence: with a sentence per offer, that made explaining every
    client's list grow with the square of the clients (12 s at 10,000 clients).

    Example:
        >>> Population([3.0, 1.0, float("nan"), 2.0]).below(2.5), len(Population([1, 2]))
        (66, 2)
    """

    def __init__(self, values: Sequence[float] | np.ndarray) -> None:
        pop = np.asarray(values, dtype=float)
        self.sorted = np.sort(pop[np.isfinite(pop)])

    def __len__(self) -> int:
        return len(self.sorted)

    def below(self, value: float) -> int:
        """Whole percent (floored) of the population strictly below ``value``."""
        n = len(self.sorted)
        return math.floor(100 * (int(np.searchsorted(self.sorted, value, "left")) / n)) if n else 0

    def above(self, value: float) -> int:
        """Whole percent (floored) of the population strictly above ``value``."""
        n = len(self.sorted)
        after = n - int(np.searchsorted(self.sorted, value, "right"))
        return math.floor(100 * (after / n)) if n else 0


def reference_point(
    value: float | None, population: Population | Sequence[float] | np.ndarray | None
) -> tuple[str, str] | None:
    """Where ``value`` stands among ``population`` (every client's value), as
    ``(zh, en)``: "higher than 90% of clients" only when at least 90% are strictly
    lower (the figure is floored, so it is always true); "about the same as most
    clients" when neither side holds a majority (ties, as with many zeros)."""
    if value is None or population is None or (isinstance(value, float) and math.isnan(value)):
        return None
    pop = population if isinstance(population, Population) else Population(population)
    if len(pop) < 2:
        return None
    below, above = pop.below(value), pop.above(value)
    if below >= 50 and below >= above:
        return f"高于{below}%的客户", f"higher than {below}% of clients"
    if above >= 50:
        return f"低于{above}%的客户", f"lower than {above}% of clients"
    return "与多数客户相当", "about the same as most clients"


def factor_text(
    feature: str,
    value: float | None,
    contribution: float,
    population: Population | Sequence[float] | np.ndarray | None = None,
) -> tuple[str, str]:
    """One factor as ``(zh, en)``: the value, where it stands, and its effect (see the
    module docstring). ``contribution`` is the model's (``> 0`` raises the chance)."""
    doc = FEATURES.get(feature, UNDOCUMENTED)
    stated = value_phrase(doc, value)
    ref = reference_point(value, population)
    en_label = f"{doc.en[0].upper()}{doc.en[1:]}"
    zh_parts: list[str] = []
    en_parts: list[str] = []
    if stated is not None:
        zh_parts.append(stated[0])
        en_parts.append(stated[1])
        if ref is not None:
            zh_parts.append(ref[0])
            en_parts.append(ref[1])
    elif ref is not None:  # an index: only where it stands
        zh_parts.append(f"{doc.zh}{ref[0]}")
        en_parts.append(f"{en_label} {ref[1]}")
    else:
        zh_parts.append(doc.zh)
        en_parts.append(en_label)
    effect_zh, effect_en = EFFECT_PHRASES[contribution > 0]
    return "，".join(zh_parts) + f"；{effect_zh}", ", ".join(en_parts) + f"; {effect_en}"


def as_float(value: Any) -> float | None:
    """A feature value as a float, or ``None`` when missing."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v
