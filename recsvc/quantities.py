"""The three numbers a librarian reads, named, rounded and formatted in one place.

Every surface (worklist, client page, offer cards, API, CLI, exports) shows the same
quantities under the same names:

- ``probability``: P(the client buys this offer within the horizon), per offer
  (the ranker's calibrated probability, ``Offer.score``);
- ``expected_value``: that probability × the offer's list price, in ¥, per offer
  (:func:`recsvc.recommend.offer.expected_value`);
- ``client_probability``: P(the client buys any value-added service within the
  horizon), per client (the value model's calibrated probability).

Probabilities are shown as percentages with one decimal and rounded to
:data:`PROBABILITY_DIGITS` where a file carries them as numbers; expected values as
whole yuan (``¥12,345``). A page, a CSV cell and an ``.xlsx`` number format therefore
agree to the digit.

Example:
    >>> percent(0.5381359480560218), yuan(21525.43792224087)
    ('53.8%', '¥21,525')
    >>> round_probability(0.5381359480560218), round_value(21525.43792224087)
    (0.538, 21525)
    >>> label("probability", "en", months=12)
    'P(buys this offer, 12 months)'
"""

from __future__ import annotations

import math
from typing import Any

from recsvc.store.labels import Label

__all__ = [
    "LABELS",
    "PERCENT_FORMAT",
    "PROBABILITY_DIGITS",
    "YUAN_FORMAT",
    "label",
    "percent",
    "round_probability",
    "round_value",
    "yuan",
]

#: Decimals a probability keeps as a number (0.538 = 53.8 %, the shown precision).
PROBABILITY_DIGITS = 3
#: Excel number formats of the two kinds of quantity (``.xlsx`` cells stay numbers).
PERCENT_FORMAT = "0.0%"
YUAN_FORMAT = '"¥"#,##0'

#: Names of the quantities in both languages (``{months}``: the horizon).
LABELS: dict[str, Label] = {
    "probability": Label("购买概率（{months} 个月内）", "P(buys this offer, {months} months)"),
    "expected_value": Label("期望价值（¥）", "Expected value (¥)"),
    "client_probability": Label("客户购买任一服务的概率", "P(buys any service, {months} months)"),
}


def label(name: str, lang: str, *, months: int = 12) -> str:
    """The label of quantity ``name`` in ``lang`` (``zh``, else English)."""
    return LABELS[name].text(lang).format(months=months)


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def round_probability(p: Any) -> float | None:
    """A probability to :data:`PROBABILITY_DIGITS` decimals (``None`` if not a number)."""
    v = _finite(p)
    return None if v is None else round(v, PROBABILITY_DIGITS)


def round_value(v: Any) -> int | None:
    """An amount in whole yuan (``None`` if not a number)."""
    x = _finite(v)
    return None if x is None else round(x)


def percent(p: Any) -> str:
    """``0.538…`` → ``'53.8%'`` (``'—'`` if not a number)."""
    v = round_probability(p)
    return "—" if v is None else f"{v * 100:.1f}%"


def yuan(v: Any) -> str:
    """``21525.43…`` → ``'¥21,525'`` (``'—'`` if not a number)."""
    x = round_value(v)
    return "—" if x is None else f"¥{x:,}"
