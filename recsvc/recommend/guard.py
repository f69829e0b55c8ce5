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
    characters; a text is checked by looking up each of its ``min_len``-grams and
    comparing the few strings that start there (results cached per text), so the check
    costs about one lookup per character, not one scan per client or per length.
    """

    def __init__(self, owners: dict[str, set[int]], min_len: int = 4) -> None:
        self.min_len = min_len
        self.index = {k.lower(): v for k, v in owners.items() if len(k) >= min_len}
        self.lengths = sorted({len(k) for k in self.index})
        self.by_prefix: dict[str, list[tuple[str, set[int]]]] = {}
        for k, v in self.index.items():
            self.by_prefix.setdefault(k[:min_len], []).append((k, v))
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
        n = self.min_len
        by_prefix = self.by_prefix
        for i in range(len(low) - n + 1):
            candidates = by_prefix.get(low[i : i + n])
            if candidates:
                for key, ids in candidates:
                    if low.startswith(key, i):
                        found |= ids
        result = frozenset(found)
        self._cache[text] = result
        return result
