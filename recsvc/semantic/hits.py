"""Search scopes and results.

A :class:`Scope` says who is asking. In portal scope (a logged-in client) only
catalogue entries and anonymised case summaries can come back: never another
client's id, name or commission text.

A batch of searches answers in :data:`RowHits`, flat arrays (no Python list per
query and hit); :func:`split_rows` gives each query its lists, :func:`first_of_rows`
keeps each query's best ``k``.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

import numpy as np

#: The hits of a batch of queries: ``(query row, key, score)`` arrays, sorted by row,
#: each row's best first.
RowHits = tuple[np.ndarray, np.ndarray, np.ndarray]

#: Case metadata a portal client may see (no commission id, no date, no client id).
PORTAL_CASE_META = ("product_code", "summary_zh")


@dataclass(frozen=True)
class Scope:
    """Who is asking: a librarian (sees everything) or one client's portal."""

    role: Literal["librarian", "portal"] = "librarian"
    client_id: int | None = None

    @classmethod
    def librarian(cls) -> Scope:
        return cls("librarian")

    @classmethod
    def portal(cls, client_id: int) -> Scope:
        return cls("portal", int(client_id))

    @property
    def is_portal(self) -> bool:
        return self.role == "portal"


@dataclass(frozen=True)
class SearchHit:
    """One result.

    Attributes:
        kind: ``commissions``, ``clients``, ``products`` or ``cases``.
        id: commission id / client id (int), product code / case id (str).
        score: the fused score (see :mod:`recsvc.semantic.fusion`; 1 is the best possible).
        channels: which channel(s) found it, e.g.
            ``{"dense": {"rank": 1, "score": 0.71}, "lexical": {"rank": 3, "score": 4.2}}``.
        title: display title (a case's title is its product name).
        summary: keywords / profile / description / the anonymised case summary.
        meta: extra fields: ``external_id`` and ``client_id`` (commissions, clients);
            ``product_code``, ``summary_zh`` (cases; in librarian scope also
            ``commission_id``, ``client_id``, ``ordered_on``); ``category`` (products).
    """

    kind: str
    id: int | str
    score: float
    channels: dict[str, dict[str, float]]
    title: str
    summary: str
    meta: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split_rows(hits: RowHits, n: int) -> list[tuple[list[Hashable], list[float]]]:
    """Each of ``n`` query rows' ``(keys, scores)`` lists, from :data:`RowHits`."""
    rows, keys, scores = hits
    bounds = np.searchsorted(rows, np.arange(n + 1)).tolist()
    key_list, score_list = keys.tolist(), scores.tolist()
    return [(key_list[a:b], score_list[a:b]) for a, b in pairwise(bounds)]


def first_of_rows(rows: np.ndarray, k: int) -> np.ndarray:
    """Whether each hit is among the first ``k`` of its query row (``rows`` sorted)."""
    return np.arange(len(rows)) - np.searchsorted(rows, rows) < k
