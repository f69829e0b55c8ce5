"""The lexical channel: BM25 (bm25s) over CJK unigrams + bigrams and Latin words.

It sees what the English embedding model cannot: Chinese-only titles.

``bm25s`` has no incremental add, and re-indexing a large kind takes seconds, so
updates go to a small *delta segment*: new or changed documents are scored there with
the same Lucene BM25 formula and the main index's corpus statistics, and the main
index's copies of replaced or removed documents are masked. When the delta and the
masked documents together pass :attr:`LexicalIndex.max_delta` (or 10 % of the main
index), the next search re-indexes everything; :meth:`LexicalIndex.save` writes only
live documents.

Example:
    >>> lex = LexicalIndex.build(["a", "b"], ["污水处理 MBR", "swine fever vaccine"])
    >>> lex.search("污水", k=5)[0]
    ['a']
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from scipy import sparse

from recsvc.errors import NotReady
from recsvc.files import replaced_folder
from recsvc.semantic.hits import RowHits, split_rows
from recsvc.semantic.postings import CANDIDATE_POSTINGS, Postings
from recsvc.semantic.text import tokenize
from recsvc.semantic.tokens import TokenLists

FORMAT = 1
#: The folder beside ``docs.json`` holding the BM25 matrix built from it.
MAPPED = "bm25.map"
#: The folder in :data:`MAPPED` holding the matrix split by :class:`Postings`.
SPLIT = "postings"
#: Queries scored together by :meth:`LexicalIndex.search_rows` (a block's scores are one
#: sparse matrix of at most this many rows).
QUERY_BLOCK = 256
log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every re-index at DEBUG


class LexicalIndex:
    """BM25 over one kind's documents, keyed by domain ids.

    Args:
        k1, b: BM25 parameters (Lucene variant, as bm25s's default).
    """

    max_delta = 2000
    #: Postings each term keeps for finding candidates (see :mod:`recsvc.semantic.postings`).
    candidate_postings = CANDIDATE_POSTINGS

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._keys: list[Hashable] = []  # the main segment, by position
        self._tokens = TokenLists([])
        self._pos: dict[Hashable, int] = {}
        self._dead: set[int] = set()  # main positions removed or replaced since indexing
        self._delta: dict[Hashable, list[str]] = {}
        self._df: Counter[str] = Counter()
        self._avgdl = 1.0
        self._bm25: bm25s.BM25 | None = None
        self._postings: Postings | None = None  # the BM25 weights, terms x documents
        self._folder: Path | None = None  # the mapped matrix's, when it was saved
        self._keys_array: np.ndarray | None = None  # _keys as an array (_key_array)

    @classmethod
    def build(cls, keys: Sequence[Hashable], texts: Sequence[str], **params: float) -> LexicalIndex:
        """Index ``texts`` (one per key)."""
        idx = cls(**params)
        idx._reindex(list(keys), [tokenize(t) for t in texts])
        return idx

    def __len__(self) -> int:
        return len(self._pos) - len(self._dead) + len(self._delta)

    def live(self) -> tuple[list[Hashable], list[list[str]]]:
        """Keys and token lists of every live document (main segment, then delta)."""
        keys = [k for i, k in enumerate(self._keys) if i not in self._dead]
        tokens = [self._tokens[i] for i in range(len(self._keys)) if i not in self._dead]
        return keys + list(self._delta), tokens + list(self._delta.values())

    def _reindex(self, keys: list[Hashable], tokens: list[list[str]]) -> None:
        self._keys, self._tokens, self._keys_array = keys, TokenLists(tokens), None
        self._pos = {k: i for i, k in enumerate(keys)}
        self._dead, self._delta = set(), {}
        self._df = Counter(t for doc in tokens for t in set(doc))
        self._avgdl = max(float(np.mean([len(t) for t in tokens])) if tokens else 1.0, 1.0)
        self._bm25, self._postings, self._folder = None, None, None
        if keys:
            bm = bm25s.BM25(k1=self.k1, b=self.b)
            bm.index([t or [""] for t in tokens], show_progress=False)
            self._bm25 = bm

    def compact(self) -> None:
        """Fold the delta segment into a fresh main index."""
        self._reindex(*self.live())

    def upsert(self, keys: Sequence[Hashable], texts: Sequence[str]) -> None:
        """Insert or replace documents (into the delta segment)."""
        for key, text in zip(keys, texts, strict=True):
            if key in self._pos:
                self._dead.add(self._pos[key])
            tokens = tokenize(text)
            self._delta[key] = tokens
            self._df.update(set(tokens))

    def remove(self, keys: Iterable[Hashable]) -> int:
        """Drop documents by key; returns how many were present."""
        n = 0
        for key in keys:
            found = self._delta.pop(key, None) is not None
            pos = self._pos.get(key)
            if pos is not None and pos not in self._dead:
                self._dead.add(pos)
                found = True
            n += found
        return n

    def erase(self, keys: Iterable[Hashable]) -> int:
        """Drop documents and re-index at once, so their tokens leave memory (an
        erasure; :meth:`remove` only hides them until the next compaction)."""
        n = self.remove(keys)
        if n:
            self.compact()
        return n

    def _delta_scores(self, query: list[str]) -> list[tuple[float, Hashable]]:
        n_docs = max(len(self), 1)
        q = Counter(query)
        out = []
        for key, tokens in self._delta.items():
            tf = Counter(tokens)
            norm = self.k1 * (1 - self.b + self.b * len(tokens) / self._avgdl)
            score = 0.0
            for term, q_count in q.items():
                f = tf.get(term, 0)
                if f:
                    df = self._df.get(term, 1)
                    idf = math.log(1 + (n_docs - df + 0.5) / (df + 0.5))
                    score += q_count * idf * f / (f + norm)  # Lucene: no (k1 + 1)
            if score > 0:
                out.append((score, key))
        return out

    def search(
        self, query: str, k: int, *, exclude: Iterable[Hashable] = ()
    ) -> tuple[list[Hashable], list[float]]:
        """Top ``k`` keys with a positive BM25 score for ``query``, best first (ties
        in index order)."""
        return self.search_many([query], k, excludes=[set(exclude)])[0]

    def search_many(
        self, queries: Sequence[str], k: int, *, excludes: Sequence[set[Hashable]] | None = None
    ) -> list[tuple[list[Hashable], list[float]]]:
        """:meth:`search` of each query (:meth:`search_rows`, a list per query)."""
        return split_rows(self.search_rows(queries, k, excludes=excludes), len(queries))

    def search_rows(
        self, queries: Sequence[str], k: int, *, excludes: Sequence[set[Hashable]] | None = None
    ) -> RowHits:
        """:meth:`search` of each query as flat arrays
        (:data:`~recsvc.semantic.hits.RowHits`), the main segment scored for a block of
        queries at once: one sparse product (queries x terms) @ (terms x documents)
        through each term's top postings (:class:`~recsvc.semantic.postings.Postings`),
        not a pass over each query's postings as bm25s makes (the portal's 230,000
        case searches at 100,000 clients took most of their time there)."""
        if len(self._delta) + len(self._dead) > max(self.max_delta, len(self._keys) // 10):
            self.compact()
        excludes = excludes if excludes is not None else [set() for _ in queries]
        tokens = [tokenize(q) for q in queries]
        rows: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for start in range(0, len(queries), QUERY_BLOCK):
            block = slice(start, start + QUERY_BLOCK)
            main = self._main_scores(tokens[block], k)
            pairs = zip(tokens[block], excludes[block], strict=True)
            for row, (query, excluded) in enumerate(pairs, start=start):
                if not query or k <= 0:
                    continue
                docs, values = self._best(main, row - start, k, excluded)
                found, values = self._key_array()[docs], values.astype(np.float64)
                if self._delta:
                    found, values = self._with_delta(query, excluded, found, values, k)
                rows.append(np.full(len(found), row, dtype=np.int64))
                keys.append(found)
                scores.append(values)
        if not rows:
            return np.zeros(0, np.int64), _objects([]), np.zeros(0, np.float64)
        return np.concatenate(rows), np.concatenate(keys), np.concatenate(scores)

    def _with_delta(
        self,
        query: list[str],
        excluded: set[Hashable],
        found: np.ndarray,
        values: np.ndarray,
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A query's best main-segment keys and scores merged with the delta segment's
        (scored in doubles), the ``k`` best; main-segment ties first."""
        delta = [(s, key) for s, key in self._delta_scores(query) if key not in excluded]
        merged = [*zip(values.tolist(), found.tolist(), strict=True), *delta]
        merged.sort(key=lambda sk: -sk[0])  # stable
        merged = merged[:k]
        return _objects([key for _, key in merged]), np.asarray([v for v, _ in merged])

    def _key_array(self) -> np.ndarray:
        """The main segment's keys as an array of objects, by position (made once per
        indexing)."""
        if self._keys_array is None:
            self._keys_array = _objects(self._keys)
        return self._keys_array

    def postings(self) -> Postings | None:
        """The main segment's BM25 weights, split for searching (``None`` without a main
        segment). The split is saved beside the matrix and mapped; one that was not
        (an index saved before it was) is made on first use: 1.6 s at 100,000 past
        cases, which :meth:`SemanticLayer.warm` spends before a request does."""
        if self._bm25 is not None and self._postings is None:
            sc = self._bm25.scores  # the saved (mapped) weights as terms x documents
            shape = (len(sc["indptr"]) - 1, int(sc["num_docs"]))
            weights = sparse.csr_matrix((sc["data"], sc["indices"], sc["indptr"]), shape)
            saved = None
            if self._folder is not None:
                saved = Postings.open(self._folder / SPLIT, weights, self.candidate_postings)
            self._postings = saved or Postings(weights, self.candidate_postings)
        return self._postings

    def _main_scores(self, queries: list[list[str]], k: int) -> Any:
        """BM25 scores of the main segment, one sparse row per query holding (at least)
        its ``k`` best documents (``None``: no main segment)."""
        postings = self.postings()
        if postings is None or self._bm25 is None:
            return None
        vocab = self._bm25.vocab_dict
        rows = [i for i, q in enumerate(queries) for t in q if t in vocab]
        cols = [vocab[t] for q in queries for t in q if t in vocab]
        weights = postings.weights
        counts = sparse.csr_matrix(
            (np.ones(len(rows), dtype=weights.dtype), (rows, cols)),
            shape=(len(queries), weights.shape[0]),
        )  # a repeated term counts as often as it occurs, as in bm25s
        return postings.scores(counts, k)

    def _best(
        self, scores: Any, row: int, k: int, excluded: set[Hashable]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions and values of the ``k`` best positive scores of one row, live and not
        ``excluded``, best first, ties in index order (none without a main segment)."""
        if scores is None:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        at = slice(scores.indptr[row], scores.indptr[row + 1])
        docs, values = scores.indices[at], scores.data[at]
        drop = [p for p in (self._pos.get(key) for key in excluded) if p is not None]
        keep = values > 0
        if self._dead or drop:
            keep &= ~np.isin(docs, np.fromiter((*self._dead, *drop), dtype=np.int64))
        docs, values = docs[keep], values[keep]
        if len(docs) > k:
            top = np.argpartition(-values, k - 1)[:k]
            kth = values[top].min()
            tied = np.flatnonzero(values >= kth)  # the k best and any ties with the k-th
            docs, values = docs[tied], values[tied]
        order = np.lexsort((docs, -values))[:k]
        return docs[order], values[order]

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` and ``docs.json`` (keys + tokens of live documents), and
        the BM25 matrix built from them beside it (:data:`MAPPED`), which :meth:`load`
        maps instead of indexing again.

        ``docs.json`` stays the canonical form: the matrix is derived (in bm25s's file
        format), tagged with the ``docs.json`` and the bm25s version it was built from,
        and ignored when either differs. An index with a delta segment (documents
        upserted or removed since it was indexed) saves no matrix: :meth:`load` indexes
        it again, as before.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        keys, tokens = self.live()
        key_type = "str" if keys and isinstance(keys[0], str) else "int"
        (folder / "docs.json").write_text(
            json.dumps({"keys": keys, "tokens": tokens}, ensure_ascii=False)
        )
        config = {"format": FORMAT, "k1": self.k1, "b": self.b, "key_type": key_type}
        config["count"] = len(keys)
        (folder / "config.json").write_text(json.dumps(config, indent=2))
        if not self._delta and not self._dead:  # else its matrix is not docs.json's: a
            self._write_mapped(folder)  # rebuild here would cost an import minutes at 1M
        return folder

    def _write_mapped(self, folder: Path) -> None:
        with replaced_folder(folder / MAPPED) as tmp:
            postings = self.postings()
            if self._bm25 is not None and postings is not None:
                self._bm25.save(str(tmp / "bm25"), show_progress=False)
                postings.save(tmp / SPLIT)
            np.save(tmp / "token_ids.npy", self._tokens.ids)
            np.save(tmp / "token_starts.npy", self._tokens.starts)
            df = [self._df.get(t, 0) for t in self._tokens.vocab]
            np.save(tmp / "document_counts.npy", np.asarray(df, dtype=np.int64))
            (tmp / "vocabulary.json").write_text(json.dumps(self._tokens.vocab, ensure_ascii=False))
            (tmp / "keys.json").write_text(json.dumps(self._keys, ensure_ascii=False))
            (tmp / "meta.json").write_text(json.dumps(_source(folder)))

    @classmethod
    def load(cls, folder: str | Path) -> LexicalIndex:
        """The inverse of :meth:`save`: the saved BM25 matrix mapped when it is of this
        ``docs.json``, else indexed again from the saved tokens."""
        folder = Path(folder)
        if not (folder / "config.json").exists():
            raise NotReady(f"no lexical index in {folder}; run `recsvc index build`")
        config = json.loads((folder / "config.json").read_text())
        idx = cls(k1=config["k1"], b=config["b"])
        cast = str if config["key_type"] == "str" else int
        if _current(folder):
            try:
                idx._open_mapped(folder, cast)
                return idx
            except (OSError, ValueError, KeyError) as exc:
                log.warning("BM25 matrix in %s unusable (%s); indexing again", folder, exc)
        docs = json.loads((folder / "docs.json").read_text())
        idx._reindex([cast(k) for k in docs["keys"]], docs["tokens"])
        return idx

    def _open_mapped(self, folder: Path, cast: Callable[[Any], Hashable]) -> None:
        """Take the main segment from :data:`MAPPED` (what :meth:`_reindex` computes)."""
        mapped = folder / MAPPED
        keys = [cast(k) for k in json.loads((mapped / "keys.json").read_text())]
        tokens = TokenLists.from_arrays(
            np.load(mapped / "token_ids.npy", mmap_mode="r"),
            np.load(mapped / "token_starts.npy"),
            json.loads((mapped / "vocabulary.json").read_text()),
        )
        df = np.load(mapped / "document_counts.npy")
        if len(tokens.starts) != len(keys) + 1 or len(df) != len(tokens.vocab):
            raise ValueError("token lists, keys and counts disagree")
        lengths = np.diff(tokens.starts)
        self._keys, self._tokens, self._keys_array = keys, tokens, None
        self._pos = {k: i for i, k in enumerate(keys)}
        self._dead, self._delta = set(), {}
        self._df = Counter(dict(zip(tokens.vocab, df.tolist(), strict=True)))
        self._avgdl = max(float(lengths.mean()) if len(keys) else 1.0, 1.0)
        self._bm25, self._postings = None, None
        if keys:
            self._bm25 = bm25s.BM25.load(str(mapped / "bm25"), mmap=True, show_progress=False)
            self._folder = mapped


def _source(folder: Path) -> dict[str, Any]:
    """Which ``docs.json`` (size, change time) and bm25s a saved matrix was built from."""
    st = (folder / "docs.json").stat()
    return {
        "format": FORMAT,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "bm25s": getattr(bm25s, "__version__", ""),
    }


def _current(folder: Path) -> bool:
    """Whether :data:`MAPPED` in ``folder`` was built from its ``docs.json``."""
    try:
        meta = json.loads((folder / MAPPED / "meta.json").read_text())
        return bool(meta == _source(folder))
    except (OSError, ValueError):
        return False


def _objects(values: Sequence[Hashable]) -> np.ndarray:
    """``values`` as a 1-D array of objects (a tuple key stays one element)."""
    return np.fromiter(values, dtype=object, count=len(values))
