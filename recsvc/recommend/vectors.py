"""What the text space embeds and holds: the text of a commission and of a product, a
hash per text (tells a saved vector from a stale one), and :class:`Vectors`, a block of
dense and lexical vectors (:mod:`recsvc.recommend.text` builds and compares them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["Vectors", "commission_text", "product_text", "text_hashes"]


def text_hashes(texts: Sequence[str]) -> np.ndarray:
    """A 64-bit hash per text (tells a saved commission vector from a stale one)."""
    return pd.util.hash_array(np.asarray(texts, dtype=object)).astype(np.uint64)


def commission_text(df: pd.DataFrame) -> list[str]:
    """Title (zh and en) plus keywords of each commission row, as one string."""
    parts = [
        df[c].fillna("").astype(str) if c in df else pd.Series([""] * len(df), index=df.index)
        for c in ("title_zh", "title_en", "keywords")
    ]
    return [" ".join(p for p in row if p).strip() for row in zip(*parts, strict=True)]


def product_text(df: pd.DataFrame) -> list[str]:
    """Names and descriptions (zh and en) of each product row."""
    cols = ("name_zh", "name_en", "description_zh", "description_en")
    return [
        " ".join(str(r[c]) for c in cols if c in r and pd.notna(r[c])) for _, r in df.iterrows()
    ]


@dataclass
class Vectors:
    """A block of text vectors: dense (or ``None``) and lexical (LSA), both L2-normalised."""

    dense: np.ndarray | None
    lexical: np.ndarray

    def __len__(self) -> int:
        return int(self.lexical.shape[0])

    def take(self, rows: np.ndarray) -> Vectors:
        """The sub-block of the given row positions."""
        dense = None if self.dense is None else self.dense[rows]
        return Vectors(dense, self.lexical[rows])

    def save(self, folder: Path, name: str) -> None:
        """Write the block as ``<name>.lexical.npy`` (and ``<name>.dense.npy``)."""
        np.save(Path(folder) / f"{name}.lexical.npy", self.lexical)
        if self.dense is not None:
            np.save(Path(folder) / f"{name}.dense.npy", self.dense)

    @classmethod
    def open(cls, folder: Path, name: str) -> Vectors:
        """The block :meth:`save` wrote, mapped read-only (``OSError`` when absent)."""
        dense = Path(folder) / f"{name}.dense.npy"
        return cls(
            np.load(dense, mmap_mode="r") if dense.exists() else None,
            np.load(Path(folder) / f"{name}.lexical.npy", mmap_mode="r"),
        )
