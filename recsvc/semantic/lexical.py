"""The lexical channel: BM25 (bm25s) over CJK unigrams + bigrams and Latin words.

It sees what the English embedding model cannot: Chinese-only titles. ``bm25s`` has no
incremental add, so an update re-indexes the (small) corpus of one kind; the keys and
token lists are kept so that costs no tokenising and no database read.

Example:
    >>> lex = LexicalIndex.build(["a", "b"], ["污水处理 MBR", "swine fever vaccine"])
    >>> lex.search("污水", k=5)  # doctest: +ELLIPSIS
    (['a'], [...])
"""

from __future__ import annotations

import json
import logging
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np

from recsvc.errors import NotReady
from recsvc.semantic.text import tokenize

FORMAT = 1
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every re-index at DEBUG


class LexicalIndex:
    """BM25 over one kind's documents, keyed by domain ids.

    Args:
        k1, b: BM25 parameters.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._keys: list[Hashable] = []
        self._tokens: list[list[str]] = []
        self._pos: dict[Hashable, int] = {}
        self._bm25: bm25s.BM25 | None = None
        self._dirty = False

    @classmethod
    def build(cls, keys: Sequence[Hashable], texts: Sequence[str], **params: float) -> LexicalIndex:
        """Index ``texts`` (one per key)."""
        idx = cls(**params)
        idx._keys = list(keys)
        idx._tokens = [tokenize(t) for t in texts]
        idx._reindex()
        return idx

    def __len__(self) -> int:
        return len(self._keys)

    def _reindex(self) -> None:
        self._pos = {k: i for i, k in enumerate(self._keys)}
        self._bm25 = None
        if self._keys:
            bm = bm25s.BM25(k1=self.k1, b=self.b)
            bm.index([t or [""] for t in self._tokens], show_progress=False)
            self._bm25 = bm
        self._dirty = False

    def upsert(self, keys: Sequence[Hashable], texts: Sequence[str]) -> None:
        """Insert or replace documents; the BM25 matrix is rebuilt on the next search."""
        for key, text in zip(keys, texts, strict=True):
            tokens = tokenize(text)
            if key in self._pos:
                self._tokens[self._pos[key]] = tokens
            else:
                self._pos[key] = len(self._keys)
                self._keys.append(key)
                self._tokens.append(tokens)
        self._dirty = True

    def remove(self, keys: Iterable[Hashable]) -> int:
        """Drop documents by key; returns how many were present."""
        drop = {k for k in keys if k in self._pos}
        if drop:
            kept = [(k, t) for k, t in zip(self._keys, self._tokens, strict=True) if k not in drop]
            self._keys = [k for k, _ in kept]
            self._tokens = [t for _, t in kept]
            self._pos = {k: i for i, k in enumerate(self._keys)}
            self._dirty = True
        return len(drop)

    def search(
        self, query: str, k: int, *, exclude: Iterable[Hashable] = ()
    ) -> tuple[list[Hashable], list[float]]:
        """Top ``k`` keys with a positive BM25 score for ``query``, best first."""
        if self._dirty:
            self._reindex()
        tokens = tokenize(query)
        if self._bm25 is None or not tokens or k <= 0:
            return [], []
        scores = self._bm25.get_scores(tokens)
        for key in exclude:
            if key in self._pos:
                scores[self._pos[key]] = 0.0
        n_pos = int((scores > 0).sum())
        if not n_pos:
            return [], []
        top = min(k, n_pos)
        idx = np.argpartition(-scores, top - 1)[:top]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [self._keys[i] for i in idx], [float(scores[i]) for i in idx]

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` and ``docs.json`` (keys + tokens) into ``folder``.

        The BM25 matrix is rebuilt on load: it is fast, and it keeps the artifact
        independent of bm25s's file format.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        key_type = "str" if self._keys and isinstance(self._keys[0], str) else "int"
        (folder / "docs.json").write_text(
            json.dumps({"keys": self._keys, "tokens": self._tokens}, ensure_ascii=False)
        )
        config = {"format": FORMAT, "k1": self.k1, "b": self.b, "key_type": key_type}
        config["count"] = len(self)
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> LexicalIndex:
        """The inverse of :meth:`save`."""
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise NotReady(f"no lexical index in {folder}; run `recsvc index build`")
        config = json.loads((folder / "config.json").read_text())
        idx = cls(k1=config["k1"], b=config["b"])
        docs = json.loads((folder / "docs.json").read_text())
        cast = str if config["key_type"] == "str" else int
        idx._keys = [cast(k) for k in docs["keys"]]
        idx._tokens = docs["tokens"]
        idx._reindex()
        return idx
