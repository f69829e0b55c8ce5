"""The portal's privacy guard: which other clients' strings a sentence would quote.

A portal explanation never names another client nor quotes another client's commission
text; :class:`LeakGuard` finds the clients whose names, external ids or commission
titles a text contains, so the explainer can drop such a sentence.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LeakGuard"]


class LeakGuard:
    """Finds which clients' strings (names, ids, commission titles) a text contains.

    Strings of at least ``min_len`` characters are indexed by their first ``min_len``
    characters, with the lengths of the strings that start so; a text is checked by
    looking up each of its ``min_len``-grams and then its substring of each such length
    (results cached per text). A check costs a few lookups per character, however many
    strings share a prefix: comparing every string of a common prefix grew with the
    store (38 M comparisons for the portal lists of 10,000 clients).
    """

    def __init__(self, owners: dict[str, set[int]], min_len: int = 4) -> None:
        self.min_len = min_len
        self.index = {k.lower(): v for k, v in owners.items() if len(k) >= min_len}
        lengths: dict[str, set[int]] = {}
        for k in self.index:
            lengths.setdefault(k[:min_len], set()).add(len(k))
        self.by_prefix = {p: tuple(sorted(ls)) for p, ls in lengths.items()}
        self._cache: dict[str, frozenset[int]] = {}

    @classmethod
    def from_frames(cls, history: Any) -> LeakGuard:
        owners: dict[str, set[int]] = {}
        for col in ("name_zh", "name_en", "external_id"):
            if col in history.clients:
                for cid, v in zip(history.clients["client_id"], history.clients[col], strict=True):
                    if isinstance(v, str) and v.strip():
                        owners.setdefault(v.strip(), set()).add(int(cid))
        for col in ("title_zh", "title_en"):
            if col in history.commissions:
                c = history.commissions
                for cid, v in zip(c["client_id"], c[col], strict=True):
                    if isinstance(v, str) and v.strip():
                        owners.setdefault(v.strip(), set()).add(int(cid))
        return cls(owners)

    def owners(self, text: str) -> frozenset[int]:
        """Ids of every client one of whose strings occurs in ``text``."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        low = text.lower()
        found: set[int] = set()
        n, end = self.min_len, len(low)
        by_prefix, index = self.by_prefix, self.index
        for i in range(end - n + 1):
            for length in by_prefix.get(low[i : i + n], ()):
                if i + length > end:
                    break
                ids = index.get(low[i : i + length])
                if ids:
                    found |= ids
        result = frozenset(found)
        self._cache[text] = result
        return result
