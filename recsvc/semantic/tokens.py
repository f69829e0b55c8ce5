"""Each main-segment document's tokens, compactly, as the lexical index keeps them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TokenLists"]


class TokenLists:
    """Each document's tokens, as ids into one vocabulary.

    The lexical index keeps them only to re-index and save. As lists of strings they
    took a gigabyte per server worker for 87k past cases (11M token references); as
    one ``int32`` array they take 45 MB.

    Attributes:
        ids: every document's token ids, one after the other.
        starts: where each document's ids start (one more entry than documents).
        vocab: the token of each id.
    """

    def __init__(self, tokens: Sequence[Sequence[str]]) -> None:
        ids: dict[str, int] = {}
        self.ids = np.fromiter(
            (ids.setdefault(t, len(ids)) for doc in tokens for t in doc),
            dtype=np.int32,
            count=sum(len(doc) for doc in tokens),
        )
        self.starts = np.cumsum([0, *(len(doc) for doc in tokens)], dtype=np.int64)
        self.vocab = list(ids)

    @classmethod
    def from_arrays(cls, ids: np.ndarray, starts: np.ndarray, vocab: list[str]) -> TokenLists:
        """Token lists over saved arrays (mapped or read) and their vocabulary."""
        out = cls([])
        out.ids, out.starts, out.vocab = ids, starts, vocab
        return out

    def __getitem__(self, i: int) -> list[str]:
        vocab = self.vocab
        return [vocab[j] for j in self.ids[self.starts[i] : self.starts[i + 1]].tolist()]
