"""BM25 scores of a block of queries, found through the top of each term's postings.

Scoring a query exhaustively touches every document that holds any of its terms. A
commission used as a query has about 76 tokens (CJK unigrams and bigrams, Latin
words), some of them common, so its postings reach most of the past cases: 41,076
postings per query at 10,000 clients, 408,478 at 100,000, and the portal's 230,000
case searches there grew with the square of the store (55 % of its precomputation).

So a query may run in two phases, as search engines do:

1. **Candidates** come from each term's :data:`CANDIDATE_POSTINGS` documents of highest
   BM25 weight only (term-centric static pruning, Carmel et al., SIGIR 2001): a query
   reaches at most that many documents per term whatever the corpus size.
2. **Scores** are exact: to the best :data:`CANDIDATES_PER_HIT` × k candidates the
   rest of their postings (those the head left out) are added.

Each query takes the cheaper way, counted in postings read: every posting of its terms,
or the head's plus the rest of its candidates' (measured at 10,000 and 100,000 clients,
a rest posting costs about what a head posting does, 5-6 ns). So the head is used only
where it saves work: 38 of 5,000 similar-case queries take it on the 10,000-client
demo store, 4,920 of 5,000 at 100,000 clients.

The scores returned are always the exact BM25 scores. Only *which* documents are
considered is approximate, and only for a query that took the head: its exhaustive
hits found only through a cut posting can be missed. What that costs is measured in
docs/semantic.md ("Lexical search at scale").

Example:
    >>> import numpy as np
    >>> from scipy import sparse
    >>> weights = sparse.csr_matrix(np.array([[1.0, 0.5, 0.2], [0.0, 2.0, 0.0]], np.float32))
    >>> postings = Postings(weights, keep=2)  # term 0 keeps documents 0 and 1
    >>> postings.head.toarray().tolist()
    [[1.0, 0.5, 0.0], [0.0, 2.0, 0.0]]
    >>> counts = sparse.csr_matrix(np.array([[1.0, 1.0]], np.float32))
    >>> postings.scores(counts, k=1).toarray().astype(float).round(2).tolist()  # tiny: exhaustive
    [[1.0, 2.5, 0.2]]
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

__all__ = ["CANDIDATES_PER_HIT", "CANDIDATE_POSTINGS", "Postings"]

#: Documents each term keeps for finding candidates: those of its highest BM25 weight.
CANDIDATE_POSTINGS = 1024
#: Candidates scored exactly per requested hit.
CANDIDATES_PER_HIT = 8


class Postings:
    """A terms x documents BM25 weight matrix, split into each term's top postings (the
    head, where candidates are found) and the rest (read only for candidates).

    Attributes:
        head: the top postings, terms x documents.
        rest: the others, documents x cut terms (a candidate's in one row).
        cut_terms: the terms that lost postings (``rest``'s columns).

    Args:
        weights: BM25 weights, terms x documents (the index's own matrix, not copied).
        keep: postings each term keeps in the head.
        split: ``(head, rest, cut_terms)`` of these weights, as :meth:`open` reads them
            (default: split here, 1.6 s at 100,000 past cases).
    """

    def __init__(
        self,
        weights: sparse.csr_matrix,
        keep: int = CANDIDATE_POSTINGS,
        *,
        split: tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray] | None = None,
    ) -> None:
        self.weights = weights
        self.keep = keep
        self.head, self.rest, self.cut_terms = split if split is not None else _split(weights, keep)
        self._every = np.diff(weights.indptr).astype(np.float64)  # postings per term
        self._in_head = np.diff(self.head.indptr).astype(np.float64)
        self._rest_per_document = self.rest.nnz / max(weights.shape[1], 1)

    def save(self, folder: str | Path) -> None:
        """Write the split into ``folder`` (new or private), for :meth:`open` to map."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, matrix in (("head", self.head), ("rest", self.rest)):
            for part in ("data", "indices", "indptr"):
                np.save(folder / f"{name}_{part}.npy", getattr(matrix, part))
        np.save(folder / "cut_terms.npy", self.cut_terms)
        (folder / "meta.json").write_text(json.dumps({"keep": self.keep, **_shape(self.weights)}))

    @classmethod
    def open(cls, folder: str | Path, weights: sparse.csr_matrix, keep: int) -> Postings | None:
        """The split :meth:`save` wrote, mapped, when it is of ``weights`` (their shape and
        number of postings) with ``keep`` postings per term; else ``None``."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "meta.json").read_text())
            if meta != {"keep": keep, **_shape(weights)}:
                return None
            parts = {
                f"{name}_{part}": np.load(folder / f"{name}_{part}.npy", mmap_mode="r")
                for name in ("head", "rest")
                for part in ("data", "indices", "indptr")
            }
            cut_terms = np.load(folder / "cut_terms.npy")
        except (OSError, ValueError):
            return None
        terms, documents = weights.shape
        head = sparse.csr_matrix(
            (parts["head_data"], parts["head_indices"], parts["head_indptr"]), (terms, documents)
        )
        rest = sparse.csr_matrix(
            (parts["rest_data"], parts["rest_indices"], parts["rest_indptr"]),
            (documents, len(cut_terms)),
        )
        return cls(weights, keep, split=(head, rest, cut_terms))

    def scores(self, counts: sparse.csr_matrix, k: int) -> sparse.csr_matrix:
        """Exact BM25 scores of each query's candidates, one sparse row per query.

        Args:
            counts: how often each term occurs in each query (queries x terms).
            k: hits each query needs. A query that takes the head keeps its
                :data:`CANDIDATES_PER_HIT` × ``k`` best candidates by their head score
                (and any tied with the last), to which the rest of their postings are
                then added; one whose head holds fewer than ``k`` documents is scored
                with every posting, so that it finds ``k`` whenever ``k`` match.
        """
        wanted = CANDIDATES_PER_HIT * max(k, 1)
        query_cut = counts[:, self.cut_terms]  # queries x cut terms
        through_head = counts @ self._in_head + wanted * self._rest_per_document
        by_head = (query_cut.getnnz(axis=1) > 0) & (through_head < counts @ self._every)
        if not by_head.any():
            return (counts @ self.weights).tocsr()
        head_rows = np.flatnonzero(by_head)
        found = dict(zip(head_rows.tolist(), _rows(counts[head_rows] @ self.head), strict=True))
        by_head[[row for row, (docs, _) in found.items() if len(docs) < k]] = False
        every_rows = np.flatnonzero(~by_head)
        found.update(
            zip(every_rows.tolist(), _rows(counts[every_rows] @ self.weights), strict=True)
        )
        docs, values = [], []
        for row in range(counts.shape[0]):
            row_docs, row_values = found[row]
            if by_head[row] and len(row_docs) > wanted:
                kth = np.partition(row_values, len(row_values) - wanted)[-wanted]
                best = row_values >= kth
                row_docs, row_values = row_docs[best], row_values[best]
            docs.append(row_docs)
            values.append(row_values)
        indptr = np.concatenate([[0], np.cumsum([len(d) for d in docs])])
        doc_of, value_of = np.concatenate(docs), np.concatenate(values)
        again = np.flatnonzero(np.repeat(by_head, np.diff(indptr)))
        row_of = np.repeat(np.arange(counts.shape[0]), np.diff(indptr))
        query = query_cut.toarray().astype(self.rest.dtype)
        value_of[again] += self._rest_of(query, row_of[again], doc_of[again])
        shape = (counts.shape[0], self.weights.shape[1])
        return sparse.csr_matrix((value_of, doc_of, indptr), shape=shape)

    def _rest_of(self, query: np.ndarray, rows: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """What the postings left out of the head add to each (query row, document);
        ``query``: the queries' counts of the cut terms (queries x cut terms)."""
        rest = self.rest[docs]  # one row per pair: the document's cut terms
        lengths = np.diff(rest.indptr)
        at = np.repeat((rows * query.shape[1]).astype(np.int32), lengths) + rest.indices
        added = query.ravel()[at] * rest.data  # one flat gather (a 2-D one took 2.5x as long)
        out = np.zeros(len(docs), dtype=rest.dtype)
        some = lengths > 0
        if some.any():
            out[some] = np.add.reduceat(added, rest.indptr[:-1][some])
        return out


def _rows(matrix: sparse.spmatrix) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each row of a sparse product as (columns, values) views."""
    m = matrix.tocsr()
    return [
        (m.indices[m.indptr[i] : m.indptr[i + 1]], m.data[m.indptr[i] : m.indptr[i + 1]])
        for i in range(m.shape[0])
    ]


def _shape(weights: sparse.csr_matrix) -> dict[str, int]:
    """What tells one weight matrix from another, as :meth:`Postings.open` checks it."""
    terms, documents = weights.shape
    return {"terms": int(terms), "documents": int(documents), "postings": int(weights.nnz)}


def _split(
    weights: sparse.csr_matrix, keep: int
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, np.ndarray]:
    """Each term's ``keep`` highest weights (ties: lower document first) as the head;
    the postings left out, as documents x cut terms; and the cut terms' ids (that
    matrix's columns)."""
    lengths = np.diff(weights.indptr)
    cut_terms = np.flatnonzero(lengths > keep)
    if not len(cut_terms):
        return (
            weights,
            sparse.csr_matrix((weights.shape[1], 0), dtype=weights.dtype),
            cut_terms,
        )
    term = np.repeat(np.arange(weights.shape[0]), lengths)
    order = np.lexsort((weights.indices, -weights.data, term))  # by term, best first
    rank = np.arange(len(order)) - weights.indptr[term[order]]
    kept = np.sort(order[rank < keep])
    indptr = np.concatenate([[0], np.cumsum(np.minimum(lengths, keep))])
    head = sparse.csr_matrix(
        (weights.data[kept], weights.indices[kept], indptr), shape=weights.shape
    )
    lost = order[rank >= keep]
    column = np.searchsorted(cut_terms, term[lost])
    rest = sparse.csr_matrix(
        (weights.data[lost], (weights.indices[lost], column)),
        shape=(weights.shape[1], len(cut_terms)),
    )
    return head, rest, cut_terms
